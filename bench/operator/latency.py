"""Time from a Pod entering CrashLoopBackOff to its Remediation existing, against the floor (a bare watch
client's sight of the same status change) measured in the same run, and where the time goes on the API
server's clock (its audit log: every request the operator made between the status write and the Remediation).

    .venv/bin/python bench/operator/latency.py [--trials 100] [--preexisting 1000] [--time-limit 900]

One Deployment (1 replica, simulated by kwok) per trial; trials run one at a time: the bench writes the Pod's
status as a kubelet would (remediator_dev.devcluster.simulate.fail_pod, the Pod read beforehand so the status
write is the first request), then waits for the Remediation (30 s at most). Latencies are from just before the
status write is sent, on the bench's monotonic clock. `--preexisting N` creates N finished (Skipped)
Remediations in the namespace before the operator starts, so what grows with their number shows. The operator
runs as its own process with a propose-only policy. Writes bench/results/latency.json
(latency-preexisting-N.json with --preexisting N).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from harness import (
    GROUP,
    OPERATOR_USER,
    USER_AGENT,
    VERSION,
    Bench,
    bench_cluster,
    deployment,
    machine,
    operator_pid,
    percentile,
    summary_ms,
    wait_idle,
    write_result,
)

from remediator_dev.devcluster import audit
from remediator_dev.devcluster.simulate import fail_pod

NAMESPACE = "bench-latency"


def preexisting(bench: Bench, n: int) -> None:
    """N Remediations of workloads that do not exist, finished (Skipped) before the operator sees them."""

    def one(i: int) -> None:
        name = f"pre-{i:05d}"
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Remediation",
            "metadata": {"name": name},
            "spec": {"target": {"kind": "Deployment", "name": name}, "action": "restart_pod",
                     "errorType": "app_crash", "confidence": 0.5},
        }  # fmt: skip
        bench.custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "remediations", body)
        status = {"status": {"phase": "Skipped", "reason": "Bench", "message": "pre-existing (bench)"}}
        bench.custom.patch_namespaced_custom_object_status(GROUP, VERSION, NAMESPACE, "remediations", name, status)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))


def _wall(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def breakdown(requests: list[audit.Request], trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Per trial on the server's clock: the bench's status write, then every operator request up to and including
    the Remediation's create; summarised over the trials."""
    writes = {r.name: r for r in requests if r.key == "patch pods/status" and r.user_agent.startswith(USER_AGENT)}
    ops = sorted((r for r in requests if r.user == OPERATOR_USER), key=lambda r: r.received)
    seg: dict[str, list[float]] = defaultdict(list)
    per_key_ms: dict[str, list[float]] = defaultdict(list)
    per_key_count: Counter[str] = Counter()
    sequences: Counter[tuple[str, ...]] = Counter()
    examples: dict[tuple[str, ...], list[audit.Step]] = {}
    analysed = 0
    for trial in trials:
        write = writes.get(trial["pod"])
        if write is None or trial.get("remediation_ms") is None:
            continue
        limit = _wall(trial["sent_wall"] + trial["remediation_ms"] / 1000 + 1.0)
        window = audit.between(ops, write.received, limit)
        create = next((r for r in window if r.key == "create remediations" and r.code < 300), None)
        if create is None:
            continue
        before = [r for r in window if r.received <= create.received]
        # Requests about other objects (the timers of earlier trials' Remediations, peering) share the window
        # but not the path: the trial's own objects all carry its Deployment's name; lists carry none.
        path = [r for r in before if not r.name or trial["deployment"] in r.name or r.name == NAMESPACE]
        seg["other_operator_requests_in_window"].append(len(before) - len(path))
        ee = next((r for r in path if r.key == "create errorevents"), None)
        analysed += 1
        seg["status_write_ms"].append(write.seconds * 1000)
        seg["write_done_to_first_operator_request_ms"].append(
            (path[0].received - write.completed).total_seconds() * 1000
        )
        seg["write_done_to_remediation_created_ms"].append((create.completed - write.completed).total_seconds() * 1000)
        if ee is not None:
            seg["write_done_to_errorevent_create_answered_ms"].append(
                (ee.completed - write.completed).total_seconds() * 1000
            )
            seg["errorevent_answered_to_remediation_created_ms"].append(
                (create.completed - ee.completed).total_seconds() * 1000
            )
        span = (create.completed - path[0].received).total_seconds()
        busy = audit.busy_seconds(path)
        seg["operator_requests_on_path"].append(len(path))
        seg["server_busy_with_operator_requests_ms"].append(busy * 1000)
        seg["operator_between_requests_ms"].append((span - busy) * 1000)
        for r in path:
            per_key_ms[r.key].append(r.seconds * 1000)
            per_key_count[r.key] += 1
        keys = tuple(r.key for r in path)
        sequences[keys] += 1
        examples.setdefault(keys, audit.timeline(path, write.completed))
    if not analysed:
        return {"analysed_trials": 0}
    common, seen = sequences.most_common(1)[0]
    return {
        "analysed_trials": analysed,
        "segments": {
            k: {
                "p50": round(percentile(v, 50), 2),
                "p99": round(percentile(v, 99), 2),
                "mean": round(statistics.fmean(v), 2),
            }
            for k, v in seg.items()
        },
        "requests_on_critical_path": {
            k: {
                "per_trial": round(per_key_count[k] / analysed, 2),
                "p50_ms": round(percentile(v, 50), 2),
                "p99_ms": round(percentile(v, 99), 2),
                "max_ms": round(max(v), 2),
            }
            for k, v in sorted(per_key_ms.items(), key=lambda kv: -sum(kv[1]))
        },
        "most_common_sequence": {
            "trials": seen,
            "steps_ms_from_status_write_answered": [
                {"request": s.key, "code": s.code, "at_ms": round(s.start_ms, 2), "took_ms": round(s.took_ms, 2)}
                for s in examples[common]
            ],
        },
        "distinct_sequences": len(sequences),
    }


def _ratio(results: list[dict[str, Any]], half: int) -> float | None:
    first = [r["remediation_ms"] for r in results[:half] if r["remediation_ms"] is not None]
    second = [r["remediation_ms"] for r in results[half:] if r["remediation_ms"] is not None]
    if not first or not second:
        return None
    return round(percentile(second, 50) / percentile(first, 50), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--preexisting", type=int, default=0, help="finished Remediations in the namespace first")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for the trials, at most")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, audit log)")
    args = parser.parse_args()
    trials = max(2, min(args.trials, 5000))

    with bench_cluster(NAMESPACE, keep=args.keep) as bench:
        names = [f"lat-{i:04d}" for i in range(trials)]
        bench.create_deployments([deployment(n) for n in names])
        if args.preexisting:
            started = time.monotonic()
            preexisting(bench, args.preexisting)
            print(f"{args.preexisting} pre-existing Remediations in {time.monotonic() - started:.0f} s")
        pods = {p["metadata"]["labels"]["app"]: p for p in bench.running_pods(trials, timeout=60 + trials)}
        op = bench.start_operator()
        floor = bench.watch_failing_pods()
        remediations = bench.watch_custom("remediations")
        errorevents = bench.watch_custom("errorevents")
        # Let the operator's watches settle on the healthy state and finish with what it found at start-up.
        idle_s = wait_idle(operator_pid(op))
        print(f"operator idle {idle_s:.0f} s after /readyz")
        core = bench.core
        results: list[dict[str, Any]] = []
        deadline = time.monotonic() + args.time_limit
        for name in names:
            if time.monotonic() > deadline:
                print(f"time limit reached after {len(results)} trials")
                break
            pod_name = pods[name]["metadata"]["name"]
            pod = core.read_namespaced_pod(pod_name, NAMESPACE)
            sent, sent_wall = time.monotonic(), time.time()
            fail_pod(bench.api, NAMESPACE, pod_name, "crashloop", pod=pod)
            while name not in remediations.first and time.monotonic() - sent < 30:
                time.sleep(0.002)
            time.sleep(0.05)  # the floor and ErrorEvent watches, for the record
            trial: dict[str, Any] = {"deployment": name, "pod": pod_name, "sent_wall": sent_wall}
            for label, sight, key in (("floor_ms", floor, pod_name), ("errorevent_ms", errorevents, name),
                                      ("remediation_ms", remediations, name)):  # fmt: skip
                at = sight.first.get(key)
                trial[label] = round((at - sent) * 1000, 2) if at is not None else None
            results.append(trial)
        time.sleep(1)
        for s in (floor, remediations, errorevents):
            s.stop()
        op.stop()
        requests = bench.requests()
        log_tail = op.log_tail(20)

    def secs(label: str, rows: list[dict[str, Any]]) -> list[float]:
        return [r[label] / 1000 for r in rows if r[label] is not None]

    half = len(results) // 2
    missed = [r["deployment"] for r in results if r["remediation_ms"] is None]
    rem = summary_ms(secs("remediation_ms", results))
    floor_s = summary_ms(secs("floor_ms", results))
    result = {
        "what": "Pod status write (CrashLoopBackOff) sent -> Remediation seen by a watch; floor: the same status "
        "change seen by a bare watch; client monotonic clock. breakdown: server clock (audit log).",
        "command": "bench/operator/latency.py " + " ".join(sys.argv[1:]),
        "trials": trials,
        "measured": len(results) - len(missed),
        "missed": missed,
        "preexisting_remediations": args.preexisting,
        "remediation": rem,
        "errorevent": summary_ms(secs("errorevent_ms", results)),
        "floor_bare_watch": floor_s,
        "target": {
            "p50_ms_at_most": 25,
            "p99_ms_at_most": 60,
            "met": rem.get("p50_ms", 1e9) <= 25 and rem.get("p99_ms", 1e9) <= 60,
            "p99_over_floor_p99": round(rem["p99_ms"] / floor_s["p99_ms"], 1) if rem["n"] and floor_s["n"] else None,
        },
        "first_half": summary_ms(secs("remediation_ms", results[:half])),
        "second_half": summary_ms(secs("remediation_ms", results[half:])),
        "flat_second_over_first_half_p50": _ratio(results, half),
        "breakdown_server_clock": breakdown(requests, results),
        **machine(),
        "trials_raw": [{k: v for k, v in r.items() if k != "sent_wall"} for r in results],
    }
    shown = {k: v for k, v in result.items() if k not in ("trials_raw",)}
    print(json.dumps(shown, indent=2))
    if missed:
        print(log_tail)
    write_result("latency" if not args.preexisting else f"latency-preexisting-{args.preexisting}", result)
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
