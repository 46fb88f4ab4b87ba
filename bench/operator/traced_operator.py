"""`remediator run` under tracemalloc, for bench/operator/memory.py: on SIGUSR1 it writes the Python allocations
still held, grouped by package and by line, to $REMEDIATOR_BENCH_TRACE_OUT (JSON), and keeps running.

    python bench/operator/traced_operator.py run [remediator run flags]

$REMEDIATOR_BENCH_TRACE_FRAMES (default 1) frames are kept per allocation; with more, each of the largest
lines also names the innermost frames that are not the standard library's (who decoded it). The report also
counts the decoded Kubernetes objects still alive by kind and, for a few Pods, names what keeps them alive
(the chain of referrers up to a module, a class instance or a task): the answer to "which structure holds them".
"""

from __future__ import annotations

import os
import tracemalloc

tracemalloc.start(int(os.environ.get("REMEDIATOR_BENCH_TRACE_FRAMES") or 1))  # before any import but os: what
# importing costs is part of the answer

import gc  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from types import FrameType  # noqa: E402


def package(filename: str) -> str:
    """The distribution or area a source file belongs to."""
    if "site-packages/" in filename:
        top = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    for marker, name in (("/operator/remediator/", "remediator"), ("/model/remediator_model/", "remediator_model"),
                         ("/dev/remediator_dev/", "remediator_dev")):  # fmt: skip
        if marker in filename:
            return name
    if filename.startswith("<frozen"):
        return "import machinery (code objects)"
    if "/lib/python3" in filename:
        return "stdlib:" + filename.split("/lib/python3", 1)[1].split("/", 2)[1].removesuffix(".py")
    return filename


def dump(_signum: int, _frame: FrameType | None) -> None:
    snapshot = tracemalloc.take_snapshot()
    by_package: Counter[str] = Counter()
    for stat in snapshot.statistics("filename"):
        by_package[package(stat.traceback[0].filename)] += stat.size
    frames = tracemalloc.get_traceback_limit()
    lines = snapshot.statistics("traceback" if frames > 1 else "lineno")[:15]
    total = sum(by_package.values())
    _, peak = tracemalloc.get_traced_memory()
    report = {
        "traced_mb": round(total / 2**20, 1),
        "traced_peak_mb": round(peak / 2**20, 1),  # the high-water mark: RSS seldom falls back from it
        "by_package_mb": {k: round(v / 2**20, 2) for k, v in by_package.most_common(20)},
        "top_lines": [
            {
                "at": f"{s.traceback[-1].filename}:{s.traceback[-1].lineno}",  # the most recent frame
                "mb": round(s.size / 2**20, 2),
                "blocks": s.count,
                **({"callers": callers(s.traceback)} if frames > 1 else {}),
            }
            for s in lines
        ],
        **({"json_decoded_mb_by_caller": json_callers(snapshot)} if frames > 1 else {}),
        "objects_alive": objects_alive(),
    }
    out = os.environ["REMEDIATOR_BENCH_TRACE_OUT"]
    with open(out + ".tmp", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(out + ".tmp", out)


def json_callers(snapshot: tracemalloc.Snapshot) -> dict[str, float]:
    """The JSON documents still held, by the code that decoded them (its two innermost frames of its own)."""
    by: Counter[str] = Counter()
    for stat in snapshot.statistics("traceback"):
        if "/json/" in stat.traceback[-1].filename:
            by[" < ".join(callers(stat.traceback)[:2])] += stat.size
    return {k: round(v / 2**20, 2) for k, v in by.most_common(8)}


def callers(traceback: tracemalloc.Traceback) -> list[str]:
    """The innermost frames outside the standard library and the import machinery (most recent first)."""
    own = [f for f in reversed(traceback) if "/lib/python3" not in f.filename or "site-packages/" in f.filename]
    return [f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno}" for f in own if "<frozen" not in f.filename][:6]


def _is_k8s_object(obj: object) -> bool:
    if type(obj) is not dict:
        return False
    meta = obj.get("metadata")
    return type(meta) is dict and "uid" in meta and "resourceVersion" in meta and ("spec" in obj or "status" in obj)


def _kind(obj: dict) -> str:  # type: ignore[type-arg]
    if obj.get("kind"):
        return str(obj["kind"])
    spec = obj.get("spec") or {}
    return "Pod (no kind)" if "containers" in spec else "? (no kind)"


def _describe(obj: object) -> str:
    if type(obj) is dict:
        keys = list(obj)[:6]
        return f"dict{keys}"
    if type(obj) in (list, tuple, set):
        return f"{type(obj).__name__}[{len(obj)}]"  # type: ignore[arg-type]
    if type(obj).__name__ == "frame":
        code = obj.f_code  # type: ignore[attr-defined]
        return f"frame {code.co_name} {code.co_filename.rsplit('site-packages/', 1)[-1]}:{obj.f_lineno}"  # type: ignore[attr-defined]
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _holders(obj: object, ignore: set[int], depth: int = 12) -> list[str]:
    """One chain of referrers from `obj` upwards: at each step the first referrer that is not this walk's own
    state (`ignore`: ids of its lists and frames), until a module, a task or an object of kopf or ours."""
    chain: list[str] = []
    seen = {id(obj)}
    here = obj
    for _ in range(depth):
        refs = [r for r in gc.get_referrers(here) if id(r) not in seen and id(r) not in ignore and r is not chain]
        if not refs:
            break
        here = refs[0]
        seen.add(id(here))
        chain.append(_describe(here) + (f" (+{len(refs) - 1} more referrers)" if len(refs) > 1 else ""))
        kind = type(here)
        if kind.__name__ in ("module", "Task") or (
            kind is not dict and kind.__module__.startswith(("kopf", "remediator"))
        ):
            break
    return chain


def objects_alive() -> dict[str, object]:
    """The decoded Kubernetes objects still alive, by kind (a uid seen twice: a second copy), and who holds
    a few of the Pods."""
    gc.collect()
    found = [o for o in gc.get_objects() if _is_k8s_object(o)]
    kinds: Counter[str] = Counter(_kind(o) for o in found)
    uids: Counter[str] = Counter(o["metadata"]["uid"] for o in found)
    pods = [o for o in found if _kind(o).startswith("Pod")]
    samples = [pods[i] for i in range(0, len(pods), max(1, len(pods) // 4))][:4]
    frame = sys._getframe()
    ignore = {id(found), id(pods), id(samples)}
    while frame is not None:
        ignore.add(id(frame))
        frame = frame.f_back  # type: ignore[assignment]
    report = {
        "by_kind": dict(kinds.most_common(12)),
        "copies_of_one_uid_max": max(uids.values(), default=0),
        "pod_holders": [_holders(p, ignore) for p in samples],
    }
    del found, pods, samples
    return report


signal.signal(signal.SIGUSR1, dump)

from remediator.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
