"""kopf wiring only: each handler turns an event into one call of intake, triage or reconcile."""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from typing import Any

import kopf
from kubernetes import config as kube_config

from remediator import metrics
from remediator.adapters.kube import Kube
from remediator.facts import FINAL_PHASES
from remediator.intake import Intake
from remediator.learning import Learning
from remediator.modelswap import ModelHolder
from remediator.policies import PolicySource
from remediator.reconcile import Reconciler
from remediator.settings import Settings, load
from remediator.triage import Triage

GROUP, VERSION = "remediator.dev", "v1alpha1"
log = logging.getLogger(__name__)

# Set by `remediator run` before kopf starts; tests that run this module with `kopf run` use the environment.
configured: Settings | None = None


@dataclass
class Runtime:
    settings: Settings
    kube: Kube
    intake: Intake
    triage: Triage
    reconciler: Reconciler
    learning: Learning


def _api_client() -> Any:
    try:
        kube_config.load_incluster_config()
    except kube_config.ConfigException:
        kube_config.load_kube_config()
    from kubernetes import client

    return client.ApiClient()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    from remediator_model.predict import Classifier

    opts = configured or load()
    # Progress and diff-base live in annotations of their own prefix (kopf ignores changes under it, so it
    # must not be remediator.dev/, where the approval and feedback annotations live); status stays ours.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.remediator.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.remediator.dev")
    settings.peering.name = opts.peering
    settings.peering.mandatory = True
    # Replicas need distinct priorities: the highest acts, the others wait (equal ones would all freeze).
    settings.peering.priority = int(os.environ.get("REMEDIATOR_PRIORITY") or random.randint(1, 1_000_000))
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.networking.request_timeout = 30
    settings.execution.max_workers = 8

    api = _api_client()
    kube = Kube(api)
    kube.ensure_peering(opts.peering, opts.namespaces)
    policies = PolicySource(kube, opts)
    holder = ModelHolder(Classifier.load(opts.model_path))
    learning = Learning.configure(opts, kube, holder)
    reconciler = Reconciler(kube, policies, learning.flusher)
    memo.runtime = Runtime(
        opts, kube, Intake(kube, policies, opts), Triage(kube, holder, policies), reconciler, learning
    )
    learning.start(kube, reconciler.flush_feedback)
    if opts.metrics_port:
        memo.metrics_server = metrics.serve(opts.metrics_port)
    metrics.mark_ready()
    log.info(
        "kube-remediator started: model %s, threshold %.2f, dry-run %s, namespaces %s",
        holder.version,
        opts.threshold,
        opts.dry_run,
        opts.namespaces or "all",
    )


@kopf.on.cleanup()
def cleanup(memo: kopf.Memo, **_: Any) -> None:
    runtime = getattr(memo, "runtime", None)
    if runtime is not None:
        runtime.learning.stop()
    server = getattr(memo, "metrics_server", None)
    if server is not None:
        server.shutdown()


# -- cluster watch: failures become ErrorEvents ------------------------------------------------------------
@kopf.on.event("", "v1", "pods")
def pod_changed(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    memo.runtime.intake.on_pod(dict(body))


@kopf.on.event("", "v1", "events", when=lambda body, **_: body.get("type") == "Warning")
def warning_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if type == "DELETED" or not memo.runtime.settings.watch_cluster:
        return
    memo.runtime.intake.on_event(dict(body))


# -- ErrorEvents: classify and propose ---------------------------------------------------------------------
def _unhandled(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") in (None, "Pending")


@kopf.on.create(GROUP, VERSION, "errorevents", when=_unhandled)
@kopf.on.resume(GROUP, VERSION, "errorevents", when=_unhandled)
def errorevent(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    result = memo.runtime.triage.handle(dict(body))
    patch.status.update(result.status)
    memo.runtime.learning.record_errorevent({**dict(body), "status": result.status})


# -- Remediations: decide, wait, apply, verify -------------------------------------------------------------
def _active(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") not in FINAL_PHASES


@kopf.on.create(GROUP, VERSION, "remediations")
@kopf.on.resume(GROUP, VERSION, "remediations", when=_active)
@kopf.on.field(GROUP, VERSION, "remediations", field="metadata.annotations", when=_active)
def remediation(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.reconciler.reconcile(dict(body))


# Feedback annotations count in any phase, final ones included (a human judges after the fact).
@kopf.on.field(GROUP, VERSION, "remediations", field="metadata.annotations")
def remediation_feedback(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.reconciler.human_feedback(dict(body))


@kopf.timer(GROUP, VERSION, "remediations", interval=2.0, idle=1.0, when=_active)
def remediation_tick(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.reconciler.reconcile(dict(body))
