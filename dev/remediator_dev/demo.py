"""`make demo`: five workloads fail in five ways on a local control plane; the operator detects, classifies,
proposes, applies and verifies, and a summary says what happened to each."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from remediator import api
from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster
from remediator_dev.devcluster.errors import DevClusterError
from remediator_dev.devcluster.simulate import fail_pod
from remediator_dev.paths import repo_root

REPO = repo_root()
NAMESPACE = "remediator-demo"
FINAL = {str(p) for p in api.FINAL_PHASES}


def _deployment(
    name: str,
    image: str,
    *,
    annotations: dict[str, str] | None = None,
    memory: str = "128Mi",
    replicas: int = 2,
    env_from_config: str | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "resources": {"limits": {"memory": memory}, "requests": {"memory": memory}},
    }
    if env_from_config:
        container["env"] = [
            {"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {"name": env_from_config, "key": "DATABASE_URL"}}}
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name, "demo": "kube-remediator"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": annotations or {}},
                "spec": {"containers": [container]},
            },
        },
    }


# name -> (what breaks it, first manifest, second manifest or None: a rollout that goes wrong)
SCENARIOS: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
    "checkout": (
        "out of memory: 64Mi is too little",
        _deployment("checkout", "shop/checkout:2.3.1", memory="64Mi", annotations={"sim.remediator.dev/fail": "oom"}),
        None,
    ),
    "frontend": (
        "bad image tag in a new rollout",
        _deployment("frontend", "shop/frontend:1.8.0"),
        _deployment("frontend", "shop/frontend:1.9.0-typo", annotations={"sim.remediator.dev/fail": "imagepull"}),
    ),
    "orders": (
        "crash loop after a bad rollout",
        _deployment("orders", "shop/orders:4.1.0"),
        _deployment(
            "orders",
            "shop/orders:4.2.0",
            annotations={"sim.remediator.dev/fail": "crashloop", "sim.remediator.dev/exit-code": "1"},
        ),
    ),
    "billing": (
        "missing config key",
        _deployment(
            "billing",
            "shop/billing:3.0.2",
            env_from_config="billing-config",
            annotations={
                "sim.remediator.dev/fail": "config",
                "sim.remediator.dev/message": f"couldn't find key DATABASE_URL in ConfigMap {NAMESPACE}/billing-config",
            },
        ),
        None,
    ),
    "search": (
        "one replica's readiness probe starts failing",
        _deployment("search", "shop/search:5.0.0", replicas=3),
        None,
    ),
}


class Demo:
    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        self.kubeconfig, self.workdir = kubeconfig, workdir
        self.kubectl_bin = str(binaries.bin_dir() / "kubectl")

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [self.kubectl_bin, f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=150,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def apply(self, obj: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=json.dumps(obj))

    def remediations(self) -> list[dict[str, Any]]:
        return list(json.loads(self.kubectl("get", "remediations", "-n", NAMESPACE, "-o", "json"))["items"])

    def errorevents(self) -> list[dict[str, Any]]:
        return list(json.loads(self.kubectl("get", "errorevents", "-n", NAMESPACE, "-o", "json"))["items"])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the operator exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the operator did not become ready:\n{log.read_text()[-3000:]}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(timeout: float) -> int:
    try:
        kubeconfig = DevCluster().up()
    except DevClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="remediator-demo-"))
    demo = Demo(kubeconfig, workdir)
    print(f"== local control plane up (KUBECONFIG={kubeconfig})")
    demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    demo.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
    # The approval admission policy (docs/security.md) names the CRDs' resources, so it follows them.
    demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "manifests" / "admission"))
    # A previous run's active Remediations keep kopf's finalizer while no operator runs: release them first.
    for name in demo.kubectl("get", "remediations", "-n", NAMESPACE, "-o", "name", check=False).split():
        demo.kubectl(
            "patch", name, "-n", NAMESPACE, "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False
        )
    demo.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", "--timeout=120s")
    demo.kubectl("create", "namespace", NAMESPACE)
    # The demo's cluster default (the operator's policy namespace is the demo namespace): minutes instead of
    # hours (a short verification window, no cooldown, a predecessor revision counts as proven after 3 s);
    # everything else, the auto-apply threshold included, is the shipped default.
    demo.apply(
        {
            "apiVersion": "remediator.dev/v1alpha1",
            "kind": "RemediationPolicy",
            "metadata": {"name": "cluster-default", "namespace": NAMESPACE},
            "spec": {"verifyWindowSeconds": 30, "cooldownSeconds": 0, "evidence": {"previousHealthySeconds": 3}},
        }
    )
    demo.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "billing-config", "namespace": NAMESPACE},
            "data": {"LOG_LEVEL": "info"},
        }
    )

    port = _free_port()
    log = workdir / "operator.log"
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "REMEDIATOR_NAMESPACES": NAMESPACE,
        "REMEDIATOR_POLICY_NAMESPACE": NAMESPACE,
        "REMEDIATOR_METRICS_PORT": str(port),
        "REMEDIATOR_PEERING": "remediator-demo",
    }
    exe = shutil.which("remediator") or sys.executable
    argv = [exe, "run"] if exe != sys.executable else [sys.executable, "-m", "remediator.cli", "run"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(port, proc, log)
        print(f"== operator running (log: {log}, metrics: http://127.0.0.1:{port}/metrics)")
        for name, (what, first, _) in SCENARIOS.items():
            print(f"   deploy {name:<9} {what}")
            demo.apply(first)
        time.sleep(5)
        for name, (_, _, second) in SCENARIOS.items():
            if second is not None:
                print(f"   roll out {name} -> {second['spec']['template']['spec']['containers'][0]['image']}")
                demo.apply(second)
        _stall_one_search_pod(demo)
        _watch(demo, timeout, settled_on={"PendingApproval"})
        _approve_all(demo)
        return _watch(demo, timeout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _stall_one_search_pod(demo: Demo) -> None:
    """A running replica stops answering its readiness probe (a stuck process): what a kubelet would report."""
    from kubernetes import client, config

    api = config.new_client_from_config(str(demo.kubeconfig))
    end = time.monotonic() + 60
    while time.monotonic() < end:
        pods = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE, label_selector="app=search").items
        running = [p for p in pods if p.status.phase == "Running"]
        if running:
            print(f"   stall {running[0].metadata.name}: readiness probe fails")
            fail_pod(api, NAMESPACE, running[0].metadata.name, "probe")
            return
        time.sleep(1)


def _approve_all(demo: Demo) -> None:
    """What an SRE does after reading each proposal's evidence: approve it, as themselves (the admission
    policy checks that the approver names the caller)."""
    me = demo.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").strip()
    for rem in demo.remediations():
        if (rem.get("status") or {}).get("phase") == "PendingApproval":
            name = rem["metadata"]["name"]
            print(f"   approve {name} as {me}: {rem['status'].get('reason')}")
            demo.kubectl(
                "annotate",
                "-n",
                NAMESPACE,
                "--overwrite",
                "remediation",
                name,
                "remediator.dev/approve=true",
                f"remediator.dev/approver={me}",
            )


def _watch(demo: Demo, timeout: float, settled_on: set[str] | None = None) -> int:
    end = time.monotonic() + timeout
    last = ""
    while time.monotonic() < end:
        table = demo.kubectl("get", "remediations", "-n", NAMESPACE)
        if table != last:
            print(f"\n== kubectl get remediations -n {NAMESPACE}   (t+{int(timeout - (end - time.monotonic()))}s)")
            print(table.rstrip())
            last = table
        rems = demo.remediations()
        targets = {r["spec"]["target"]["name"] for r in rems}
        settled = all((r.get("status") or {}).get("phase") in FINAL | (settled_on or set()) for r in rems)
        if targets >= set(SCENARIOS) and settled:
            break
        time.sleep(2)
    return _summary(demo) if settled_on is None else 0


def _summary(demo: Demo) -> int:
    rems = {r["spec"]["target"]["name"]: r for r in demo.remediations()}
    events = {e["spec"]["target"]["name"]: e for e in demo.errorevents()}
    print("\n== summary")
    print(f"{'workload':<10} {'detected':<27} {'classified':<22} {'proposed':<16} {'phase':<16} outcome")
    missing = 0
    for name, (what, _, _) in SCENARIOS.items():
        ee, rem = events.get(name), rems.get(name)
        if ee is None:
            print(f"{name:<10} not detected ({what})")
            missing += 1
            continue
        cls = (ee.get("status") or {}).get("classification") or {}
        detected = f"{ee['spec'].get('reason', '?')} x{ee['spec'].get('count', 1)}"
        classified = f"{cls.get('errorType', '?')} {cls.get('confidence', 0):.2f}"
        if rem is None:
            print(f"{name:<10} {detected:<27} {classified:<22} {'-':<16} {(ee.get('status') or {}).get('phase', '?')}")
            missing += 1
            continue
        status = rem.get("status") or {}
        outcome = (status.get("outcome") or {}).get("message") or status.get("message", "")
        print(
            f"{name:<10} {detected:<27} {classified:<22} {rem['spec']['action']:<16} "
            f"{status.get('phase', '?'):<16} {outcome[:90]}"
        )
    phases = [(r.get("status") or {}).get("phase") for r in rems.values()]
    print(
        f"\n{len(events)} ErrorEvents, {len(rems)} Remediations: "
        + ", ".join(f"{p} {phases.count(p)}" for p in sorted({str(p) for p in phases}))
    )
    print(f"pending ones wait for: kubectl annotate remediation NAME -n {NAMESPACE} remediator.dev/approve=true")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remediator demo", description=__doc__)
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for the scenarios to settle")
    args = parser.parse_args(argv)
    return run(args.timeout)


if __name__ == "__main__":
    sys.exit(main())
