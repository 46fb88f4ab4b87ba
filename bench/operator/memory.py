"""The operator's resident memory when idle, against the number of (healthy, kwok-simulated) Pods it watches,
and what dominates it: the cost of its imports (measured in fresh interpreters) and, with tracemalloc in one
extra run at the largest size, the Python allocations by package (kopf's per-object state, the Kubernetes
client, the model's numeric stack, the operator's own caches).

    .venv/bin/python bench/operator/memory.py [--pods 0,1000,5000,10000] [--settle 20] [--time-limit 1500]
        [--controllers-qps 500] [--trace-frames 1]

For each size in ascending order: the namespace is filled with Deployments of 100 replicas until that many Pods
run (the controller-manager and scheduler get --controllers-qps, so 10,000 Pods start in minutes, not the
quarter hour their default rates take), a fresh operator is started, and once it has handled what it listed
(its CPU use falls below 10% of a core) and --settle seconds more, its RSS is sampled for 5 s (the median is
reported). Sizes that would not finish inside --time-limit are skipped and named in the result. The traced run
keeps --trace-frames frames per allocation and names what holds the decoded objects still alive
(traced_operator.py). Writes bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import (
    REPO,
    bench_cluster,
    deployment,
    machine,
    nodes_for,
    operator_pid,
    rss_mb,
    wait_idle,
    write_result,
)

NAMESPACE = "bench-memory"
PER_DEPLOYMENT = 100
TRACED = Path(__file__).with_name("traced_operator.py")

_GUARD = "from remediator import cli\ncli.without_kubernetes_client()\n"
_IMPORTS = {
    "python": "",
    "kopf + kubernetes client (what kopf loads when it can)": "import kopf, kubernetes",
    # As `remediator run` imports them: without the generated client (cli.without_kubernetes_client).
    "kopf alone": f"{_GUARD}import kopf",
    "operator (remediator.run and its handlers)": f"{_GUARD}import remediator.run, remediator.handlers",
    "operator + classifier loaded": f"{_GUARD}import remediator.run, remediator.handlers\n"
    "from remediator_model.predict import Classifier\nClassifier.load()",
}


def import_costs() -> dict[str, float]:
    """RSS of a fresh interpreter after each set of imports (MB)."""
    out = {}
    for label, code in _IMPORTS.items():
        probe = (
            f"{code}\nfor l in open('/proc/self/status'):\n"
            "    if l.startswith('VmRSS:'): print(int(l.split()[1]) / 1024)"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
        out[label] = round(float(done.stdout.strip().splitlines()[-1]), 1) if done.returncode == 0 else -1.0
        if done.returncode != 0:
            print(f"import probe {label!r} failed: {done.stderr[-500:]}", file=sys.stderr)
    return out


def sample_rss(pid: int, seconds: float = 5.0) -> float:
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(rss_mb(pid))
        time.sleep(0.5)
    return round(statistics.median(samples), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", default="0,1000,5000,10000", help="Pod counts, comma-separated")
    parser.add_argument("--settle", type=float, default=20, help="seconds after /readyz before sampling")
    parser.add_argument("--time-limit", type=float, default=1500, help="seconds for all sizes, at most")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--trace-frames", type=int, default=1, help="tracemalloc frames per allocation (1-50)")
    parser.add_argument("--controllers-qps", type=float, default=500, help="controller-manager/scheduler rate")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sizes = sorted({max(0, min(int(n), 20_000)) for n in args.pods.split(",")})
    started = time.monotonic()
    imports = import_costs()
    print("RSS after imports (MB):", json.dumps(imports))

    rows: list[dict[str, Any]] = []
    skipped: list[int] = []
    traced: dict[str, Any] | None = None
    cluster = bench_cluster(
        NAMESPACE, nodes=nodes_for(max(sizes)), keep=args.keep, controllers_qps=max(1.0, args.controllers_qps)
    )
    with cluster as bench:
        have = 0
        per_pod_s = 0.05  # a first guess for the time a simulated Pod takes to start; refined as we go
        for size in sizes:
            need = (size - have) // PER_DEPLOYMENT
            left = args.time_limit - (time.monotonic() - started)
            if need * PER_DEPLOYMENT * per_pod_s + args.settle + 60 > left:
                skipped.append(size)
                continue
            t = time.monotonic()
            first = have // PER_DEPLOYMENT
            bench.create_deployments([deployment(f"idle-{i:04d}", PER_DEPLOYMENT) for i in range(first, first + need)])
            have += need * PER_DEPLOYMENT
            if have:
                bench.running_pods(have, timeout=max(60.0, left - args.settle - 30))
                if need:
                    per_pod_s = (time.monotonic() - t) / (need * PER_DEPLOYMENT)
            op = bench.start_operator()
            ready_s = time.monotonic() - t
            busy_s = wait_idle(operator_pid(op))
            time.sleep(args.settle)
            row = {
                "pods": have,
                "rss_mb": sample_rss(operator_pid(op)),
                "pods_started_and_operator_ready_s": round(ready_s, 1),
                "operator_busy_after_ready_s": round(busy_s, 1),
            }
            op.stop()
            rows.append(row)
            print(f"{have:>6} Pods: operator RSS {row['rss_mb']} MB")
        left = args.time_limit - (time.monotonic() - started)
        if not args.no_trace and left > args.settle + 60:
            traced = trace(bench, have, args.settle, max(1, min(args.trace_frames, 50)))

    result = {
        "what": "operator RSS idle (median of 5 s after --settle) against healthy simulated Pods it watches",
        "command": "bench/operator/memory.py " + " ".join(sys.argv[1:]),
        "results": rows,
        "skipped_sizes_for_time": skipped,
        "rss_after_imports_mb": imports,
        "tracemalloc": traced,
        "target": {"idle_1k_pods_mb_at_most": 200, "idle_10k_pods_mb_at_most": 300},
        **machine(),
    }
    print(json.dumps(result, indent=2))
    write_result("memory", result)
    return 0


def trace(bench: Any, pods: int, settle: float, frames: int) -> dict[str, Any]:
    """One more operator run under tracemalloc (bench/operator/traced_operator.py); SIGUSR1 makes it write the
    allocations still held, grouped by package, and what holds the decoded objects still alive."""
    out = bench.work / "tracemalloc.json"
    env = {"REMEDIATOR_BENCH_TRACE_OUT": str(out), "REMEDIATOR_BENCH_TRACE_FRAMES": str(frames)}
    op = bench.start_operator(env=env, start=False)
    op.proc.argv = [sys.executable, str(TRACED), "run"]
    op.start(180)
    wait_idle(operator_pid(op), timeout=300)
    time.sleep(settle)
    pid = operator_pid(op)
    rss = rss_mb(pid)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 300
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    op.stop()
    if not out.exists():
        return {"error": "no tracemalloc snapshot written", "log": op.log_tail(20)}
    snap = json.loads(out.read_text())
    return {"pods": pods, "rss_mb_traced_run": round(rss, 1), **snap}


if __name__ == "__main__":
    sys.exit(main())
