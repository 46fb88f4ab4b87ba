"""What incident tracing costs the failure -> Remediation latency: three operators (own processes, as in
production) on one private local control plane, one namespace each: tracing off; on, exporting to a real
OpenTelemetry Collector; on, with the collector down (nothing listens on its port). Trials are interleaved
(trial i fails one Pod in each namespace, the order rotating), so all three see the same machine load.

    .venv/bin/python bench/tracing/overhead.py [--trials 40]

Bounded: --trials per mode (at most 60), 30 s per trial. Prints p50/p95 per mode and writes
bench/results/tracing_overhead.json. Needs the control plane's binaries and otelcol (hack/build-tools.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster
from remediator_dev.devcluster.simulate import fail_pod
from tests.fixtures.otelcol import find_or_build_otelcol, start_otelcol
from tests.fixtures.procs import LOOPBACK, free_port

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "tracing_overhead.json"
MODES = ("off", "on", "collector-down")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "bench/app:1.0"}]},
            },
        },
    }


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _metric(port: int, name: str) -> dict[str, float]:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line.rsplit(" ", 1)
            out[labels[len(name) :]] = float(value)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40, help="trials per mode (at most 60)")
    args = parser.parse_args()
    trials = max(1, min(args.trials, 60))

    work = Path(tempfile.mkdtemp(prefix="remediator-trace-bench-"))
    dev = DevCluster(work / "cluster", nodes=3)  # 110 Pods per simulated node at most
    collector = None
    operators: list[subprocess.Popen[bytes]] = []
    try:
        kubeconfig = dev.up(timeout=240)
        kubectl = [str(binaries.bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}"]
        subprocess.run([*kubectl, "apply", "--server-side", "-f", str(REPO / "crds")], check=True, capture_output=True)
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds")],
            check=True,
            capture_output=True,
        )
        api = config.new_client_from_config(str(kubeconfig))
        core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
        collector = start_otelcol(find_or_build_otelcol(), work / "otelcol")
        endpoints = {"on": collector.endpoint, "collector-down": f"http://{LOOPBACK}:{free_port()}"}
        names = [f"lat-{i:03d}" for i in range(trials)]
        ports: dict[str, int] = {}
        for mode in MODES:
            ns = f"trace-{mode}"
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
            # Propose only: the measured path ends when the Remediation exists.
            custom.create_namespaced_custom_object(
                "remediator.dev",
                "v1alpha1",
                ns,
                "remediationpolicies",
                {
                    "apiVersion": "remediator.dev/v1alpha1",
                    "kind": "RemediationPolicy",
                    "metadata": {"name": "bench"},
                    "spec": {"autoApplyThreshold": 1.0},
                },
            )
            for name in names:
                apps.create_namespaced_deployment(ns, _deployment(name))
            ports[mode] = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("REMEDIATOR_", "OTEL_"))}
            env.update(
                KUBECONFIG=str(kubeconfig),
                REMEDIATOR_NAMESPACES=ns,
                REMEDIATOR_POLICY_NAMESPACE=ns,
                REMEDIATOR_METRICS_PORT=str(ports[mode]),
                REMEDIATOR_PEERING=f"bench-{mode}",
            )
            if mode != "off":
                env.update(REMEDIATOR_TRACING_ENABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT=endpoints[mode])
            with (work / f"operator-{mode}.log").open("wb") as out:
                operators.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "remediator.cli", "run"],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        cwd=REPO,
                    )
                )
        deadline = time.monotonic() + 90
        while not all(_ready(p) for p in ports.values()):
            if time.monotonic() > deadline:
                raise SystemExit(f"operators not ready; logs in {work}")
            time.sleep(0.5)

        seen: dict[tuple[str, str], float] = {}
        stop = threading.Event()

        def watch_remediations() -> None:
            w = watch.Watch()
            while not stop.is_set():
                for event in w.stream(
                    custom.list_cluster_custom_object, "remediator.dev", "v1alpha1", "remediations", timeout_seconds=5
                ):
                    obj = event["object"]
                    seen.setdefault((obj["metadata"]["namespace"], obj["spec"]["target"]["name"]), time.monotonic())

        threading.Thread(target=watch_remediations, daemon=True).start()
        running: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + 240
        while len(running) < trials * len(MODES) and time.monotonic() < deadline:
            for mode in MODES:
                for pod in core.list_namespaced_pod(f"trace-{mode}").items:
                    if pod.status.phase == "Running":
                        running[(f"trace-{mode}", pod.metadata.labels["app"])] = pod.metadata.name
            time.sleep(1)
        if len(running) < trials * len(MODES):
            raise SystemExit(f"only {len(running)} of {trials * len(MODES)} Pods running after 240 s")
        time.sleep(3)  # let the watches settle on the healthy state

        latencies: dict[str, list[float]] = {m: [] for m in MODES}
        misses: dict[str, int] = dict.fromkeys(MODES, 0)
        for i, name in enumerate(names):
            order = MODES[i % 3 :] + MODES[: i % 3]
            for mode in order:
                key = (f"trace-{mode}", name)
                start = time.monotonic()
                fail_pod(api, key[0], running[key], "crashloop")
                while key not in seen and time.monotonic() - start < 30:
                    time.sleep(0.005)
                if key in seen:
                    latencies[mode].append((seen[key] - start) * 1000)
                else:
                    misses[mode] += 1
                time.sleep(0.2)
        stop.set()
        time.sleep(6)  # one batch interval (OTEL_BSP_SCHEDULE_DELAY, 5 s): the last spans are exported
        counters = {m: _metric(ports[m], "remediator_trace_spans_total") for m in MODES if m != "off"}
        for proc in operators:  # a graceful stop exports what is still queued
            proc.terminate()
            proc.wait(timeout=20)
        spans = collector.spans()
    finally:
        for proc in operators:
            proc.terminate()
        for proc in operators:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if collector is not None:
            collector.stop()
        dev.down()

    load = os.getloadavg()
    result: dict[str, Any] = {
        "trials_per_mode": trials,
        "modes": {
            m: {
                "measured": len(v),
                "missed": misses[m],
                "p50_ms": round(_pct(v, 50), 1) if v else None,
                "p95_ms": round(_pct(v, 95), 1) if v else None,
                "mean_ms": round(statistics.mean(v), 1) if v else None,
            }
            for m, v in latencies.items()
        },
        "spans_in_collector": len(spans),
        "traces_in_collector": len({s.trace_id for s in spans}),
        "span_counters": counters,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average_after": [round(x, 2) for x in load],
        "note": "2 cores shared with other jobs during the run (see load_average_after); interleaved trials",
        "date": time.strftime("%Y-%m-%d"),
        "command": f"bench/tracing/overhead.py --trials {trials}",
    }
    print(json.dumps(result, indent=2))
    for m in MODES:
        r = result["modes"][m]
        print(f"{m:>15}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms ({r['measured']} measured, {r['missed']} missed)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if not any(misses.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
