"""kube-remediator side by side with k8sgpt (rule analyzers only, no AI backend) on the same failures.

    .venv/bin/python bench/compare/run.py [--runs 3] [--scenarios crashloop,oom,...] [--timeout 60]

Builds nothing but k8sgpt (hack/build-tools.sh k8sgpt, pinned there) and starts its own local control plane
in a temporary directory for each run (stopped at its end), the operator as its own process, and one namespace per
scenario. For each scenario and tool: detected or not, seconds from the failure (a bare watch seeing the
first failing Pod) to the tool's output, how many results it gives (our ErrorEvents and Remediations;
k8sgpt's per-object results), and whether its proposal fixes the failure. Ours is checked by approving the
proposal unchanged and waiting for the operator's verdict, then for the workload to be healthy; k8sgpt's
output has no action to apply. k8sgpt is `k8sgpt analyze --output json -n NS` run back to back (its operator
would scan every 30 s). Prints a table and writes bench/results/compare_k8sgpt.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

from remediator import api
from remediator.report import format_table
from remediator_dev.demo import Demo
from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster
from remediator_dev.devcluster.simulate import fail_pod
from remediator_dev.k8sgpt_output import Analysis, parse

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "compare_k8sgpt.json"
BUILD = REPO / "hack" / "build-tools.sh"
POLICY_NAMESPACE = "compare-system"
LABEL = "bench.remediator.dev/compare"
POD = ("Pod",)
FINAL = {str(p) for p in api.FINAL_PHASES}


def _deployment(
    name: str,
    image: str,
    *,
    fail: str | None = None,
    message: str | None = None,
    memory: str = "128Mi",
    cpu: str | None = None,
    replicas: int = 2,
    env: list[dict[str, Any]] | None = None,
    probe: bool = False,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "resources": {"limits": {"memory": memory}, "requests": {"memory": memory, **({"cpu": cpu} if cpu else {})}},
    }
    if env:
        container["env"] = env
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}
    annotations = {"sim.remediator.dev/fail": fail} if fail else {}
    if message:
        annotations["sim.remediator.dev/message"] = message
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name, LABEL: "true"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, LABEL: "true"}, "annotations": annotations},
                "spec": {"containers": [container]},
            },
        },
    }


def _config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    objects: tuple[dict[str, Any], ...]  # applied first (a healthy version, or the failing one)
    rollout: dict[str, Any] | None = None  # applied once the first version is healthy: the failure
    stall_one_pod: bool = False  # once healthy, one running replica stops passing its readiness probe

    @property
    def namespace(self) -> str:
        return f"compare-{self.name}"


def _scenarios() -> list[Scenario]:
    db_url = [{"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "DATABASE_URL"}}}]
    secret = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}}]
    return [
        Scenario(
            "crashloop", "exits 1 at start (kwok crashloop)", (_deployment("app", "bench/app:1.0", fail="crashloop"),)
        ),
        Scenario(
            "oom", "64Mi is too little (kwok oom)", (_deployment("app", "bench/app:1.0", fail="oom", memory="64Mi"),)
        ),
        Scenario(
            "imagepull",
            "image tag does not exist (kwok imagepull)",
            (_deployment("app", "bench/app:1.0-typo", fail="imagepull"),),
        ),
        Scenario(
            "config",
            "key missing from its ConfigMap (kwok config)",
            (
                _config_map("app-config", {"LOG_LEVEL": "info"}),
                _deployment(
                    "app",
                    "bench/app:1.0",
                    fail="config",
                    env=db_url,
                    message="couldn't find key DATABASE_URL in ConfigMap compare-config/app-config",
                ),
            ),
        ),
        Scenario(
            "probe",
            "one of 3 replicas fails its readiness probe (kwok probe)",
            (_deployment("app", "bench/app:1.0", replicas=3, probe=True),),
            stall_one_pod=True,
        ),
        Scenario(
            "bad-rollout",
            "v1 healthy, v2 crashes at start",
            (_deployment("app", "bench/app:1.0"),),
            rollout=_deployment("app", "bench/app:2.0", fail="crashloop"),
        ),
        Scenario(
            "missing-secret",
            "env from a Secret that does not exist",
            (
                _deployment(
                    "app", "bench/app:1.0", fail="config", env=secret, message='secret "db-credentials" not found'
                ),
            ),
        ),
        Scenario(
            "unschedulable",
            "requests 64 CPUs, nodes have 8",
            (_deployment("app", "bench/app:1.0", cpu="64", replicas=1),),
        ),
    ]


def _failing(pod: client.V1Pod) -> bool:
    """What a bare watch counts as the failure being visible: a container not ready, or the Pod unschedulable."""
    status = pod.status
    if status is None:
        return False
    for cond in status.conditions or []:
        if cond.type == "PodScheduled" and cond.status == "False":
            return True
    return any(not cs.ready for cs in status.container_statuses or [])


@dataclass
class Observed:
    """Times (monotonic seconds) seen by the bench's own watches, per namespace."""

    failing: dict[str, float] = field(default_factory=dict)
    remediations: dict[str, float] = field(default_factory=dict)
    armed: set[str] = field(default_factory=set)  # namespaces whose failure has been triggered
    lock: threading.Lock = field(default_factory=threading.Lock)


def _watch_forever(
    stop: threading.Event, fn: Callable[..., Any], on: Callable[[Any], None], *args: Any, **kwargs: Any
) -> None:
    while not stop.is_set():
        try:
            for event in watch.Watch().stream(fn, *args, timeout_seconds=5, **kwargs):
                on(event["object"])
        except (client.ApiException, OSError, ValueError):
            time.sleep(0.2)


class K8sgpt:
    """`k8sgpt analyze --output json -n NS` back to back in a thread; keeps (finished at, analysis) per run."""

    def __init__(self, binary: Path, kubeconfig: Path, home: Path) -> None:
        self.binary, self.kubeconfig, self.home = binary, kubeconfig, home
        self.runs: list[tuple[float, float, Analysis]] = []  # (started, finished, analysis)
        self.failures: list[str] = []
        self.last_raw = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def analyze(self, namespace: str) -> Analysis:
        env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
        }
        out = subprocess.run(
            [
                str(self.binary),
                "analyze",
                "--output",
                "json",
                "--namespace",
                namespace,
                "--kubeconfig",
                str(self.kubeconfig),
                "--config",
                str(self.home / "k8sgpt.yaml"),
            ],
            capture_output=True,
            check=False,
            timeout=60,
            env=env,
        )
        if out.returncode != 0:
            raise RuntimeError(f"k8sgpt exited {out.returncode}: {out.stderr.decode(errors='replace')[-500:]}")
        self.last_raw = out.stdout
        return parse(out.stdout)

    def start(self, namespace: str) -> None:
        self.runs, self.failures = [], []
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    result = self.analyze(namespace)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as err:
                    self.failures.append(str(err))
                    time.sleep(0.5)
                    continue
                self.runs.append((started, time.monotonic(), result))

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=70)

    def first_detection(
        self, namespace: str, workload: str, after: float, kinds: tuple[str, ...] = ()
    ) -> tuple[float, Analysis] | None:
        """The first run begun after the failure was triggered that reports the workload (on one of `kinds`)."""
        for started, finished, result in list(self.runs):
            if started >= after and any(not kinds or f.kind in kinds for f in result.about(namespace, workload)):
                return finished, result
        return None

    def last(self) -> Analysis | None:
        return self.runs[-1][2] if self.runs else None


def _k8sgpt_binary() -> Path:
    subprocess.run(["bash", str(BUILD), "k8sgpt"], check=True, stdout=subprocess.DEVNULL)
    return binaries.bin_dir() / "k8sgpt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_operator(kubeconfig: Path, namespaces: list[str], log: Path) -> subprocess.Popen[bytes]:
    port = _free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "REMEDIATOR_NAMESPACES": ",".join(namespaces),
        "REMEDIATOR_POLICY_NAMESPACE": POLICY_NAMESPACE,
        "REMEDIATOR_METRICS_PORT": str(port),
        "REMEDIATOR_PEERING": "remediator-compare",
    }
    exe = shutil.which("remediator")
    argv = [exe, "run"] if exe else [sys.executable, "-m", "remediator.cli", "run"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    end = time.monotonic() + 90
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the operator exited during start-up:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"the operator was not ready in 90 s:\n{log.read_text()[-2000:]}")


def _wait(cond: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return None


def _ready_pods(core: client.CoreV1Api, namespace: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=LABEL).items
    return [
        p for p in pods if p.metadata.deletion_timestamp is None and p.status.phase == "Running" and not _failing(p)
    ]


def _healthy(apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str) -> bool:
    dep = apps.read_namespaced_deployment("app", namespace)
    want = dep.spec.replicas or 0
    pods = [
        p
        for p in core.list_namespaced_pod(namespace, label_selector=LABEL).items
        if p.metadata.deletion_timestamp is None
    ]
    return (
        (dep.status.updated_replicas or 0) == want
        and (dep.status.ready_replicas or 0) == want
        and not any(_failing(p) for p in pods)
    )


def _custom(custom: client.CustomObjectsApi, namespace: str, plural: str) -> list[dict[str, Any]]:
    return list(custom.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, plural)["items"])


def _phase(rem: dict[str, Any]) -> str:
    return str((rem.get("status") or {}).get("phase") or "")


def run_scenario(
    sc: Scenario,
    *,
    demo: Demo,
    kube: client.ApiClient,
    seen: Observed,
    gpt: K8sgpt,
    approver: str,
    timeout: float,
    raw: Path,
) -> dict[str, Any]:
    core, apps, custom = client.CoreV1Api(kube), client.AppsV1Api(kube), client.CustomObjectsApi(kube)
    ns = sc.namespace
    gpt.start(ns)

    def arm() -> float:
        with seen.lock:
            seen.failing.pop(ns, None)
            seen.armed.add(ns)
        return time.monotonic()

    healthy_first = sc.rollout is not None or sc.stall_one_pod
    trigger = 0.0 if healthy_first else arm()
    for obj in sc.objects:
        demo.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))
    if healthy_first:
        want = sc.objects[-1]["spec"]["replicas"]
        if not _wait(lambda: len(_ready_pods(core, ns)) >= want, 60, step=0.5):
            raise SystemExit(f"{ns}: the healthy first version never became ready")
        time.sleep(4)  # longer than the policy's evidence.previousHealthySeconds: v1 counts as proven
        trigger = arm()
        if sc.rollout is not None:
            demo.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(sc.rollout))
        else:
            fail_pod(kube, ns, _ready_pods(core, ns)[0].metadata.name, "probe")

    def both_detected() -> bool:
        return ns in seen.remediations and gpt.first_detection(ns, "app", trigger, POD) is not None

    _wait(both_detected, timeout, step=0.1)
    fail_at = seen.failing.get(ns)
    ours_at = seen.remediations.get(ns)
    # k8sgpt's Deployment analyzer flags any Deployment whose replicas are not available yet, a healthy
    # rollout in progress too: the failure counts as reported once a Pod result names it.
    gpt_hit = gpt.first_detection(ns, "app", trigger, POD)
    gpt_any = gpt.first_detection(ns, "app", trigger)
    # Let the proposal settle (classified, decided) before counting results and approving.
    rem = _wait(
        lambda: next(
            (r for r in _custom(custom, ns, "remediations") if _phase(r) in FINAL | {"PendingApproval"}), None
        ),
        30 if ours_at else 0.1,
        step=0.2,
    )
    time.sleep(2)  # two more k8sgpt runs on the settled state
    gpt_last = gpt.last()
    gpt_results = gpt_last.in_namespace(ns) if gpt_last else ()
    gpt_on_workload = gpt_last.about(ns, "app") if gpt_last else ()
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"k8sgpt-{sc.name}.json").write_bytes(gpt.last_raw)
    rems, events = _custom(custom, ns, "remediations"), _custom(custom, ns, "errorevents")

    ours: dict[str, Any] = {
        "detected": ours_at is not None,
        "seconds": round(ours_at - fail_at, 3) if ours_at and fail_at else None,
        "results": len(rems),
        "errorevents": len(events),
        "action": None,
        "confidence": None,
        "phase": None,
        "verdict": None,
        "fixed": False,
    }
    if rem is not None:
        ours["action"] = rem["spec"].get("action")
        ours["confidence"] = rem["spec"].get("confidence")
        ours["phase"] = _phase(rem)
        # The decision's first reason (status.reasons keeps the decision's codes; a notify is over, and its
        # status.reason says NotifiedHuman, by the time it is read here).
        decided = rem.get("status") or {}
        ours["reason"] = (decided.get("reasons") or [decided.get("reason")])[0]
        if _phase(rem) == "PendingApproval":
            demo.kubectl(
                "annotate",
                "-n",
                ns,
                "--overwrite",
                "remediation",
                rem["metadata"]["name"],
                f"{api.APPROVE}=true",
                f"{api.APPROVER}={approver}",
            )
        name = rem["metadata"]["name"]
        final = _wait(
            lambda: (lambda r: r if _phase(r) in FINAL else None)(
                custom.get_namespaced_custom_object(api.GROUP, api.VERSION, ns, "remediations", name)
            ),
            150,
            step=0.5,
        )
        if final is not None:
            status = final.get("status") or {}
            ours["verdict"] = _phase(final)
            ours["outcome"] = ((status.get("outcome") or {}).get("message") or status.get("message") or "")[:160]
        changes = ours["action"] != "notify"
        healthy = ours["verdict"] == "Succeeded" and bool(_wait(lambda: _healthy(apps, core, ns), 20, step=0.5))
        ours["fixed"] = bool(final is not None and _phase(final) == "Succeeded" and changes and healthy)
        ours["healthy_after"] = healthy
    gpt.stop()
    theirs = {
        "detected": gpt_hit is not None,
        "seconds": round(gpt_hit[0] - fail_at, 3) if gpt_hit and fail_at else None,
        "first_any_result_seconds": round(gpt_any[0] - fail_at, 3) if gpt_any and fail_at else None,
        "results": len(gpt_results),
        "results_on_workload": len(gpt_on_workload),
        "pod_results": sum(f.kind == "Pod" for f in gpt_on_workload),
        "kinds": dict(sorted(Counter(f.kind for f in gpt_results).items())),
        "texts": sorted({t for f in gpt_results for t in f.texts})[:6],
        "action": None,  # its output has no action field; `--explain` (an AI backend) would add prose only
        "fixed": False,
        "runs": len(gpt.runs),
        "run_seconds_median": _median([b - a for a, b, _ in gpt.runs]),
        "errors": gpt.failures[:3],
    }
    return {
        "scenario": sc.name,
        "what": sc.what,
        "namespace": ns,
        "failure_seen_s": round(fail_at - trigger, 3) if fail_at else None,
        "ours": ours,
        "k8sgpt": theirs,
    }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 3)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _proposal(ours: dict[str, Any]) -> str:
    return f"{ours['action']} ({ours.get('reason') or '-'}) -> {ours['verdict'] or ours['phase']}"


def summarize(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per scenario over all runs: how often each tool reported it, median seconds, results, actions, fixes."""
    out = []
    for name in dict.fromkeys(r["scenario"] for rows in runs for r in rows):
        rows = [r for rs in runs for r in rs if r["scenario"] == name]
        entry: dict[str, Any] = {"scenario": name, "what": rows[0]["what"], "runs": len(rows)}
        for tool in ("ours", "k8sgpt"):
            sides = [r[tool] for r in rows]
            seconds = [s["seconds"] for s in sides if s["seconds"] is not None]
            entry[tool] = {
                "detected": sum(s["detected"] for s in sides),
                "seconds_median": _median(seconds),
                "seconds_max": max(seconds) if seconds else None,
                "results": sorted({s["results"] for s in sides}),
                "fixed": sum(s["fixed"] for s in sides),
            }
        entry["ours"]["errorevents"] = sorted({r["ours"]["errorevents"] for r in rows})
        # "action (the proposal's first reason) -> verdict once approved unchanged"
        entry["ours"]["actions"] = dict(Counter(_proposal(r["ours"]) for r in rows))
        entry["k8sgpt"]["pod_results"] = sorted({r["k8sgpt"]["pod_results"] for r in rows})
        entry["k8sgpt"]["analyze_seconds_median"] = _median(
            [r["k8sgpt"]["run_seconds_median"] for r in rows if r["k8sgpt"]["run_seconds_median"] is not None]
        )
        entry["k8sgpt"]["kinds"] = sorted({k for r in rows for k in r["k8sgpt"]["kinds"]})
        out.append(entry)
    return out


def _values(values: list[int]) -> str:
    return "/".join(str(v) for v in values)


def table(summary: list[dict[str, Any]]) -> str:
    rows = []
    for e in summary:
        o, k, n = e["ours"], e["k8sgpt"], e["runs"]
        actions = ", ".join(f"{a}{f' {c}/{n}' if c != n else ''}" for a, c in o["actions"].items())
        rows.append(
            [
                e["scenario"],
                f"{o['detected']}/{n}",
                _seconds(o["seconds_median"]),
                f"{_values(o['results'])} Remediation, {_values(o['errorevents'])} ErrorEvent",
                actions,
                f"{o['fixed']}/{n}",
                f"{k['detected']}/{n}",
                _seconds(k["seconds_median"]),
                f"{_values(k['results'])} ({_values(k['pod_results'])} Pod)",
                "none",
                f"{k['fixed']}/{n}",
            ]
        )
    return format_table(
        [
            "scenario",
            "ours",
            "ours t (median)",
            "ours results",
            "ours action -> verdict",
            "fixed",
            "k8sgpt",
            "k8sgpt t (median)",
            "k8sgpt results",
            "k8sgpt action",
            "fixed",
        ],
        rows,
    )


def one_run(chosen: list[Scenario], gpt_bin: Path, timeout: float, work: Path) -> list[dict[str, Any]]:
    """Every chosen scenario once, on a fresh local control plane with a fresh operator."""
    work.mkdir(parents=True)
    cluster = DevCluster(work / "cluster")
    operator: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    rows: list[dict[str, Any]] = []
    try:
        kubeconfig = cluster.up()
        demo = Demo(kubeconfig)
        demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
        demo.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
        demo.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "manifests" / "admission"))
        demo.kubectl("create", "namespace", POLICY_NAMESPACE)
        # Everything is proposed (no auto-apply), so each proposal is approved unchanged by this bench; short
        # windows instead of the shipped minutes.
        demo.apply(
            {
                "apiVersion": "remediator.dev/v1alpha1",
                "kind": "RemediationPolicy",
                "metadata": {"name": "cluster-default", "namespace": POLICY_NAMESPACE},
                "spec": {
                    "autoApplyThreshold": 1.0,
                    "autoApplyActions": [],
                    "verifyWindowSeconds": 20,
                    "cooldownSeconds": 0,
                    "evidence": {"previousHealthySeconds": 3},
                },
            }
        )
        kube = config.new_client_from_config(str(kubeconfig))
        approver = demo.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").strip()
        for sc in chosen:  # before the operator starts: it serves (and peers in) exactly these namespaces
            demo.kubectl("create", "namespace", sc.namespace)
        operator = _start_operator(kubeconfig, [s.namespace for s in chosen], work / "operator.log")
        seen = Observed()

        def on_pod(pod: client.V1Pod) -> None:
            ns = pod.metadata.namespace
            with seen.lock:
                if ns in seen.armed and ns not in seen.failing and _failing(pod):
                    seen.failing[ns] = time.monotonic()

        def on_rem(rem: dict[str, Any]) -> None:
            with seen.lock:
                seen.remediations.setdefault(rem["metadata"]["namespace"], time.monotonic())

        core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
        threading.Thread(
            target=_watch_forever,
            args=(stop, core.list_pod_for_all_namespaces, on_pod),
            kwargs={"label_selector": LABEL},
            daemon=True,
        ).start()
        threading.Thread(
            target=_watch_forever,
            args=(stop, custom.list_cluster_custom_object, on_rem, api.GROUP, api.VERSION, "remediations"),
            daemon=True,
        ).start()
        gpt = K8sgpt(gpt_bin, kubeconfig, work / "k8sgpt")
        (work / "k8sgpt").mkdir()
        for sc in chosen:
            print(f"== {sc.name}: {sc.what}", flush=True)
            row = run_scenario(
                sc, demo=demo, kube=kube, seen=seen, gpt=gpt, approver=approver, timeout=timeout, raw=work / "raw"
            )
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        stop.set()
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(timeout=20)
            except subprocess.TimeoutExpired:
                operator.kill()
        cluster.down()
        shutil.rmtree(work / "cluster", ignore_errors=True)  # etcd data and certificates; raw/ and the log stay
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    names = [s.name for s in _scenarios()]
    parser.add_argument("--scenarios", default=",".join(names), help=f"comma-separated subset of {','.join(names)}")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh control plane and operator")
    parser.add_argument("--timeout", type=float, default=60, help="seconds each tool gets to report a failure")
    args = parser.parse_args()
    chosen = [s for s in _scenarios() if s.name in args.scenarios.split(",")]

    gpt_bin = _k8sgpt_binary()
    work = Path(tempfile.mkdtemp(prefix="remediator-compare-"))
    load_before = os.getloadavg()
    started = time.time()
    runs = []
    for i in range(args.runs):
        print(f"==== run {i + 1}/{args.runs}", flush=True)
        runs.append(one_run(chosen, gpt_bin, args.timeout, work / f"run-{i + 1}"))
    version = subprocess.run([str(gpt_bin), "version"], capture_output=True, text=True, check=False).stdout.strip()
    summary = summarize(runs)
    command = "bench/compare/run.py" + (f" --scenarios {args.scenarios}" if len(chosen) != len(names) else "")
    result = {
        "summary": summary,
        "runs": runs,
        "k8sgpt": {"version": version, "command": "k8sgpt analyze --output json --namespace NS (no --explain)"},
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "seconds": round(time.time() - started),
        "date": time.strftime("%Y-%m-%d"),
        "command": command + (f" --runs {args.runs}" if args.runs != 3 else ""),
    }
    print(table(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS} (k8sgpt's last output per scenario and run: {work}/run-*/raw)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
