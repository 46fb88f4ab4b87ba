"""What the operator benchmarks share: a private local control plane with an audit log, the operator as its own
process under a ServiceAccount of its own (so the audit log tells its requests from everyone else's), bare watch
clients (the floor: how soon any client could have seen a change), process CPU/RSS, and the results file.

The operator is started the way its integration tests start it (tests/fixtures/operator.py, `remediator run`
as a subprocess with a free metrics port and a peering of its own). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # tests.fixtures: the operator is started exactly as its tests start it
    sys.path.insert(0, str(REPO))

from kubernetes import client, config  # noqa: E402
from kubernetes.watch.watch import iter_resp_lines  # noqa: E402

from remediator_dev.devcluster import audit  # noqa: E402
from remediator_dev.devcluster.cluster import DevCluster  # noqa: E402
from tests.fixtures.cluster import ADMISSION, CRDS, Cluster  # noqa: E402
from tests.fixtures.operator import GROUP, VERSION, Operator, OperatorFactory  # noqa: E402

RESULTS = REPO / "bench" / "results"
USER_AGENT = "remediator-bench"
OPERATOR_SA = ("kube-system", "remediator-bench-operator")
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_SA[0]}:{OPERATOR_SA[1]}"
FAILING = frozenset({"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"})
PODS_PER_NODE = 100  # the simulated nodes allow 110
_LOAD_AT_START = os.getloadavg()


def nodes_for(pods: int) -> int:
    return max(3, math.ceil(pods / PODS_PER_NODE) + 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> dict[str, float | int]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def machine() -> dict[str, Any]:
    """Where the numbers come from, with the load average when the bench started and now (it shares the machine)."""
    return {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "loadavg_1_5_15_at_start": [round(x, 2) for x in _LOAD_AT_START],
        "loadavg_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}")
    return path


def deployment(name: str, replicas: int = 1, fail: str | None = None) -> dict[str, Any]:
    template_annotations = {"sim.remediator.dev/fail": fail} if fail else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": template_annotations},
                "spec": {"containers": [{"name": "app", "image": "bench/app:1.0"}]},
            },
        },
    }


# -- processes --------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    """The peak RSS of a process, sampled every `interval` seconds until stop()."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError):
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join(5)
        return round(self.peak_mb, 1)


def operator_pid(op: Operator) -> int:
    assert op.proc.popen is not None
    return op.proc.popen.pid


def wait_idle(pid: int, share: float = 0.1, window: float = 2.0, timeout: float = 180.0) -> float:
    """Wait (bounded) until a process uses less than `share` of a core over `window` seconds, e.g. an operator
    that has finished resuming the objects it found at start-up; return the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < share * window:
            break
    return time.monotonic() - started


# -- the floor: bare watch clients ------------------------------------------------------------------------
class Sightings(threading.Thread):
    """A bare watch (no models, no framework): the first time each key is seen, on the client's monotonic clock
    and wall clock, and every object name seen per key. `key` maps a raw object to its key, or None to ignore."""

    def __init__(self, list_call: Callable[..., Any], key: Callable[[dict[str, Any]], str | None]) -> None:
        super().__init__(daemon=True)
        self.list_call, self.key = list_call, key
        self.first: dict[str, float] = {}
        self.first_wall: dict[str, float] = {}
        self.names: dict[str, set[str]] = {}
        self.ready = threading.Event()
        self._stop_event = threading.Event()

    def _see(self, obj: dict[str, Any]) -> None:
        k = self.key(obj)
        if k is None:
            return
        if k not in self.first:
            self.first[k], self.first_wall[k] = time.monotonic(), time.time()
        self.names.setdefault(k, set()).add(obj["metadata"]["name"])

    def run(self) -> None:
        rv: str | None = None
        while not self._stop_event.is_set():
            try:
                if rv is None:
                    listing = json.loads(self.list_call(_preload_content=False).data)
                    for obj in listing.get("items", []):
                        self._see(obj)
                    rv = listing["metadata"]["resourceVersion"]
                    self.ready.set()
                resp = self.list_call(
                    watch=True,
                    resource_version=rv,
                    timeout_seconds=5,
                    allow_watch_bookmarks=True,
                    _preload_content=False,
                    _request_timeout=30,
                )
                for line in iter_resp_lines(resp):
                    event = json.loads(line)
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        rv = None  # 410 Gone: list again
                        break
                    rv = obj["metadata"]["resourceVersion"]
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._see(obj)
                    if self._stop_event.is_set():
                        break
            except Exception as err:  # a dropped watch: resume
                print(f"watch: {err!r}", file=sys.stderr)
                time.sleep(0.2)

    def stop(self) -> None:
        self._stop_event.set()


def failing_pod_key(obj: dict[str, Any]) -> str | None:
    for status in (obj.get("status") or {}).get("containerStatuses") or []:
        if ((status.get("state") or {}).get("waiting") or {}).get("reason") in FAILING:
            return str(obj["metadata"]["name"])
    return None


def target_key(obj: dict[str, Any]) -> str | None:
    return str(((obj.get("spec") or {}).get("target") or {}).get("name") or "") or None


# -- the cluster ------------------------------------------------------------------------------------------
@dataclass
class Bench:
    """A private control plane with an audit log, one namespace served by the operator, the bench's clients."""

    work: Path
    dev: DevCluster
    cluster: Cluster
    namespace: str
    audit_log: Path
    operators: OperatorFactory
    api: client.ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.api = self.new_client()

    def new_client(self) -> client.ApiClient:
        """An admin client that the audit log names by its user agent (each watch thread gets its own)."""
        api = config.new_client_from_config(str(self.cluster.kubeconfig))
        api.user_agent = USER_AGENT
        api.configuration.connection_pool_maxsize = 16
        return api

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def start_operator(self, env: dict[str, str] | None = None, start: bool = True) -> Operator:
        return self.operators(self.namespace, peering="remediator-bench", env=env, start=start, timeout=120)

    def watch_failing_pods(self) -> Sightings:
        core = client.CoreV1Api(self.new_client())
        return self._started(Sightings(lambda **kw: core.list_namespaced_pod(self.namespace, **kw), failing_pod_key))

    def watch_custom(self, plural: str) -> Sightings:
        custom = client.CustomObjectsApi(self.new_client())

        def call(**kw: Any) -> Any:
            return custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, **kw)

        return self._started(Sightings(call, target_key))

    @staticmethod
    def _started(s: Sightings) -> Sightings:
        s.start()
        if not s.ready.wait(30):
            raise SystemExit("a bench watch did not start within 30 s")
        return s

    def create_deployments(self, bodies: list[dict[str, Any]], threads: int = 8) -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda b: self.apps.create_namespaced_deployment(self.namespace, b), bodies))

    def running_pods(self, want: int, timeout: float) -> list[dict[str, Any]]:
        """Wait (bounded) until `want` Pods of the namespace are Running and return them."""
        deadline = time.monotonic() + timeout
        while True:
            raw = self.core.list_namespaced_pod(self.namespace, _preload_content=False)
            pods = [p for p in json.loads(raw.data)["items"] if (p.get("status") or {}).get("phase") == "Running"]
            if len(pods) >= want:
                return pods
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(pods)} of {want} Pods Running after {timeout:.0f} s")
            time.sleep(max(1.0, want / 2000))  # a list of 10,000 Pods is itself work for the server

    def remediations(self) -> list[dict[str, Any]]:
        got = self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, "remediations")
        return list(got["items"])

    def requests(self) -> list[audit.Request]:
        return audit.read(self.audit_log)


def _operator_identity(cluster: Cluster, work: Path) -> Path:
    """A ServiceAccount bound to cluster-admin and a kubeconfig with its token: the audit log then tells the
    operator's requests from the bench's, the controllers' and kwok's (which all use the admin certificate)."""
    ns, name = OPERATOR_SA
    core, rbac = client.CoreV1Api(cluster.api), client.RbacAuthorizationV1Api(cluster.api)
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
    rbac.create_cluster_role_binding({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    })  # fmt: skip
    spec = client.V1TokenRequestSpec(audiences=[], expiration_seconds=6 * 3600)
    token = core.create_namespaced_service_account_token(name, ns, client.AuthenticationV1TokenRequest(spec=spec))
    admin = json.loads(cluster.kubeconfig.read_text())
    admin["users"] = [{"name": name, "user": {"token": token.status.token}}]
    admin["contexts"][0]["context"]["user"] = name
    path = work / "operator.kubeconfig"
    path.write_text(json.dumps(admin, indent=2))
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def bench_cluster(
    namespace: str, nodes: int = 3, keep: bool = False, controllers_qps: float | None = None
) -> Iterator[Bench]:
    """Start a private control plane with an audit log, the CRDs and admission policy, a namespace with a
    propose-only cluster-default policy; stop everything (and remove the directory unless `keep`) at the end.
    `controllers_qps`: the controller-manager's and scheduler's client rate (DevCluster), for benches that
    create thousands of Pods; None keeps their defaults."""
    work = Path(tempfile.mkdtemp(prefix="remediator-bench-"))
    audit_log = work / "audit.log"
    dev = DevCluster(work / "cluster", nodes=nodes, audit_log=audit_log, controllers_qps=controllers_qps)
    operators: OperatorFactory | None = None
    try:
        started = time.monotonic()
        kubeconfig = dev.up(timeout=600)
        admin = Cluster(kubeconfig, config.new_client_from_config(str(kubeconfig)), dev)
        admin.kubectl("apply", "--server-side", "-f", str(CRDS))
        admin.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))
        admin.kubectl("apply", "--server-side", "-f", str(ADMISSION))
        core = client.CoreV1Api(admin.api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        # The operator's cluster default (its policy namespace is the bench namespace): propose only, so the
        # measured path ends when the Remediation exists; applying would only add load.
        policy = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RemediationPolicy",
            "metadata": {"name": "cluster-default"},
            "spec": {"autoApplyThreshold": 1.0},
        }
        client.CustomObjectsApi(admin.api).create_namespaced_custom_object(
            GROUP, VERSION, namespace, "remediationpolicies", policy
        )
        operator_cluster = Cluster(_operator_identity(admin, work), admin.api, dev)
        operators = OperatorFactory(operator_cluster, work / "operators")
        print(f"control plane ({nodes} simulated nodes) up in {time.monotonic() - started:.0f} s; work dir {work}")
        yield Bench(work, dev, admin, namespace, audit_log, operators)
    finally:
        if operators is not None:
            operators.stop_all()
        dev.down()
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def request_table(counts: dict[str, int], per: int, errors: dict[str, int] | None = None) -> str:
    """`verb resource  count  per-unit` rows, largest first, and the error answers after them."""
    rows = [f"{'request':<40} {'count':>8} {'per Pod':>8}"]
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        rows.append(f"{key:<40} {n:>8} {n / per:>8.2f}")
    total = sum(counts.values())
    rows.append(f"{'total':<40} {total:>8} {total / per:>8.2f}")
    for key, n in sorted((errors or {}).items(), key=lambda kv: -kv[1]):
        rows.append(f"  answered {key:<30} {n:>8}")
    return "\n".join(rows)
