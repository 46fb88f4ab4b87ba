"""What the operator costs while Remediations only wait: API requests per second and CPU of the operator
process with 0, 100 (and 1,000) Remediations pending approval, on a private local control plane.

    .venv/bin/python bench/operator/idle_cost.py [--pending 0,100,1000] [--window 20] [--output FILE]

Requests are the API server's own count (`apiserver_request_total`, watches excepted): on remediations,
which only the operator reads while a window is measured, and in all (the control plane's own included).
CPU is the operator's utime+stime over the window (/proc), as % of one core. Every step is bounded in time;
the cluster and the operator are stopped at the end. Writes bench/results/idle_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config

import remediator
from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "idle_cost.json"
NAMESPACE = "remediator-idle"
GROUP, VERSION = "remediator.dev", "v1alpha1"
_SAMPLE = re.compile(r"^apiserver_request_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kubectl(kubeconfig: Path, *args: str) -> str:
    argv = [str(binaries.bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout


def _requests(kubeconfig: Path) -> tuple[float, float]:
    """(requests on remediations, requests in all), watches excepted, as the API server counts them."""
    rems = total = 0.0
    for labels, value in _SAMPLE.findall(_kubectl(kubeconfig, "get", "--raw", "/metrics")):
        if 'verb="WATCH"' in labels:
            continue
        total += float(value)
        if 'resource="remediations"' in labels:
            rems += float(value)
    return rems, total


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "bench/app:1.0",
                                         "resources": {"limits": {"memory": "64Mi"}}}]}}}}  # fmt: skip


def _remediation(name: str, target: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Remediation", "metadata": {"name": name},
            "spec": {"target": {"kind": "Deployment", "name": target}, "action": "increase_memory",
                     "errorType": "oom", "confidence": 0.8}}  # fmt: skip


def _pending(custom: client.CustomObjectsApi) -> int:
    items = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "remediations")["items"]
    return sum((i.get("status") or {}).get("phase") == "PendingApproval" for i in items)


def _source_commit() -> str:
    """The commit of the operator code this run measured (the `remediator` package the operator imports)."""
    where = Path(remediator.__file__).resolve().parent
    out = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", default="0,100", help="comma-separated counts, ascending (e.g. 0,100,1000)")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured at each count")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--timeout", type=float, default=1500.0, help="the whole run stops after this long")
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.pending.split(",")})
    stop_at = time.monotonic() + args.timeout

    cluster = DevCluster(Path(tempfile.mkdtemp(prefix="remediator-idle-")), nodes=1)
    operator: subprocess.Popen[bytes] | None = None
    rows: list[dict[str, Any]] = []
    log = cluster.dir / "operator.log"
    try:
        kubeconfig = cluster.up(timeout=240)
        _kubectl(kubeconfig, "apply", "--server-side", "-f", str(ROOT / "crds"))
        _kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "-f", str(ROOT / "crds"))
        api = config.new_client_from_config(str(kubeconfig))
        core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "remediationpolicies", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "RemediationPolicy", "metadata": {"name": "cluster-default"},
            "spec": {"autoApplyThreshold": 1.0, "cooldownSeconds": 0, "maxCooldownSeconds": 0}})  # fmt: skip
        port = _free_port()
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "REMEDIATOR_NAMESPACES": NAMESPACE,
               "REMEDIATOR_POLICY_NAMESPACE": NAMESPACE, "REMEDIATOR_METRICS_PORT": str(port),
               "REMEDIATOR_PEERING": "remediator-idle", "REMEDIATOR_WATCH_CLUSTER": "false"}  # fmt: skip
        with log.open("wb") as out:
            operator = subprocess.Popen([sys.executable, "-m", "remediator.cli", "run"], env=env, stdout=out,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        ready_by = time.monotonic() + 90
        while time.monotonic() < ready_by:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"operator not ready:\n{log.read_text()[-2000:]}")

        made = 0
        for count in counts:
            if time.monotonic() > stop_at:
                print(f"time budget spent: not measured at {count}", file=sys.stderr)
                break
            for i in range(made, count):
                apps.create_namespaced_deployment(NAMESPACE, _deployment(f"app-{i:04d}"))
                custom.create_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, "remediations", _remediation(f"wait-{i:04d}", f"app-{i:04d}")
                )
            made = count
            # Deciding slows as Remediations accumulate (each decision lists them): a bound per count.
            settle_by = min(stop_at, time.monotonic() + 60 + count * 1.0)
            while (now_pending := _pending(custom)) < count and time.monotonic() < settle_by:
                time.sleep(5)
            if now_pending < count:
                print(f"only {now_pending} of {count} pending in time: not measured at {count}", file=sys.stderr)
                break
            time.sleep(5)  # the last decisions' writes are out of the window
            rems0, total0 = _requests(kubeconfig)
            cpu0, t0 = _cpu_seconds(operator.pid), time.monotonic()
            time.sleep(args.window)
            rems1, total1 = _requests(kubeconfig)
            cpu1, t1 = _cpu_seconds(operator.pid), time.monotonic()
            elapsed = t1 - t0
            row = {
                "pending": count,
                "window_s": round(elapsed, 1),
                "remediation_requests": int(rems1 - rems0),
                "remediation_requests_per_s": round((rems1 - rems0) / elapsed, 2),
                "all_requests_per_s": round((total1 - total0) / elapsed, 2),
                "operator_cpu_percent": round(100 * (cpu1 - cpu0) / elapsed, 2),
                "operator_rss_mb": round(_rss_mb(operator.pid), 1),
            }
            print(json.dumps(row))
            rows.append(row)
    finally:
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(timeout=20)
            except subprocess.TimeoutExpired:
                operator.kill()
        cluster.down()

    result = {
        "rows": rows,
        "operator_commit": _source_commit(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d"),
        "command": f"bench/operator/idle_cost.py --pending {','.join(map(str, counts))} --window {args.window:g}",
        "note": "requests as counted by the API server (watches excepted); 'all' includes the control plane's own",
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if len(rows) == len(counts) else 1


if __name__ == "__main__":
    sys.exit(main())
