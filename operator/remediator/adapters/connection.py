"""How to reach the API server: in-cluster (ServiceAccount) or a kubeconfig, read without the `kubernetes` client.

The operator process does not load the generated client (its thousands of model classes cost about 40 MB of
RSS, and kopf imports it whenever it is importable). This module reads what a kubeconfig can say that a
controller needs: the server, its CA (file or data), TLS verification and server name, and the user's
credentials: a token (inline or a file), a client certificate (file or data), basic auth, or an exec credential
plugin (``aws eks get-token`` and the like). Settings it cannot honour (an ``auth-provider``) are refused with
a message saying so, never silently dropped.

One `Connection` serves kopf (`kopf_info`) and the operator's own requests (`pool`, `authorization`), so both
use the same credentials, and a rotated token or an expired exec credential is re-read for both.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import urllib3
import yaml

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
# A projected ServiceAccount token is rotated by the kubelet; re-reading it this often follows the rotation.
TOKEN_REREAD_SECONDS = 60.0
# An exec credential is renewed this long before it expires, so no request is sent with a dying one.
EXEC_RENEW_EARLY_SECONDS = 60.0
EXEC_TIMEOUT_SECONDS = 30.0


class ConfigError(Exception):
    """No usable connection settings; the message says what is missing or unsupported."""


@dataclass(frozen=True)
class ExecPlugin:
    """A kubeconfig ``user.exec``: a command printing an ExecCredential (client.authentication.k8s.io)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1beta1"
    workdir: str | None = None


@dataclass
class Credentials:
    """What a request authenticates with at this moment (an exec plugin or a token file can change it)."""

    token: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    expires_at: float | None = None  # epoch seconds, for exec credentials that say when they expire


@dataclass
class Connection:
    server: str
    ca_file: str | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    token: str | None = None
    token_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    exec_plugin: ExecPlugin | None = None
    namespace: str | None = None
    source: str = ""  # "in-cluster" or the kubeconfig's path, for messages
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _file_token: tuple[float, str | None] = field(default=(0.0, None), repr=False, compare=False)
    _exec: Credentials | None = field(default=None, repr=False, compare=False)

    # -- credentials -------------------------------------------------------------------------------------
    def credentials(self, *, renew: bool = False) -> Credentials:
        """The credentials to send now. `renew`: the API server just answered 401, so an exec credential is
        fetched again and a token file re-read at once."""
        if self.exec_plugin is not None:
            with self._lock:
                now = time.time()
                cached = self._exec
                fresh = cached is not None and (
                    cached.expires_at is None or cached.expires_at - EXEC_RENEW_EARLY_SECONDS > now
                )
                if renew or not fresh:
                    self._exec = run_exec_plugin(self.exec_plugin)
                assert self._exec is not None
                return self._exec
        return Credentials(token=self._current_token(renew), cert_file=self.cert_file, key_file=self.key_file)

    def _current_token(self, renew: bool) -> str | None:
        if not self.token_file:
            return self.token
        with self._lock:
            read_at, token = self._file_token
            if renew or token is None or time.monotonic() - read_at > TOKEN_REREAD_SECONDS:
                try:
                    token = Path(self.token_file).read_text().strip() or None
                except OSError as err:
                    raise ConfigError(f"cannot read the token file {self.token_file}: {err}") from None
                self._file_token = (time.monotonic(), token)
            return token

    def authorization(self, *, renew: bool = False) -> str | None:
        """The Authorization header's value, or None when the client certificate authenticates."""
        creds = self.credentials(renew=renew)
        if creds.token:
            return f"Bearer {creds.token}"
        if self.username is not None and self.password is not None:
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    # -- transport ---------------------------------------------------------------------------------------
    def pool(self, *, maxsize: int = 16) -> urllib3.PoolManager:
        """A connection pool for this server: TLS verified against its CA unless the kubeconfig says insecure;
        no retries and no redirects (a caller decides what a failure means)."""
        kwargs: dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "block": False, "retries": False}
        if self.server.startswith("https"):
            kwargs["cert_reqs"] = "CERT_NONE" if self.insecure else "CERT_REQUIRED"
            if self.ca_file:
                kwargs["ca_certs"] = self.ca_file
            creds = self.credentials()
            if creds.cert_file:
                kwargs["cert_file"] = creds.cert_file
                kwargs["key_file"] = creds.key_file
            if self.tls_server_name:
                kwargs["server_hostname"] = self.tls_server_name
            if self.insecure:
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        return urllib3.PoolManager(**kwargs)


# -- loading ----------------------------------------------------------------------------------------------
def load(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """In-cluster when no kubeconfig is named and the process runs in a Pod; else the named kubeconfig, else
    $KUBECONFIG (as it is now; a list of files is merged, the first definition of a name winning, as kubectl
    does), else ~/.kube/config."""
    if kubeconfig is None and context is None:
        found = in_cluster()
        if found is not None:
            return found
    paths = [kubeconfig] if kubeconfig else _kubeconfig_paths()
    existing = [p for p in paths if p and Path(p).expanduser().is_file()]
    if not existing:
        raise ConfigError(f"no kubeconfig at {os.pathsep.join(paths)} and not running in a cluster")
    return from_kubeconfig(existing, context)


def _kubeconfig_paths() -> list[str]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path("~/.kube/config").expanduser())]


def in_cluster(root: Path = SERVICE_ACCOUNT) -> Connection | None:
    """The ServiceAccount's connection when running in a Pod (its token file and CA), else None."""
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    token = root / "token"
    if not host or not port or not token.is_file():
        return None
    if ":" in host:  # an IPv6 service address
        host = f"[{host}]"
    ca = root / "ca.crt"
    namespace = root / "namespace"
    return Connection(
        server=f"https://{host}:{port}",
        ca_file=str(ca) if ca.is_file() else None,
        token_file=str(token),
        namespace=namespace.read_text().strip() if namespace.is_file() else None,
        source="in-cluster",
    )


def _named(entries: list[Any], kind: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in entries or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out.setdefault(entry["name"], dict(entry.get(kind) or {}))
    return out


def from_kubeconfig(paths: list[str], context: str | None = None) -> Connection:
    clusters: dict[str, dict[str, Any]] = {}
    users: dict[str, dict[str, Any]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    current: str | None = None
    base_of: dict[int, Path] = {}  # id of an entry -> the directory relative paths in it are relative to
    for path in paths:
        file = Path(path).expanduser()
        try:
            doc = yaml.safe_load(file.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read the kubeconfig {file}: {err}") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"the kubeconfig {file} is not a mapping")
        for target, kind, key in ((clusters, "cluster", "clusters"), (users, "user", "users")):
            for name, entry in _named(doc.get(key) or [], kind).items():
                if name not in target:
                    target[name] = entry
                    base_of[id(entry)] = file.parent
        for name, entry in _named(doc.get("contexts") or [], "context").items():
            contexts.setdefault(name, entry)
        current = current or doc.get("current-context") or None
    where = paths[0] if len(paths) == 1 else os.pathsep.join(paths)
    chosen = context or current
    if not chosen:
        raise ConfigError(f"the kubeconfig {where} names no current-context")
    ctx = contexts.get(chosen)
    if ctx is None:
        raise ConfigError(f"the kubeconfig {where} has no context {chosen!r}")
    cluster = clusters.get(str(ctx.get("cluster")))
    if cluster is None or not cluster.get("server"):
        raise ConfigError(f"the kubeconfig {where}: context {chosen!r} names no cluster with a server")
    user = users.get(str(ctx.get("user")), {})
    if user.get("auth-provider"):
        raise ConfigError(
            f"the kubeconfig {where}: user {ctx.get('user')!r} uses an auth-provider, which kube-remediator does "
            "not support (use an exec credential plugin or a token)"
        )
    cluster_dir = base_of.get(id(cluster), Path("."))
    user_dir = base_of.get(id(user), Path("."))
    conn = Connection(
        server=str(cluster["server"]).rstrip("/"),
        ca_file=_file_or_data(cluster, "certificate-authority", cluster_dir),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=cluster.get("tls-server-name") or None,
        token=user.get("token") or None,
        token_file=_relative(user.get("tokenFile"), user_dir),
        cert_file=_file_or_data(user, "client-certificate", user_dir),
        key_file=_file_or_data(user, "client-key", user_dir),
        username=user.get("username"),
        password=user.get("password"),
        exec_plugin=_exec_plugin(user.get("exec"), user_dir),
        namespace=ctx.get("namespace") or None,
        source=where,
    )
    return conn


def _relative(path: Any, base: Path) -> str | None:
    if not path:
        return None
    p = Path(str(path)).expanduser()
    return str(p if p.is_absolute() else base / p)


def _file_or_data(entry: dict[str, Any], key: str, base: Path) -> str | None:
    """A kubeconfig's ``<key>`` (a path) or ``<key>-data`` (base64 PEM, written to a private temp file)."""
    data = entry.get(f"{key}-data")
    if data:
        try:
            return _private_file(base64.b64decode(data, validate=True))
        except ValueError:
            raise ConfigError(f"{key}-data in the kubeconfig is not base64") from None
    return _relative(entry.get(key), base)


def _exec_plugin(spec: Any, base: Path) -> ExecPlugin | None:
    if not spec:
        return None
    if not isinstance(spec, dict) or not spec.get("command"):
        raise ConfigError("the kubeconfig's user.exec names no command")
    env = tuple((str(e["name"]), str(e.get("value", ""))) for e in spec.get("env") or [] if "name" in e)
    command = str(spec["command"])
    # A relative command path with a directory part is relative to the kubeconfig, as kubectl resolves it.
    if os.sep in command and not os.path.isabs(command):
        command = str(base / command)
    return ExecPlugin(
        command=command,
        args=tuple(str(a) for a in spec.get("args") or ()),
        env=env,
        api_version=str(spec.get("apiVersion") or ExecPlugin.api_version),
    )


def run_exec_plugin(plugin: ExecPlugin) -> Credentials:
    """Run the credential plugin and read its ExecCredential (token, or client certificate and key)."""
    env = {**os.environ, **dict(plugin.env)}
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    try:
        done = subprocess.run(
            [plugin.command, *plugin.args],
            env=env,
            capture_output=True,
            timeout=EXEC_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f"the credential plugin {plugin.command} did not run: {err}") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-300:]
        raise ConfigError(f"the credential plugin {plugin.command} exited {done.returncode}: {tail}")
    try:
        status = json.loads(done.stdout).get("status") or {}
    except (ValueError, AttributeError):
        raise ConfigError(f"the credential plugin {plugin.command} printed no ExecCredential JSON") from None
    expires = status.get("expirationTimestamp")
    creds = Credentials(token=status.get("token") or None, expires_at=_epoch(expires) if expires else None)
    if status.get("clientCertificateData") and status.get("clientKeyData"):
        creds.cert_file = _private_file(str(status["clientCertificateData"]).encode())
        creds.key_file = _private_file(str(status["clientKeyData"]).encode())
    if not creds.token and not creds.cert_file:
        raise ConfigError(f"the credential plugin {plugin.command} returned neither a token nor a certificate")
    return creds


def _epoch(stamp: str) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError(f"the credential plugin's expirationTimestamp {stamp!r} is not RFC 3339") from None


_private_dir: str | None = None


def _private_file(data: bytes) -> str:
    """Write key material to a file only this user can read (TLS libraries take paths), removed at exit."""
    global _private_dir
    if _private_dir is None:
        _private_dir = tempfile.mkdtemp(prefix="remediator-tls-")
        atexit.register(shutil.rmtree, _private_dir, True)
    fd, path = tempfile.mkstemp(dir=_private_dir)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path
