"""Time from a Pod entering CrashLoopBackOff to its Remediation existing, over N trials on the local
control plane, with the operator running as its own process (as in production).

    .venv/bin/python bench/operator/crashloop_latency.py [--trials 100] [--model DIR]

Prints p50/p90/p99/max and writes bench/results/crashloop_latency.json.
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
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

from remediator_dev.devcluster.cluster import DevCluster
from remediator_dev.devcluster.simulate import fail_pod

RESULTS = Path(__file__).resolve().parents[1] / "results" / "crashloop_latency.json"
NAMESPACE = "remediator-bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "bench/app:1.0"}]}}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--model", help="artifact directory (default: the shipped model)")
    args = parser.parse_args()

    kubeconfig = DevCluster().up()
    api = config.new_client_from_config(str(kubeconfig))
    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    try:
        core.delete_namespace(NAMESPACE)
        while True:
            core.read_namespace(NAMESPACE)
            time.sleep(1)
    except client.ApiException:
        pass
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    # Propose only: the measured path ends when the Remediation exists; applying would only add load.
    custom.create_namespaced_custom_object("remediator.dev", "v1alpha1", NAMESPACE, "remediationpolicies", {
        "apiVersion": "remediator.dev/v1alpha1", "kind": "RemediationPolicy", "metadata": {"name": "bench"},
        "spec": {"autoApplyThreshold": 1.0}})
    names = [f"lat-{i:03d}" for i in range(args.trials)]
    for name in names:
        apps.create_namespaced_deployment(NAMESPACE, _deployment(name))

    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="remediator-bench-")) / "operator.log"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "REMEDIATOR_NAMESPACES": NAMESPACE,
           "REMEDIATOR_METRICS_PORT": str(port), "REMEDIATOR_PEERING": "remediator-bench"}
    if args.model:
        env["REMEDIATOR_MODEL_PATH"] = args.model
    with log.open("wb") as out:
        operator = subprocess.Popen([sys.executable, "-m", "remediator.cli", "run"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch_remediations() -> None:
        w = watch.Watch()
        while not stop.is_set():
            for event in w.stream(custom.list_namespaced_custom_object, "remediator.dev", "v1alpha1", NAMESPACE,
                                  "remediations", timeout_seconds=5):
                target = event["object"]["spec"]["target"]["name"]
                seen.setdefault(target, time.monotonic())

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise SystemExit(f"operator not ready:\n{log.read_text()[-2000:]}")
        threading.Thread(target=watch_remediations, daemon=True).start()
        running: dict[str, str] = {}
        while len(running) < len(names) and time.monotonic() < deadline + 120:
            for pod in core.list_namespaced_pod(NAMESPACE).items:
                if pod.status.phase == "Running":
                    running[pod.metadata.labels["app"]] = pod.metadata.name
            time.sleep(1)
        time.sleep(3)  # let the watch settle on the healthy state
        latencies: list[float] = []
        misses: list[str] = []
        for name in names:
            start = time.monotonic()
            fail_pod(api, NAMESPACE, running[name], "crashloop")
            while name not in seen and time.monotonic() - start < 30:
                time.sleep(0.005)
            if name in seen:
                latencies.append(seen[name] - start)
            else:
                misses.append(name)
    finally:
        stop.set()
        operator.terminate()
        operator.wait(timeout=20)

    ms = [x * 1000 for x in latencies]
    result = {
        "trials": args.trials, "measured": len(ms), "missed": len(misses),
        "p50_ms": round(_percentile(ms, 50), 1), "p90_ms": round(_percentile(ms, 90), 1),
        "p99_ms": round(_percentile(ms, 99), 1), "max_ms": round(max(ms), 1), "mean_ms": round(statistics.mean(ms), 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
        "command": f"bench/operator/crashloop_latency.py --trials {args.trials}",
    }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
