"""kopf wiring only: each handler turns an event into one call of intake, triage, the reconciler or the
feedback recorder, and says how a failure retries (TemporaryError) or stops (PermanentError)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError
from urllib3.exceptions import HTTPError

from remediator import api, metrics
from remediator.adapters.kube import Kube, api_client
from remediator.domain import clock, inflight, waiting
from remediator.learning.feedback import pending_feedback
from remediator.notifications.sender import outranked
from remediator.runtime import Runtime
from remediator.settings import Settings, load

GROUP, VERSION = api.GROUP, api.VERSION
log = logging.getLogger(__name__)
_TRANSIENT = {0, 408, 409, 425, 429, 500, 502, 503, 504}
HEARTBEAT_SECONDS = 5.0
ACTING_PROBE_SECONDS = 10.0


@contextmanager
def typed_retries(what: str) -> Iterator[None]:
    """API trouble that passes (5xx, 429, conflicts, a dropped connection) retries with a delay; input that
    can never work (a 4xx, a value the domain refuses) stops retrying and says why."""
    try:
        yield
    except ApiException as err:
        if err.status in _TRANSIENT:
            raise kopf.TemporaryError(f"{what}: API server said {err.status} {err.reason}", delay=5) from err
        raise kopf.PermanentError(f"{what}: API server said {err.status} {err.reason}") from err
    except (HTTPError, OSError) as err:
        raise kopf.TemporaryError(f"{what}: cannot reach the API server: {err}", delay=5) from err
    except (ValidationError, ValueError) as err:
        raise kopf.PermanentError(f"{what}: {err}") from err


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **kwargs: Any) -> None:
    opts: Settings = getattr(memo, "settings", None) or load()
    # Progress and diff-base live in annotations of their own prefix (kopf ignores changes under it, so it
    # must not be remediator.dev/, where the approval and feedback annotations live); status stays ours.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=api.KOPF_PREFIX)
    settings.peering.name = opts.peering
    settings.peering.mandatory = True
    # A dead replica's peering record counts for this long: the standby takes over within about that time
    # (kopf's default of 60 s left the cluster without an acting replica for up to a minute).
    settings.peering.lifetime = opts.peering_lifetime_seconds
    # Replicas need distinct priorities: the highest acts, the others wait (equal ones would all freeze).
    settings.peering.priority = int(os.environ.get("REMEDIATOR_PRIORITY") or random.randint(1, 1_000_000))
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.networking.request_timeout = 30
    settings.execution.max_workers = 8

    kube = Kube(api_client())
    kube.ensure_peering(opts.peering, opts.namespaces)
    memo.runtime = Runtime.build(opts, kube)
    index = kwargs["remediations_pending_feedback"]
    notifying = kwargs["remediations_notifying"]
    priority = settings.peering.priority

    def acting() -> bool:  # a standby replica (kopf paused it) sends no notification
        return not outranked(kube.peering_status(opts.peering, opts.namespaces), priority, clock.now())

    memo.runtime.start(lambda: list(index.get(None, ())), lambda: list(notifying.get(None, ())), acting)
    memo.acting = acting
    in_flight = kwargs["remediations_in_flight"]
    holder = memo.runtime.holder
    metrics.WATCHED.bind(
        metrics.Sources(
            in_flight=lambda: [e for e in in_flight.get(None, ()) if e is not None],
            pending_feedback=lambda: len(list(index.get(None, ()))),
            model_version=lambda: holder.version,
        )
    )
    if opts.metrics_port:
        memo.metrics_server = metrics.serve(opts.metrics_port)
    metrics.mark_ready()


@kopf.on.startup()
async def heartbeat(memo: kopf.Memo, **_: Any) -> None:
    """/healthz fails when kopf's event loop stops turning: this task beats in that loop."""

    async def beat() -> None:
        while True:
            metrics.beat()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    memo.heartbeat = asyncio.get_running_loop().create_task(beat())


@kopf.on.startup()
async def acting_probe(memo: kopf.Memo, **_: Any) -> None:
    """remediator_acting: whether this replica acts (read from kopf's peering object off the event loop)."""

    async def probe() -> None:
        while True:
            acting = getattr(memo, "acting", None)
            if acting is not None:
                try:
                    metrics.set_acting(await asyncio.to_thread(acting))
                except Exception as err:  # unknown is not acting: the alert asks whether ANY replica acts
                    log.debug("acting probe failed: %s", err)
                    metrics.set_acting(False)
            await asyncio.sleep(ACTING_PROBE_SECONDS)

    memo.acting_probe = asyncio.get_running_loop().create_task(probe())


@kopf.on.cleanup()
def cleanup(memo: kopf.Memo, **_: Any) -> None:
    runtime: Runtime | None = getattr(memo, "runtime", None)
    if runtime is not None:
        runtime.stop()
    server = getattr(memo, "metrics_server", None)
    if server is not None:
        server.shutdown()


# -- indexes: kept by the watch, read without API calls ------------------------------------------------------
# An object leaves a kopf index only when its `when` filter stops matching (a None result keeps the old entry),
# so membership is the filter's, and the function only says what to keep.
def _feedback_pending(body: kopf.Body, **_: Any) -> bool:
    return pending_feedback(body)


def _not_final(body: kopf.Body, **_: Any) -> bool:
    return inflight.in_flight(body) is not None


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=_feedback_pending)
def remediations_pending_feedback(body: kopf.Body, **_: Any) -> dict[None, dict[str, Any]]:
    """Remediations whose feedback waits for the store: the learning loop's retry list."""
    return {None: dict(body)}


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=_not_final)
def remediations_in_flight(body: kopf.Body, **_: Any) -> dict[None, inflight.InFlight | None]:
    """Remediations not yet final, with their phase's deadline: the in-flight and approval gauges."""
    return {None: inflight.in_flight(body)}


@kopf.index(GROUP, VERSION, api.REMEDIATIONS)
def remediations_notifying(body: kopf.Body, memo: kopf.Memo, **_: Any) -> dict[None, dict[str, Any]]:
    """Remediations with a notification to send or an alert firing: the notification sender's work list.
    An empty mapping, not None, when nothing is wanted: kopf keeps an object's last entry when the
    indexing function returns None, so a delivered notification would stay on the list."""
    runtime: Runtime | None = getattr(memo, "runtime", None)
    notifier = runtime.notifier if runtime is not None else None
    return {None: dict(body)} if notifier is not None and notifier.wanted(dict(body)) else {}


# -- cluster watch: failures become ErrorEvents ------------------------------------------------------------
@kopf.on.event("", "v1", "pods")
def pod_changed(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    with typed_retries("pod"):
        memo.runtime.intake.on_pod(dict(body))


@kopf.on.event("", "v1", "events", when=lambda body, **_: body.get("type") == "Warning")
def warning_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    with typed_retries("event"):
        memo.runtime.intake.on_event(dict(body))


# -- ErrorEvents: classify and propose ---------------------------------------------------------------------
def _unhandled(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") in (None, api.EEPhase.PENDING)


@kopf.on.create(GROUP, VERSION, api.ERROREVENTS, when=_unhandled)
@kopf.on.resume(GROUP, VERSION, api.ERROREVENTS, when=_unhandled)
def errorevent(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    with typed_retries("errorevent"):
        result = memo.runtime.triage.handle(dict(body))
    patch.status.update(result.status)
    memo.runtime.learning.record_errorevent({**dict(body), "status": result.status})


# -- RemediationPolicies: tell their authors whether they are in effect ---------------------------------
# An event handler, not a change handler: it keeps no progress annotations on the policy (no write right on
# the policy itself is needed) and re-checks after every change; it writes only when the verdict changes.
@kopf.on.event(GROUP, VERSION, api.POLICIES)
def policy(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED":
        return
    current = list((body.get("status") or {}).get("conditions") or [])
    wanted = memo.runtime.policies.validity(dict(body.get("spec") or {}), current)
    if [(c["type"], c["status"], c["message"]) for c in wanted] != [
        (c.get("type"), c.get("status"), c.get("message")) for c in current
    ]:
        with typed_retries("policy"):
            meta = body["metadata"]
            memo.runtime.kube.patch_status(api.POLICIES, meta["namespace"], meta["name"], {"conditions": wanted})


# -- Remediations: decide, wait, apply, verify -------------------------------------------------------------
def _active(status: kopf.Status, **_: Any) -> bool:
    return not api.is_final(status.get("phase"))


def _reconcile(body: kopf.Body, memo: kopf.Memo) -> None:
    with typed_retries("remediation"):
        memo.runtime.reconciler.reconcile(dict(body))


@kopf.on.create(GROUP, VERSION, api.REMEDIATIONS)
@kopf.on.resume(GROUP, VERSION, api.REMEDIATIONS, when=_active)
@kopf.on.field(GROUP, VERSION, api.REMEDIATIONS, field="metadata.annotations", when=_active)
def remediation(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _reconcile(body, memo)


# Feedback annotations count in any phase, final ones included (a human judges after the fact).
@kopf.on.field(GROUP, VERSION, api.REMEDIATIONS, field="metadata.annotations")
def remediation_feedback(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    with typed_retries("feedback"):
        memo.runtime.recorder.human_feedback(dict(body))


# -- waiting without polling: woken at a deadline its status names, or when the verified workload changes -----
def _verifying(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") == api.Phase.VERIFYING


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=_verifying)
def remediations_verifying(body: kopf.Body, **_: Any) -> dict[waiting.WorkloadKey, tuple[str, str]]:
    """Remediations being verified, by the workload they verify: its watch events wake them."""
    return {waiting.verified_workload(body): (body["metadata"]["namespace"], body["metadata"]["name"])}


@kopf.on.event(GROUP, VERSION, api.REMEDIATIONS)
async def remediation_deadline(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Every watch event of a Remediation (kopf's listing at start-up too) schedules its next deadline."""
    memo.runtime.wakeups.track(body, gone=type == "DELETED")


@kopf.on.event("apps", "v1", "deployments")
@kopf.on.event("apps", "v1", "statefulsets")
@kopf.on.event("apps", "v1", "daemonsets")
@kopf.on.event("", "v1", "pods")
async def workload_changed(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    verifying = kwargs["remediations_verifying"]
    for workload in waiting.workloads_changed(body):
        for key in verifying.get(workload, ()):
            memo.runtime.wakeups.poke(key)
