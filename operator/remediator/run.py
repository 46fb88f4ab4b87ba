"""`remediator run`: the operator process (kopf) with the model loaded once at start-up."""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import sys
import time

import kopf
from pydantic import ValidationError

from remediator import handlers  # noqa: F401  (registers the handlers)
from remediator.adapters.kube import NoCluster, api_client, cluster_problem
from remediator.memories import CompactMemories
from remediator.settings import Settings, explain, load
from remediator_model import artifact
from remediator_model.artifact import ArtifactError


def preflight(settings: Settings) -> str | None:
    """What would stop the operator in its first seconds, as one sentence saying what to do; None when fine.
    Checked before kopf starts, whose own reaction is a retry loop with a traceback every minute."""
    if settings.metrics_port and not port_free(settings.metrics_port):
        return (
            f"port {settings.metrics_port} (--metrics-port, for /metrics and /healthz) is in use by another "
            "process: stop it, or choose another port with --metrics-port N (REMEDIATOR_METRICS_PORT); 0 turns it off"
        )
    try:
        artifact.load(settings.model_path)
    except ArtifactError as err:
        return f"the model artifact cannot be used: {err}"
    try:
        client = api_client()
    except NoCluster as err:
        return str(err)
    try:
        return cluster_problem(client)
    finally:
        client.close()


# An API server that is down or restarting at start-up is waited for, briefly, rather than turned into a pod
# restart loop whose back-off outlasts the outage; configuration problems stop at once.
STARTUP_WAIT_SECONDS = 60.0
_TRANSIENT = re.compile(r"cannot reach the API server|answered 5\d\d")


def preflight_waiting(settings: Settings, wait: float = STARTUP_WAIT_SECONDS, interval: float = 5.0) -> str | None:
    """preflight(), retried while the only problem is an unreachable or failing API server (up to `wait`)."""
    deadline = time.monotonic() + wait
    problem = preflight(settings)
    while problem and _TRANSIENT.search(problem) and time.monotonic() + interval < deadline:
        print(f"note: {problem}; retrying for up to {wait:.0f} s", file=sys.stderr)
        time.sleep(interval)
        problem = preflight(settings)
    return problem


SWITCH_INTERVAL_SECONDS = 0.001


def port_free(port: int) -> bool:
    """True when the metrics server could bind `port` (as it does: all addresses, SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args)
    except ValidationError as err:
        print(f"error: invalid settings: {explain(err)}", file=sys.stderr)
        return 2
    problem = preflight_waiting(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if settings.mongodb_uri is None:
        print("note: no MongoDB configured; feedback stays in the Remediations' status", file=sys.stderr)
    kopf.configure(verbose=bool(getattr(args, "verbose", False)), log_format=kopf.LogFormat.JSON, log_refkey="object")
    # A thread that waits on I/O (a handler's answer arrived) gets the interpreter back within 1 ms, not 5 ms, of
    # asking: a failure's path hands over between the event loop, intake, triage and the read pool several times.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    asyncio.run(
        kopf.operator(
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=False,
            peering_name=settings.shard_peering,
            memo=kopf.Memo(settings=settings),
            memories=CompactMemories(),  # lets the decoded start-up listing's memory go (memories.py)
        )
    )
    return 0
