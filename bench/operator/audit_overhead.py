"""What the audit stream costs the reconcile: the observer's work per status write (build the record, encode
it, enqueue it), with the sender thread shipping to moto's CloudWatch Logs, and the same while the endpoint
refuses every connection (an outage); plus the size of realistic records.

    .venv/bin/python bench/operator/audit_overhead.py [--records 20000]

moto runs in server mode on 127.0.0.1 (a free port); the outage endpoint is a free port nobody listens on.
Bounded: --records per phase (at most 200000). Writes bench/results/audit_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remediator.adapters.aws import logs_client
from remediator.adapters.cloudwatch_logs import CloudWatchLogsWriter
from remediator.pipeline.remediation.audit import AuditTrail
from remediator.pipeline.remediation.transition import Transition

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "audit_overhead.json"
GROUP = "/kube-remediator-bench/operator"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _remediation(i: int) -> dict[str, Any]:
    """A Remediation as it is after an Applying -> Verifying write (the record kind with the most in it)."""
    return {
        "metadata": {
            "namespace": "shop",
            "name": f"web-oom-{i:06d}",
            "uid": f"7f1c0d3e-0000-4000-8000-{i:012d}",
            "resourceVersion": str(100000 + i),
            "generation": 1,
        },
        "spec": {
            "target": {"kind": "Deployment", "name": "web", "podName": "web-5d8f7c9b4-x2k9p", "containerName": "app"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.973,
            "modelVersion": "2026-11-30T10-00-00Z-lgbm",
            "autoApply": True,
            "explanation": "OOMKilled (exit 137) at the container's memory limit; 3 restarts in 10 minutes",
            "errorEventRef": {"name": f"web-oom-{i:06d}"},
        },
        "status": {
            "phase": "Verifying",
            "reason": "Applied",
            "message": "applied; verifying for 300 s",
            "origin": "operator",
            "reasons": ["PolicyAllows", "Corroborated"],
            "evidence": [
                "web-5d8f7c9b4-x2k9p/app: OOMKilled, exit 137, 3 restarts",
                "web-5d8f7c9b4-q8w7e/app: OOMKilled, exit 137, 2 restarts",
            ],
            "change": {
                "kind": "Deployment",
                "name": "web",
                "before": {"limits": {"memory": "256Mi"}},
                "after": {"limits": {"memory": "384Mi"}},
                "patches": [{"kind": "Deployment", "name": "web", "patchType": "strategic", "body": {}}],
                "evict": [],
            },
            "proposedAt": "2026-12-02T08:00:00Z",
            "approvedAt": "2026-12-02T08:00:00Z",
            "appliedAt": "2026-12-02T08:00:01Z",
            "verifyUntil": "2026-12-02T08:05:01Z",
        },
    }


def _phase(trail: AuditTrail, n: int) -> list[float]:
    before = {"phase": "Applying", "reason": "Applying"}
    step = Transition("Verifying", "Applied", "applied; verifying for 300 s")
    bodies = [_remediation(i) for i in range(n)]
    took = []
    for rem in bodies:
        started = time.perf_counter()
        trail.transitioned(before, rem, step)
        took.append((time.perf_counter() - started) * 1e6)
    return took


def _summary(took: list[float]) -> dict[str, float]:
    return {
        "mean_us": round(statistics.fmean(took), 1),
        "p50_us": round(_pct(took, 0.50), 1),
        "p99_us": round(_pct(took, 0.99), 1),
        "max_us": round(max(took), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    n = max(100, min(args.records, 200_000))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = _free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("moto did not start") from None
                time.sleep(0.2)
        logs_client("us-east-1", url).create_log_group(logGroupName=GROUP)

        up = CloudWatchLogsWriter(logs_client("us-east-1", url), GROUP, "bench", capacity=n + 1, flush_seconds=0.2)
        up.start()
        reachable = _phase(AuditTrail(up), n)
        started = time.monotonic()
        while up.sent < n and time.monotonic() - started < 120:
            time.sleep(0.1)
        drain_s = time.monotonic() - started
        delivered = up.sent
        up.close(5)

        down_url = f"http://127.0.0.1:{_free_port()}"  # nothing listens: connection refused
        down = CloudWatchLogsWriter(logs_client("us-east-1", down_url), GROUP, "bench-down", capacity=n // 2)
        down.start()
        outage = _phase(AuditTrail(down), n)
        dropped = down.buffer.dropped
        down.close(0.5)
    finally:
        moto.terminate()
        moto.wait(10)

    sizes = [len(m.encode()) for m in _encoded_samples()]
    result = {
        "what": "AuditTrail.transitioned per status write: build + encode + enqueue (the reconcile's share)",
        "records_per_phase": n,
        "reachable": _summary(reachable),
        "outage_connection_refused": _summary(outage),
        "outage_buffer_capacity": n // 2,
        "outage_dropped_oldest": dropped,
        "delivered_to_moto": delivered,
        "drain_seconds_after_last_write": round(drain_s, 2),
        "record_bytes": {"mean": round(statistics.fmean(sizes)), "max": max(sizes)},
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _encoded_samples() -> list[str]:
    from remediator.domain import audit

    at = datetime.now(UTC)
    return [audit.encode(audit.decision_record({"phase": "Applying"}, _remediation(i), at)) for i in range(100)]


if __name__ == "__main__":
    main()
