"""kopf wiring only: each handler turns an event into one call of intake, triage, the reconciler or the
feedback recorder, and says how a failure retries (TemporaryError) or stops (PermanentError)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError
from urllib3.exceptions import HTTPError

from remediator import api, metrics
from remediator.adapters import connection
from remediator.adapters.kube import Kube, api_client
from remediator.adapters.kubeapi import ApiException
from remediator.domain import clock, cluster_facts, inflight, waiting
from remediator.domain.shard import Shard, stale_finalizers
from remediator.learning.feedback import pending_feedback
from remediator.notifications.sender import outranked
from remediator.pipeline.cluster_view import Caches
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
    memo.shard = opts.shard  # read by in_shard, the filter of every handler and index below
    # Progress and diff-base live in annotations of their own prefix (kopf ignores changes under it, so it
    # must not be remediator.dev/, where the approval and feedback annotations live); status stays ours.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=api.KOPF_PREFIX)
    # Each shard elects its own acting replica (docs/sharding.md); unsharded this is `peering` itself.
    settings.peering.name = opts.shard_peering
    settings.peering.mandatory = True
    # A shard that does not own an object removes kopf's finalizer from it when it needs none there (kopf's
    # rule), so shards sharing one name would take each other's off; unsharded it stays kopf's default.
    memo.kopf_finalizer = settings.persistence.finalizer  # kopf's default, the stem of every shard's name
    settings.persistence.finalizer = opts.shard.finalizer(memo.kopf_finalizer)
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
    kube.ensure_peering(opts.shard_peering, opts.namespaces)
    memo.runtime = Runtime.build(opts, kube, _intake_caches(kwargs))
    index = kwargs["remediations_pending_feedback"]
    notifying = kwargs["remediations_notifying"]
    priority = settings.peering.priority

    def acting() -> bool:  # a standby replica (kopf paused it) sends no notification
        return not outranked(kube.peering_status(opts.shard_peering, opts.namespaces), priority, clock.now())

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


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    """kopf connects with the operator's own connection settings (adapters/connection.py): in-cluster, or the
    kubeconfig with its exec credential plugin, which kopf's built-in kubeconfig login cannot run. kopf calls
    this again when the API server answers 401 or the credential's expiration comes, so it is read anew."""
    try:
        conn = connection.load()
        creds = conn.credentials(renew=True)
    except connection.ConfigError as err:
        raise kopf.TemporaryError(f"no credentials for the API server: {err}", delay=10) from err
    return kopf.ConnectionInfo(
        server=conn.server,
        ca_path=conn.ca_file,
        insecure=conn.insecure,
        username=conn.username,
        password=conn.password,
        token=creds.token,
        certificate_path=creds.cert_file,
        private_key_path=creds.key_file,
        default_namespace=conn.namespace,
        expiration=datetime.fromtimestamp(creds.expires_at, UTC) if creds.expires_at else None,
    )


# -- sharding: which objects this replica serves ---------------------------------------------------------
# Every handler and index takes `when=in_shard` (alone, or as sharded(other_filter)): an object another shard
# owns is invisible here, so kopf keeps no state, progress or finalizer of this shard on it.
def in_shard(namespace: str | None, name: str, resource: kopf.Resource, memo: kopf.Memo, **_: Any) -> bool:
    """Whether this replica's shard serves the object: by its namespace, a Namespace by its own name, any
    other cluster-scoped object by shard 0 (one shard acts on it). Before start-up configured the shard
    (never, as kopf runs handlers only after it), nothing is served."""
    shard: Shard | None = getattr(memo, "shard", None)
    if shard is None:
        return False
    if not shard.sharded:
        return True
    if namespace is None and resource.plural != "namespaces":
        return shard.index == 0
    return shard.owns(namespace if namespace is not None else name)


def sharded(*filters: Callable[..., bool]) -> Callable[..., bool]:
    """in_shard and every filter given, checked in that order (a foreign object is not looked at further)."""
    return kopf.all_([in_shard, *filters])


# -- indexes: kept by the watch, read without API calls ------------------------------------------------------
# An object leaves a kopf index only when its `when` filter stops matching (a None result keeps the old entry),
# so membership is the filter's, and the function only says what to keep.
def _feedback_pending(body: kopf.Body, **_: Any) -> bool:
    return pending_feedback(body)


def _not_final(body: kopf.Body, **_: Any) -> bool:
    return inflight.in_flight(body) is not None


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=sharded(_feedback_pending))
def remediations_pending_feedback(body: kopf.Body, **_: Any) -> dict[None, dict[str, Any]]:
    """Remediations whose feedback waits for the store: the learning loop's retry list."""
    return {None: dict(body)}


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=sharded(_not_final))
def remediations_in_flight(body: kopf.Body, **_: Any) -> dict[None, inflight.InFlight | None]:
    """Remediations not yet final, with their phase's deadline: the in-flight and approval gauges."""
    return {None: inflight.in_flight(body)}


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=in_shard)
def remediations_notifying(body: kopf.Body, memo: kopf.Memo, **_: Any) -> dict[None, dict[str, Any]]:
    """Remediations with a notification to send or an alert firing: the notification sender's work list.
    An empty mapping, not None, when nothing is wanted: kopf keeps an object's last entry when the
    indexing function returns None, so a delivered notification would stay on the list."""
    runtime: Runtime | None = getattr(memo, "runtime", None)
    notifier = runtime.notifier if runtime is not None else None
    return {None: dict(body)} if notifier is not None and notifier.wanted(dict(body)) else {}


# -- intake caches: what a failing Pod needs of the cluster, kept by the watch (pipeline/cluster_view.py) --------
# Small entries (domain/cluster_facts.py), never whole objects. A miss is read with a GET and counted.
def _key(body: kopf.Body) -> tuple[str, str]:
    return str(body.metadata.namespace or ""), str(body.metadata.name)


@kopf.index("", "v1", "namespaces", when=in_shard)
def namespaces_cached(body: kopf.Body, **_: Any) -> dict[str, cluster_facts.NamespaceEntry]:
    return {str(body.metadata.name): cluster_facts.namespace_entry(body)}


@kopf.index("apps", "v1", "replicasets", when=in_shard)
def replicasets_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str], cluster_facts.ReplicaSetEntry]:
    return {_key(body): cluster_facts.replicaset_entry(body)}


@kopf.index("apps", "v1", "replicasets", when=in_shard)
def replicasets_by_owner(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """A decision's rollout evidence: the ReplicaSets of each Deployment (only the fields it reads)."""
    owner = cluster_facts.controller_owner(body)
    if owner is None:
        return {}
    return {(str(body.metadata.namespace or ""), *owner): cluster_facts.rollout_part(body)}


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers", when=in_shard)
def hpas_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], bool]:
    """The workloads an HPA scales (scale_up is refused for them), by (namespace, kind, name)."""
    target = cluster_facts.hpa_target(body)
    return {target: True} if target is not None else {}


@kopf.index("apps", "v1", "deployments", when=in_shard)
def deployments_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str], cluster_facts.WorkloadEntry]:
    return {_key(body): cluster_facts.workload_entry(body, "Deployment")}


@kopf.index("apps", "v1", "statefulsets", when=in_shard)
def statefulsets_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str], cluster_facts.WorkloadEntry]:
    return {_key(body): cluster_facts.workload_entry(body, "StatefulSet")}


@kopf.index("apps", "v1", "daemonsets", when=in_shard)
def daemonsets_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str], cluster_facts.WorkloadEntry]:
    return {_key(body): cluster_facts.workload_entry(body, "DaemonSet")}


@kopf.index(GROUP, VERSION, api.ERROREVENTS, when=in_shard)
def errorevents_cached(body: kopf.Body, **_: Any) -> dict[tuple[str, str], cluster_facts.ErrorEventEntry]:
    return {_key(body): cluster_facts.errorevent_entry(body)}


# Not shard-filtered: every shard reads the cluster-default policy in --policy-namespace.
@kopf.index(GROUP, VERSION, api.POLICIES)
def policies_cached(body: kopf.Body, **_: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """RemediationPolicies by namespace: PolicySource reads them here, not with a GET and a LIST per namespace."""
    return {str(body.metadata.namespace or ""): (str(body.metadata.name), dict(body.get("spec") or {}))}


def _intake_caches(indexes: dict[str, Any]) -> Caches:
    return Caches(
        namespaces=indexes["namespaces_cached"],
        replicasets=indexes["replicasets_cached"],
        workloads={
            "Deployment": indexes["deployments_cached"],
            "StatefulSet": indexes["statefulsets_cached"],
            "DaemonSet": indexes["daemonsets_cached"],
        },
        errorevents=indexes["errorevents_cached"],
        policies=indexes["policies_cached"],
        rollouts=indexes["replicasets_by_owner"],
        hpas=indexes["hpas_cached"],
    )


# -- cluster watch: failures become ErrorEvents ------------------------------------------------------------
@kopf.on.event("", "v1", "pods", when=in_shard)
def pod_changed(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    with typed_retries("pod"):
        memo.runtime.intake.on_pod(dict(body))


def _warning(body: kopf.Body, **_: Any) -> bool:
    return body.get("type") == "Warning"


@kopf.on.event("", "v1", "events", when=sharded(_warning))
def warning_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    with typed_retries("event"):
        memo.runtime.intake.on_event(dict(body))


# -- ErrorEvents: classify and propose ---------------------------------------------------------------------
def _unhandled(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") in (None, api.EEPhase.PENDING)


@kopf.on.create(GROUP, VERSION, api.ERROREVENTS, when=sharded(_unhandled))
@kopf.on.resume(GROUP, VERSION, api.ERROREVENTS, when=sharded(_unhandled))
def errorevent(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    runtime: Runtime = memo.runtime
    with typed_retries("errorevent"):  # intake's own ErrorEvents were handed to triage already (handoff.py)
        handed = runtime.handoff.take(dict(body)) if runtime.handoff is not None else None
        result = handed if handed is not None else runtime.triage.handle(dict(body))
    patch.status.update(result.status)
    runtime.learning.record_errorevent({**dict(body), "status": result.status})


# -- RemediationPolicies: tell their authors whether they are in effect ---------------------------------
# An event handler, not a change handler: it keeps no progress annotations on the policy (no write right on
# the policy itself is needed) and re-checks after every change; it writes only when the verdict changes.
@kopf.on.event(GROUP, VERSION, api.POLICIES, when=in_shard)
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


@kopf.on.create(GROUP, VERSION, api.REMEDIATIONS, when=in_shard)
@kopf.on.resume(GROUP, VERSION, api.REMEDIATIONS, when=sharded(_active))
@kopf.on.field(GROUP, VERSION, api.REMEDIATIONS, field="metadata.annotations", when=sharded(_active))
def remediation(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _reconcile(body, memo)


# Feedback annotations count in any phase, final ones included (a human judges after the fact).
def _stale_finalizers(meta: kopf.Meta, memo: kopf.Memo) -> list[str]:
    stem: str | None = getattr(memo, "kopf_finalizer", None)
    return stale_finalizers(meta.get("finalizers") or [], stem, memo.shard) if stem else []


def _deleted_with_stale_finalizer(meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> bool:
    return bool(meta.get("deletionTimestamp")) and bool(_stale_finalizers(meta, memo))


# After resharding, a Remediation can carry the kopf finalizer of a shard layout no process runs any more; on
# deletion its new owner drops that one (only kopf's, of this operator's names), so the deletion completes.
@kopf.on.event(GROUP, VERSION, api.REMEDIATIONS, when=sharded(_deleted_with_stale_finalizer))
def remediation_stale_finalizers(type: str | None, meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED":
        return
    stale = _stale_finalizers(meta, memo)
    keep = [f for f in meta.get("finalizers") or [] if f not in stale]
    with typed_retries("finalizers"):
        memo.runtime.kube.set_finalizers(
            api.REMEDIATIONS, meta["namespace"], meta["name"], keep, resource_version=meta["resourceVersion"]
        )


@kopf.on.field(GROUP, VERSION, api.REMEDIATIONS, field="metadata.annotations", when=in_shard)
def remediation_feedback(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    with typed_retries("feedback"):
        memo.runtime.recorder.human_feedback(dict(body))


# -- waiting without polling: woken at a deadline its status names, or when the verified workload changes -----
def _verifying(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") == api.Phase.VERIFYING


@kopf.index(GROUP, VERSION, api.REMEDIATIONS, when=sharded(_verifying))
def remediations_verifying(body: kopf.Body, **_: Any) -> dict[waiting.WorkloadKey, tuple[str, str]]:
    """Remediations being verified, by the workload they verify: its watch events wake them."""
    return {waiting.verified_workload(body): (body["metadata"]["namespace"], body["metadata"]["name"])}


@kopf.on.event(GROUP, VERSION, api.REMEDIATIONS, when=in_shard)
async def remediation_deadline(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Every watch event of a Remediation (kopf's listing at start-up too) schedules its next deadline."""
    memo.runtime.wakeups.track(body, gone=type == "DELETED")


@kopf.on.event("apps", "v1", "deployments", when=in_shard)
@kopf.on.event("apps", "v1", "statefulsets", when=in_shard)
@kopf.on.event("apps", "v1", "daemonsets", when=in_shard)
@kopf.on.event("", "v1", "pods", when=in_shard)
async def workload_changed(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    verifying = kwargs["remediations_verifying"]
    for workload in waiting.workloads_changed(body):
        for key in verifying.get(workload, ()):
            memo.runtime.wakeups.poke(key)
