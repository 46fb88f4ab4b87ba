"""`make demo`: five workloads fail in five ways on a local control plane; the operator detects, classifies,
proposes, applies and verifies, and a summary says what happened to each. The control plane and the operator
keep running afterwards, so the README's next commands act on a live system; `demo down` stops both."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from remediator import api
from remediator.report import format_table
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
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
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


# The demo approves these proposals itself (what an SRE does after reading the evidence); the others wait for
# the reader: checkout's memory limit is edited before approval, billing's update_config (no configPatch to
# apply) is rejected. README.md "After the demo" has the same commands; a test runs them.
DEMO_APPROVES = ("frontend", "orders", "search")
WAITS_FOR_YOU = tuple(name for name in SCENARIOS if name not in DEMO_APPROVES)
OPERATOR_STATE = "demo-operator.json"
PEERING = "remediator-demo"
# What to try once the demo is up: printed by the demo and, verbatim, in README.md "After the demo" (a unit
# test checks that; tests/integration/test_readme.py runs the README's copy).
NEXT_STEPS = """\
export KUBECONFIG=~/.kube-remediator/dev-cluster/kubeconfig PATH=~/.cache/kube-remediator/bin:$PATH
kubectl config set-context --current --namespace=remediator-demo
kubectl get rem
ME=$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')
REM=$(kubectl get rem -l remediator.dev/target-name=checkout -o name)
kubectl patch $REM --type=merge -p '{"spec":{"parameters":{"memoryLimit":"256Mi"}}}'
GEN=$(kubectl get $REM -o jsonpath='{.metadata.generation}')
kubectl annotate $REM remediator.dev/approve=true remediator.dev/approver=$ME remediator.dev/approved-generation=$GEN
kubectl wait $REM --for=jsonpath='{.status.phase}'=Verifying --timeout=60s
kubectl wait $REM --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s
kubectl annotate rem -l remediator.dev/target-name=billing remediator.dev/reject=true remediator.dev/approver=$ME
kubectl annotate rem -l remediator.dev/target-name=orders remediator.dev/feedback=correct remediator.dev/feedback-by=$ME
remediator report --since 1h
"""


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise DemoError(f"the operator exited during start-up (log: {log}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise DemoError(f"the operator did not become ready in {timeout:.0f} s (log: {log}):\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class DemoError(RuntimeError):
    """The demo cannot go on; the message says why and what to look at."""


class DemoOperator:
    """The demo's operator, a background process that outlives `make demo`: its pid, metrics port and log
    are in the dev cluster's state directory, so `demo down` (or the next `make demo`) finds and stops it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_path = state_dir / OPERATOR_STATE
        self.log = state_dir / "logs" / "demo-operator.log"

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def pid(self) -> int | None:
        """The recorded pid, if that process is still the demo's operator (a pid can be reused)."""
        pid = self._state().get("pid")
        if not isinstance(pid, int) or not _is_demo_operator(pid):
            return None
        return pid

    def start(self, kubeconfig: Path) -> int:
        port = _free_port()
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "REMEDIATOR_NAMESPACES": NAMESPACE,
            "REMEDIATOR_POLICY_NAMESPACE": NAMESPACE,
            "REMEDIATOR_METRICS_PORT": str(port),
            "REMEDIATOR_PEERING": PEERING,
        }
        exe = shutil.which("remediator")
        argv = [exe, "run"] if exe else [sys.executable, "-m", "remediator.cli", "run"]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            # A new session: the operator outlives `make demo` and ignores its terminal's ^C.
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": proc.pid, "metricsPort": port, "log": str(self.log)}))
        tmp.replace(self.state_path)
        try:
            _wait_ready(port, proc, self.log)
        except DemoError:
            self.stop()
            raise
        return port

    def stop(self) -> bool:
        """Stop the recorded operator (SIGTERM, then SIGKILL after 15 s); True when one was running."""
        pid = self.pid()
        self.state_path.unlink(missing_ok=True)
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):  # it may end by itself in between
            os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 15
        while time.monotonic() < end and _is_demo_operator(pid):
            with contextlib.suppress(ChildProcessError):  # reap it when it is our own child
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if _is_demo_operator(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return True


def _is_demo_operator(pid: int) -> bool:
    """True while `pid` is a live `remediator run` process (not a zombie, not a recycled pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return b"run" in argv and any(b"remediator" in part for part in argv)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reset_namespace(demo: Demo) -> None:
    """A fresh demo namespace, so every run starts from the same state."""
    # Active Remediations of a previous run keep kopf's finalizer while no operator runs: release them first.
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


def run(timeout: float) -> int:
    cluster = DevCluster()
    operator = DemoOperator(cluster.dir)
    try:
        kubeconfig = cluster.up()
    except DevClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    demo = Demo(kubeconfig)
    print(f"== local control plane up (KUBECONFIG={kubeconfig})")
    if operator.stop():
        print("== stopped the previous demo's operator")
    try:
        demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
        demo.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
        # The approval admission policy (docs/security.md) names the CRDs' resources, so it follows them.
        demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "manifests" / "admission"))
        _reset_namespace(demo)
        port = operator.start(kubeconfig)
        print(f"== operator running in the background (log: {operator.log}, metrics: http://127.0.0.1:{port}/metrics)")
        for name, (what, first, _) in SCENARIOS.items():
            print(f"   deploy {name:<9} {what}")
            demo.apply(first)
        time.sleep(5)
        for name, (_, _, second) in SCENARIOS.items():
            if second is not None:
                print(f"   roll out {name} -> {second['spec']['template']['spec']['containers'][0]['image']}")
                demo.apply(second)
        _stall_one_search_pod(demo)
        _watch(demo, timeout, until=_all_proposed)
        _approve(demo, DEMO_APPROVES)
        _watch(demo, timeout, until=_approved_ones_final)
    except (RuntimeError, subprocess.TimeoutExpired) as err:  # DemoError, and kubectl failing or hanging
        operator.stop()
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Stopped half-way: nothing worth keeping runs on (the control plane stays, as `cluster up` leaves it).
        operator.stop()
        print("\ninterrupted: the demo's operator is stopped; `make demo` starts over", file=sys.stderr)
        return 130
    rc = _summary(demo)
    _next_steps(operator, kubeconfig)
    return rc


def down() -> int:
    """Stop the demo's operator and the local control plane (the state directory stays)."""
    cluster = DevCluster()
    stopped = DemoOperator(cluster.dir).stop()
    print("demo operator stopped" if stopped else "no demo operator was running", file=sys.stderr)
    try:
        cluster.down()
    except DevClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"local control plane stopped (state kept in {cluster.dir})", file=sys.stderr)
    return 0


def _next_steps(operator: DemoOperator, kubeconfig: Path) -> None:
    print(
        f"\n== still running: the local control plane and the operator (log: {operator.log})\n"
        f'   {", ".join(WAITS_FOR_YOU)} wait for you. Try next (README.md, "After the demo", says what each does):\n'
    )
    print("\n".join(f"   {line}" for line in NEXT_STEPS.splitlines()))
    if kubeconfig != Path("~/.kube-remediator/dev-cluster/kubeconfig").expanduser():
        print(f"\n   (this cluster's kubeconfig is {kubeconfig})")
    print("\n   stop everything: make demo-down   (or: remediator-dev demo down)")


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


def _approve(demo: Demo, workloads: tuple[str, ...]) -> None:
    """What an SRE does after reading each proposal's evidence: approve it, as themselves (the admission
    policy checks that the approver names the caller)."""
    me = demo.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").strip()
    for rem in demo.remediations():
        if rem["spec"]["target"]["name"] in workloads and _phase(rem) == "PendingApproval":
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


def _phase(rem: dict[str, Any]) -> str:
    return str((rem.get("status") or {}).get("phase") or "")


def _all_proposed(rems: list[dict[str, Any]]) -> bool:
    """Every scenario has its Remediation, and each is final or waits for approval."""
    targets = {r["spec"]["target"]["name"] for r in rems}
    return targets >= set(SCENARIOS) and all(_phase(r) in FINAL | {"PendingApproval"} for r in rems)


def _approved_ones_final(rems: list[dict[str, Any]]) -> bool:
    """The demo's approvals have run their course; the rest still wait for the reader (or are final)."""
    return _all_proposed(rems) and all(_phase(r) in FINAL for r in rems if r["spec"]["target"]["name"] in DEMO_APPROVES)


def _watch(demo: Demo, timeout: float, until: Callable[[list[dict[str, Any]]], bool]) -> None:
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        table = demo.kubectl("get", "remediations", "-n", NAMESPACE)
        if table != last:
            print(f"\n== kubectl get remediations -n {NAMESPACE}   (t+{int(time.monotonic() - start)}s)")
            print(table.rstrip())
            last = table
        if until(demo.remediations()):
            return
        time.sleep(2)
    print(f"\n== not settled after {timeout:.0f} s (--timeout); the summary shows where each one is")


def summary_rows(events: dict[str, dict[str, Any]], rems: dict[str, dict[str, Any]]) -> tuple[list[list[str]], int]:
    """The summary table's rows, one per scenario, and how many scenarios led to no Remediation."""
    rows, missing = [], 0
    for name, (what, _, _) in SCENARIOS.items():
        ee, rem = events.get(name), rems.get(name)
        if ee is None:
            rows.append([name, f"not detected ({what})", "-", "-", "-", ""])
            missing += 1
            continue
        cls = (ee.get("status") or {}).get("classification") or {}
        detected = f"{ee['spec'].get('reason', '?')} x{ee['spec'].get('count', 1)}"
        classified = f"{cls.get('errorType', '?')} {cls.get('confidence', 0):.2f}"
        if rem is None:
            rows.append([name, detected, classified, "-", (ee.get("status") or {}).get("phase", "?"), ""])
            missing += 1
            continue
        status = rem.get("status") or {}
        outcome = (status.get("outcome") or {}).get("message") or status.get("message", "")
        if name in WAITS_FOR_YOU and _phase(rem) == "PendingApproval":
            outcome = "waits for you (below)"
        rows.append([name, detected, classified, rem["spec"]["action"], _phase(rem) or "?", outcome[:90]])
    return rows, missing


def _summary(demo: Demo) -> int:
    rems = {r["spec"]["target"]["name"]: r for r in demo.remediations()}
    events = {e["spec"]["target"]["name"]: e for e in demo.errorevents()}
    rows, missing = summary_rows(events, rems)
    print("\n== summary")
    print(format_table(["workload", "detected", "classified", "proposed", "phase", "outcome"], rows))
    phases = [_phase(r) for r in rems.values()]
    print(
        f"\n{len(events)} ErrorEvents, {len(rems)} Remediations: "
        + ", ".join(f"{p} {phases.count(p)}" for p in sorted(set(phases)))
    )
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remediator-dev demo", description=__doc__)
    parser.add_argument("action", nargs="?", choices=["up", "down"], default="up", help="up (default) or down")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for the scenarios to settle")
    args = parser.parse_args(argv)
    return down() if args.action == "down" else run(args.timeout)


if __name__ == "__main__":
    sys.exit(main())
