"""`remediator run` under tracemalloc, for bench/operator/memory.py: on SIGUSR1 it writes the Python allocations
still held, grouped by package and by line, to $REMEDIATOR_BENCH_TRACE_OUT (JSON), and keeps running.

    python bench/operator/traced_operator.py run [remediator run flags]
"""

from __future__ import annotations

import tracemalloc

tracemalloc.start(1)  # before any import: what importing costs is part of the answer

import json  # noqa: E402
import os  # noqa: E402
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
    lines = snapshot.statistics("lineno")[:15]
    total = sum(by_package.values())
    report = {
        "traced_mb": round(total / 2**20, 1),
        "by_package_mb": {k: round(v / 2**20, 2) for k, v in by_package.most_common(20)},
        "top_lines": [
            {
                "at": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
                "mb": round(s.size / 2**20, 2),
                "blocks": s.count,
            }
            for s in lines
        ],
    }
    out = os.environ["REMEDIATOR_BENCH_TRACE_OUT"]
    with open(out + ".tmp", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(out + ".tmp", out)


signal.signal(signal.SIGUSR1, dump)

from remediator.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
