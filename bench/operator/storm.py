"""A storm: K failing Pods over D Deployments at once (a bad rollout of a shared library), with the operator
running. Measures the Remediations created (one per Deployment wanted), duplicates, the time of the last
Remediation after a bare watch saw the last failing Pod, the operator's CPU and peak RSS, and the API requests
the operator made per failing Pod (from the API server's audit log, by verb and resource).

    .venv/bin/python bench/operator/storm.py [--pods 1000] [--deployments 100] [--timeout 600]

The Deployments carry the kwok failure annotation (crashloop), so every Pod fails 0.5 s after it starts; the
clock starts when the first Deployment is created. The operator runs as its own process with a propose-only
policy. Bounded: --timeout seconds after the Deployments are created, and a 10 s quiet period after the last
Deployment got its Remediation (to catch duplicates). Writes bench/results/storm-<pods>x<deployments>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from harness import (
    OPERATOR_USER,
    RssSampler,
    bench_cluster,
    cpu_seconds,
    deployment,
    machine,
    nodes_for,
    operator_pid,
    request_table,
    write_result,
)

from remediator_dev.devcluster import audit

NAMESPACE = "bench-storm"
QUIET_S = 10.0


def _log_lines(log: str, pattern: str, limit: int = 8) -> dict[str, int]:
    """Distinct log lines matching `pattern` (numbers and names folded), with how often each occurred."""
    seen: Counter[str] = Counter()
    for line in log.splitlines():
        if re.search(pattern, line):
            folded = re.sub(r"\b[0-9a-f]{8,}\b|\d+", "N", line.split("] ", 1)[-1])[:400]
            seen[folded] += 1
    return dict(seen.most_common(limit))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=600, help="seconds after the Deployments are created")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, audit log)")
    args = parser.parse_args()
    deployments = max(1, min(args.deployments, 1000))
    replicas = max(1, min(args.pods, 10_000) // deployments)
    pods = replicas * deployments
    names = [f"storm-{i:04d}" for i in range(deployments)]

    with bench_cluster(NAMESPACE, nodes=nodes_for(pods), keep=args.keep) as bench:
        op = bench.start_operator()
        pid = operator_pid(op)
        floor = bench.watch_failing_pods()
        remediations = bench.watch_custom("remediations")
        time.sleep(3)
        rss = RssSampler(pid)
        rss.start()
        cpu0, t0, wall0 = cpu_seconds(pid), time.monotonic(), time.time()
        bench.create_deployments([deployment(n, replicas, fail="crashloop") for n in names])
        created_s = time.monotonic() - t0
        print(f"{deployments} Deployments x {replicas} replicas created in {created_s:.1f} s")
        deadline = t0 + args.timeout
        last_progress = time.monotonic()
        covered = 0
        while time.monotonic() < deadline:
            now_covered = sum(1 for n in names if n in remediations.first)
            if now_covered != covered:
                covered, last_progress = now_covered, time.monotonic()
                print(f"  t={time.monotonic() - t0:6.1f} s: failing Pods seen {len(floor.first):5d}/{pods}, "
                      f"Deployments with a Remediation {covered}/{deployments}")  # fmt: skip
            if covered == deployments and len(floor.first) >= pods and time.monotonic() - last_progress > QUIET_S:
                break
            time.sleep(0.2)
        cpu1, t1, wall1 = cpu_seconds(pid), time.monotonic(), time.time()
        peak = rss.stop()
        floor.stop()
        remediations.stop()
        final = bench.remediations()
        op.stop()
        log = op.log()
        requests = bench.requests()

    timed_out = covered < deployments or len(floor.first) < pods
    last_pod = max(floor.first.values()) if floor.first else None
    rem_times = [remediations.first[n] for n in names if n in remediations.first]
    last_rem = max(rem_times) if rem_times else None
    per_target = Counter(((r.get("spec") or {}).get("target") or {}).get("name") for r in final)
    duplicates = sum(n - 1 for n in per_target.values() if n > 1)
    window = audit.between(
        audit.by_user(requests, OPERATOR_USER), datetime.fromtimestamp(wall0, UTC), datetime.fromtimestamp(wall1, UTC)
    )
    counts, errors = audit.counts(window), audit.error_counts(window)
    busy_s = t1 - t0
    result: dict[str, Any] = {
        "what": "K failing Pods over D Deployments created at once; operator running; audit-log request counts",
        "command": "bench/operator/storm.py " + " ".join(sys.argv[1:]),
        "pods": pods,
        "deployments": deployments,
        "timed_out": timed_out,
        "remediations": len(final),
        "deployments_with_remediation": covered,
        "duplicates": duplicates,
        "deployments_created_s": round(created_s, 2),
        "floor_last_failing_pod_s": round(last_pod - t0, 2) if last_pod else None,
        "last_remediation_s": round(last_rem - t0, 2) if last_rem else None,
        "last_remediation_after_floor_last_pod_s": round(last_rem - last_pod, 2) if last_rem and last_pod else None,
        "target_last_within_3s_of_floor": bool(last_rem and last_pod and last_rem - last_pod <= 3 and not duplicates),
        "operator_cpu_s": round(cpu1 - cpu0, 2),
        "operator_cpu_share_of_one_core": round((cpu1 - cpu0) / busy_s, 3),
        "operator_peak_rss_mb": peak,
        "measured_window_s": round(busy_s, 1),
        "api_requests": sum(counts.values()),
        "api_requests_per_failing_pod": round(sum(counts.values()) / pods, 2),
        "requests_by_verb_resource": dict(counts.most_common()),
        "error_answers_by_verb_resource_code": dict(errors.most_common()),
        "operator_log_422": _log_lines(log, r"\b422\b|Unprocessable"),
        "operator_log_errors": _log_lines(log, r"\bERROR\b|Traceback"),
        **machine(),
    }
    print(request_table(dict(counts), pods, dict(errors)))
    shown = {k: v for k, v in result.items() if k not in ("requests_by_verb_resource",)}
    print(json.dumps(shown, indent=2))
    write_result(f"storm-{pods}x{deployments}", result)
    return 1 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
