"""Start, stop and inspect the local control plane; its state (ports, pids) lives in one directory."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from remediator_dev.devcluster import audit, binaries
from remediator_dev.devcluster.errors import DevClusterError
from remediator_dev.devcluster.pki import (
    FRONT_PROXY_CLIENT,
    AggregationPKIPaths,
    PKIPaths,
    ensure_aggregation_pki,
    ensure_pki,
)

STAGES = Path(__file__).with_name("kwok-stages.yaml")
# Simulated resource usage and the kubelet /metrics/resource endpoint kwok serves for metrics-server.
KWOK_METRICS = Path(__file__).with_name("kwok-metrics.yaml")
CONTEXT = "kube-remediator-dev"
# Start order; `down` stops in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
# Started after COMPONENTS when its binary has been built (hack/build-tools.sh metrics-server); never built
# on demand, the cluster works without it (metrics.k8s.io is then not served).
METRICS_SERVER = "metrics-server"
_PORT_NAMES = ("etcd_client", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok", "metrics_server")
# metrics.k8s.io through the aggregation layer: an APIService naming a Service of type ExternalName, which
# the aggregator resolves to <externalName>:<APIService port> (Endpoints may not hold loopback addresses).
METRICS_APISERVICE = "v1beta1.metrics.k8s.io"
METRICS_RESOLUTION_SECONDS = 10  # metrics-server's minimum
_METRICS_PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path"


def default_dir() -> Path:
    return Path(os.environ.get("REMEDIATOR_DEV_CLUSTER_DIR", Path.home() / ".kube-remediator" / "dev-cluster"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); /proc tells the truth.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _runs(pid: int | None, component: str) -> bool:
    """True while `pid` is alive and is `component` (its argv[0] names the binary): a pid recorded by an
    earlier boot or a crashed run may belong to another process by now, which must be neither trusted nor
    signalled."""
    if pid is None or not _alive(pid):
        return False
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return False
    return Path(argv0).name == component


@dataclass
class State:
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
            return cls(ports=dict(data.get("ports", {})), pids=dict(data.get("pids", {})))
        except (ValueError, TypeError, AttributeError) as err:
            raise DevClusterError(
                f"{path} is unreadable ({err}): a stale state directory (an interrupted run or another version); "
                f"remove it (rm -rf {path.parent}) and run `remediator-dev cluster up` again"
            ) from None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


class DevCluster:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok, as local processes."""

    def __init__(
        self,
        directory: Path | None = None,
        nodes: int = 3,
        audit_log: Path | None = None,
        controllers_qps: float | None = None,
    ) -> None:
        """`audit_log`: kube-apiserver writes one JSON line per request there (audit.POLICY: metadata only,
        no watches or Leases), read with remediator_dev.devcluster.audit. It takes effect when `up` starts
        the API server; an API server already running is left as it is.
        `controllers_qps`: the client rate (and twice that as burst) of kube-controller-manager and
        kube-scheduler, for benchmarks that create thousands of Pods (their defaults, 20 and 50 per second,
        make 10,000 Pods take minutes); None keeps the defaults. Like `audit_log`, it applies when `up`
        starts them."""
        self.dir = (directory or default_dir()).resolve()
        self.nodes = nodes
        self.controllers_qps = controllers_qps
        self.audit_log = audit_log.resolve() if audit_log is not None else None
        self.kubeconfig = self.dir / "kubeconfig"
        self._state_path = self.dir / "state.json"
        self._pki = PKIPaths.under(self.dir / "pki")
        self._agg = AggregationPKIPaths.under(self.dir / "pki")

    # -- public ---------------------------------------------------------------------------------------
    def up(self, timeout: float = 180.0) -> Path:
        """Bring every component up (idempotent: running components are left alone) and return the
        kubeconfig path once the API server is ready, controllers run and the simulated nodes are Ready."""
        self.dir.mkdir(parents=True, exist_ok=True)
        state = State.load(self._state_path)
        if self._all_running(state) and self._apiserver_ready(state):
            return self.kubeconfig
        bins = binaries.ensure()
        components = self._components()
        if METRICS_SERVER in components:
            bins[METRICS_SERVER] = binaries.bin_dir() / METRICS_SERVER
        ensure_pki(self.dir / "pki")
        ensure_aggregation_pki(self.dir / "pki")
        self._assign_ports(state)
        self._write_kubeconfig(state)
        deadline = time.monotonic() + timeout
        for name in components:
            if not _runs(state.pids.get(name), name):
                state.pids[name] = self._start(name, bins, state)
                state.save(self._state_path)
            self._wait_ready(name, state, deadline)
        self._ensure_nodes(state, deadline)
        if METRICS_SERVER in components:
            self._register_metrics_api(state)
        return self.kubeconfig

    def metrics_enabled(self) -> bool:
        """True when metrics-server is part of this cluster (its binary is built), i.e. metrics.k8s.io is served."""
        return METRICS_SERVER in self._components()

    def down(self) -> None:
        state = State.load(self._state_path)
        for name in reversed((*COMPONENTS, METRICS_SERVER)):
            pid = state.pids.pop(name, None)
            if pid is not None and _runs(pid, name):
                _terminate(pid)
        if self._state_path.exists():
            state.save(self._state_path)

    def status(self) -> dict[str, str]:
        state = State.load(self._state_path)
        report = {}
        for name in (*COMPONENTS, METRICS_SERVER):
            pid = state.pids.get(name)
            if _runs(pid, name):
                report[name] = f"running (pid {pid})"
            else:
                built = name in self._components()
                report[name] = "stopped" if built else "not built (hack/build-tools.sh metrics-server)"
        report["apiserver-ready"] = "yes" if self._apiserver_ready(state) else "no"
        if METRICS_SERVER in self._components():
            available = report["apiserver-ready"] == "yes" and self.metrics_api_available()
            report["metrics-api"] = "available" if available else "not available"
        report["kubeconfig"] = str(self.kubeconfig)
        return report

    def server_url(self) -> str:
        return f"https://127.0.0.1:{State.load(self._state_path).ports['apiserver']}"

    def log_path(self, component: str) -> Path:
        return self.dir / "logs" / f"{component}.log"

    # -- processes ------------------------------------------------------------------------------------
    @staticmethod
    def _components() -> tuple[str, ...]:
        if (binaries.bin_dir() / METRICS_SERVER).exists():
            return (*COMPONENTS, METRICS_SERVER)
        return COMPONENTS

    def _assign_ports(self, state: State) -> None:
        for name in _PORT_NAMES:
            port = state.ports.get(name)
            owner = _PORT_OWNER[name]
            if port is None or (not _runs(state.pids.get(owner), owner) and not _port_free(port)):
                state.ports[name] = _free_port()
        state.save(self._state_path)

    def _command(self, name: str, bins: dict[str, Path], state: State) -> list[str]:
        p, pki, agg, d = state.ports, self._pki, self._agg, self.dir
        if name == "etcd":
            return [
                str(bins["etcd"]),
                "--name=dev",
                f"--data-dir={d / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{p['etcd_client']}",
                f"--advertise-client-urls=http://127.0.0.1:{p['etcd_client']}",
                f"--listen-peer-urls=http://127.0.0.1:{p['etcd_peer']}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{p['etcd_peer']}",
                f"--initial-cluster=dev=http://127.0.0.1:{p['etcd_peer']}",
                # A throwaway test cluster: durability is not worth the fsync latency.
                "--unsafe-no-fsync",
                "--quota-backend-bytes=2147483648",
                "--log-level=warn",
            ]
        if name == "kube-apiserver":
            return [
                str(bins["kube-apiserver"]),
                f"--etcd-servers=http://127.0.0.1:{p['etcd_client']}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={p['apiserver']}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--api-audiences=https://kubernetes.default.svc.cluster.local",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
                # kwok's server stands in for kubelets: logs and evictions go through it.
                f"--kubelet-certificate-authority={pki.ca_cert}",
                f"--kubelet-client-certificate={pki.admin_cert}",
                f"--kubelet-client-key={pki.admin_key}",
                "--kubelet-preferred-address-types=InternalIP",
                f"--cert-dir={d / 'pki' / 'generated'}",
                # The aggregation layer (metrics.k8s.io): kube-apiserver proxies as front-proxy-client and
                # extension servers trust the user it names in these headers.
                f"--requestheader-client-ca-file={agg.front_proxy_ca_cert}",
                f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={agg.front_proxy_client_cert}",
                f"--proxy-client-key-file={agg.front_proxy_client_key}",
                *self._audit_flags(),
            ]
        if name == "kube-controller-manager":
            return [
                str(bins["kube-controller-manager"]),
                f"--kubeconfig={self.kubeconfig}",
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca_cert}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={p['controller_manager']}",
                "--use-service-account-credentials=false",
                "--controllers=*,-nodeipam,-cloud-node-lifecycle",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--profiling=false",
                *self._qps_flags(),
            ]
        if name == "kube-scheduler":
            return [
                str(bins["kube-scheduler"]),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={p['scheduler']}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--profiling=false",
                *self._qps_flags(),
            ]
        if name == "kwok":
            return [
                str(bins["kwok"]),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={STAGES}",
                f"--config={KWOK_METRICS}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-ip=127.0.0.1",
                f"--node-port={p['kwok']}",
                f"--server-address=127.0.0.1:{p['kwok']}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                "--cidr=10.244.0.1/16",
                # kwok keeps node Leases fresh; without them the node controller marks Pods NotReady.
                "--node-lease-duration-seconds=40",
            ]
        if name == METRICS_SERVER:
            return [
                str(bins[METRICS_SERVER]),
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={p['metrics_server']}",
                f"--tls-cert-file={agg.metrics_server_cert}",
                f"--tls-private-key-file={agg.metrics_server_key}",
                # kwok's simulated kubelets: 127.0.0.1 and the node's kubelet port, with kube-apiserver's
                # serving cert (127.0.0.1 is in its SANs), so their TLS is verified against the cluster CA.
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                f"--kubelet-certificate-authority={pki.ca_cert}",
                f"--metric-resolution={METRICS_RESOLUTION_SECONDS}s",
                "--kubelet-request-timeout=5s",  # must stay below 90 % of the resolution
                "--profiling=false",
            ]
        raise DevClusterError(f"unknown component {name}")

    def _qps_flags(self) -> list[str]:
        if self.controllers_qps is None:
            return []
        qps = max(1.0, self.controllers_qps)
        return [f"--kube-api-qps={qps:g}", f"--kube-api-burst={round(2 * qps)}"]

    def _audit_flags(self) -> list[str]:
        if self.audit_log is None:
            return []
        policy = self.dir / "audit-policy.yaml"
        policy.write_text(audit.POLICY)
        self.audit_log.parent.mkdir(parents=True, exist_ok=True)
        return [
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--audit-log-maxsize=0",  # never rotated: a benchmark reads the one file whole
        ]

    def _start(self, name: str, bins: dict[str, Path], state: State) -> int:
        log = self.log_path(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            # A new session: the control plane outlives the `up` command and ignores its terminal's ^C.
            proc = subprocess.Popen(
                self._command(name, bins, state),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.dir,
            )
        return proc.pid

    # -- readiness ------------------------------------------------------------------------------------
    def _all_running(self, state: State) -> bool:
        return all(_runs(state.pids.get(n), n) for n in self._components())

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self._pki.ca_cert))
        ctx.load_cert_chain(str(self._pki.admin_cert), str(self._pki.admin_key))
        return ctx

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        state: State | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        """A minimal admin client for start-up work; everything else uses kubectl or the Python client."""
        state = state or State.load(self._state_path)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"https://127.0.0.1:{state.ports['apiserver']}{path}",
            data=data,
            method=method,
            headers={"Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=5) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw.startswith(b"{") else {"body": raw.decode()})
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, (json.loads(raw) if raw.startswith(b"{") else {"body": raw.decode()})

    def _apiserver_ready(self, state: State) -> bool:
        if "apiserver" not in state.ports or not self._pki.complete():
            return False
        try:
            code, _ = self.api("GET", "/readyz", state=state)
        except (OSError, ssl.SSLError):
            return False
        return code == 200

    def _component_ready(self, name: str, state: State) -> bool:
        if name == "etcd":
            try:
                url = f"http://127.0.0.1:{state.ports['etcd_client']}/health"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    return bool(json.loads(resp.read()).get("health") == "true")
            except OSError:
                return False
        if name == "kube-apiserver":
            return self._apiserver_ready(state)
        if name in ("kube-controller-manager", "kube-scheduler"):
            port = state.ports["controller_manager" if name == "kube-controller-manager" else "scheduler"]
            insecure = ssl.create_default_context()
            # Their serving certs are self-signed on start-up; /healthz is public by design.
            insecure.check_hostname = False
            insecure.verify_mode = ssl.CERT_NONE
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=insecure, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        if name == "kwok":
            return _port_open(state.ports["kwok"])
        if name == METRICS_SERVER:
            return _port_open(state.ports["metrics_server"])
        return False

    def _wait_ready(self, name: str, state: State, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._component_ready(name, state):
                return
            pid = state.pids.get(name)
            if pid is not None and not _alive(pid):
                raise DevClusterError(f"{name} exited during start-up{self._stale_hint(name)}")
            time.sleep(0.2)
        raise DevClusterError(f"{name} was not ready in time{self._stale_hint(name)}")

    def _stale_hint(self, name: str) -> str:
        """What to do about a component that did not start, from its log."""
        tail = self._log_tail(name)
        if "address already in use" in tail:
            advice = (
                "another process took one of its ports after `up` chose them: run `remediator-dev cluster up` "
                "again (it chooses free ports for the ones taken)"
            )
        else:
            advice = (
                "if the state directory is stale (an interrupted run, another version), run "
                f"`remediator-dev cluster down`, remove it (rm -rf {self.dir}) and try again"
            )
        return f" (log: {self.log_path(name)}): {advice}. Last lines:\n{tail}"

    def _log_tail(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _ensure_nodes(self, state: State, deadline: float) -> None:
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            code, existing = self.api("GET", f"/api/v1/nodes/{name}", state=state)
            if code == 404:
                code, body = self.api("POST", "/api/v1/nodes", _node(name), state=state)
                if code not in (201, 409):
                    raise DevClusterError(f"creating node {name} failed: {code} {body}")
            elif code == 200 and _METRICS_PATH_ANNOTATION not in existing.get("metadata", {}).get("annotations", {}):
                # A node created before metrics-server was part of the cluster.
                patch = {"metadata": {"annotations": {_METRICS_PATH_ANNOTATION: _metrics_path(name)}}}
                code, body = self.api(
                    "PATCH", f"/api/v1/nodes/{name}", patch, state=state, content_type="application/merge-patch+json"
                )
                if code != 200:
                    raise DevClusterError(f"annotating node {name} failed: {code} {body}")
        while time.monotonic() < deadline:
            code, body = self.api("GET", "/api/v1/nodes?labelSelector=type%3Dkwok", state=state)
            ready = [n for n in body.get("items", []) if _node_ready(n)]
            default_sa, _ = self.api("GET", "/api/v1/namespaces/default/serviceaccounts/default", state=state)
            if len(ready) >= self.nodes and default_sa == 200:
                return
            time.sleep(0.3)
        raise DevClusterError("simulated nodes did not become Ready in time:\n" + self._log_tail("kwok"))

    def _register_metrics_api(self, state: State) -> None:
        """Serve metrics.k8s.io from metrics-server on loopback: an ExternalName Service (localhost) and the
        APIService naming it, with the cluster CA that signed metrics-server's serving cert. Applied on every
        `up`, so a changed metrics-server port is followed."""
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {"type": "ExternalName", "externalName": "localhost"},
        }
        apiservice = {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": METRICS_APISERVICE},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {
                    "name": "metrics-server",
                    "namespace": "kube-system",
                    "port": state.ports["metrics_server"],
                },
                "caBundle": base64.b64encode(self._pki.ca_cert.read_bytes()).decode(),
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        }
        apply = "?fieldManager=remediator-dev&force=true"
        for path, body in (
            (f"/api/v1/namespaces/kube-system/services/metrics-server{apply}", service),
            (f"/apis/apiregistration.k8s.io/v1/apiservices/{METRICS_APISERVICE}{apply}", apiservice),
        ):
            code, reply = self.api("PATCH", path, body, state=state, content_type="application/apply-patch+yaml")
            if code not in (200, 201):
                raise DevClusterError(f"registering metrics.k8s.io failed: PATCH {path}: {code} {reply}")

    def metrics_api_available(self) -> bool:
        """True when the aggregator reports the metrics.k8s.io APIService Available."""
        try:
            code, body = self.api("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{METRICS_APISERVICE}")
        except (OSError, ssl.SSLError, KeyError):
            return False
        conditions = body.get("status", {}).get("conditions", []) if code == 200 else []
        return any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions)

    def _write_kubeconfig(self, state: State) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": CONTEXT,
            "clusters": [
                {
                    "name": CONTEXT,
                    "cluster": {
                        "server": f"https://127.0.0.1:{state.ports['apiserver']}",
                        "certificate-authority": str(self._pki.ca_cert),
                    },
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {"client-certificate": str(self._pki.admin_cert), "client-key": str(self._pki.admin_key)},
                }
            ],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "admin"}}],
        }
        tmp = self.kubeconfig.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.kubeconfig)


_PORT_OWNER = {
    "etcd_client": "etcd",
    "etcd_peer": "etcd",
    "apiserver": "kube-apiserver",
    "controller_manager": "kube-controller-manager",
    "scheduler": "kube-scheduler",
    "kwok": "kwok",
    "metrics_server": METRICS_SERVER,
}


def _metrics_path(node: str) -> str:
    """Where kwok serves a node's kubelet /metrics/resource (the Metric in kwok-metrics.yaml)."""
    return f"/metrics/nodes/{node}/metrics/resource"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _terminate(pid: int, grace: float = 10.0) -> None:
    if not _alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if not _alive(pid):
            break
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {
                "kwok.x-k8s.io/node": "fake",
                "node.alpha.kubernetes.io/ttl": "0",
                # metrics-server scrapes this path instead of /metrics/resource.
                _METRICS_PATH_ANNOTATION: _metrics_path(name),
            },
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "status": {
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
        },
    }


def _node_ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in node.get("status", {}).get("conditions", [])
    )
