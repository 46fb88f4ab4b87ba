"""The operator's object graph, built once at start-up and handed to every handler through kopf's memo."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from remediator.adapters.cloudwatch_logs import CloudWatchLogsWriter
from remediator.adapters.kube import Kube
from remediator.adapters.tracing import Tracing
from remediator.learning.loop import Learning
from remediator.learning.modelswap import ModelHolder
from remediator.learning.recorder import CachedGuard, FeedbackRecorder
from remediator.locks import KeyedLocks
from remediator.notifications.sender import Notifier
from remediator.pipeline.cluster_view import Caches, ClusterView
from remediator.pipeline.counts import Counts
from remediator.pipeline.handoff import Handoff
from remediator.pipeline.intake import Intake
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation import Reconciler
from remediator.pipeline.remediation.audit import AuditTrail
from remediator.pipeline.remediation.measure import TransitionMetrics
from remediator.pipeline.remediation.status import TransitionObserver
from remediator.pipeline.remediation.wakeups import Wakeups
from remediator.pipeline.traces import IncidentTraces
from remediator.pipeline.triage import Triage, TriageResult
from remediator.settings import Settings
from remediator_model.predict import Classifier

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    kube: Kube
    holder: ModelHolder
    intake: Intake
    triage: Triage
    reconciler: Reconciler
    recorder: FeedbackRecorder
    learning: Learning
    policies: PolicySource
    wakeups: Wakeups
    counts: Counts | None = None
    handoff: Handoff[TriageResult] | None = None
    notifier: Notifier | None = None
    audit: CloudWatchLogsWriter | None = None
    tracing: Tracing | None = None

    @classmethod
    def build(cls, settings: Settings, kube: Kube, caches: Caches | None = None) -> Runtime:
        """Wire the pipeline and the learning loop; they meet only here (the reconciler's on_final hook).
        `caches`: kopf's indexes of what intake reads (without them, intake reads with GETs)."""
        policies = PolicySource(kube, settings)
        if caches is not None and caches.policies is not None:
            policies.bind(caches.policies)
        cluster = ClusterView(kube, caches)
        counts = Counts(kube, cluster)
        holder = ModelHolder(Classifier.load(settings.model_path))
        learning = Learning.configure(settings, kube, holder)
        locks = KeyedLocks()  # one per Remediation, shared, so feedback and phase changes never race
        audit = CloudWatchLogsWriter.configure(settings)
        trail = AuditTrail(audit) if audit is not None else None
        tracing = Tracing.configure(settings)
        traces = IncidentTraces(tracing) if tracing is not None else None
        judged = [hook.judged for hook in (trail, traces) if hook is not None]

        def on_judgment(rem: dict[str, Any], entry: dict[str, Any]) -> None:
            for hook in judged:
                hook(rem, entry)

        recorder = FeedbackRecorder(
            kube,
            locks,
            learning.flusher,
            guard_installed=CachedGuard(kube.feedback_guard_installed),
            on_judgment=on_judgment if judged else None,
        )
        # Told of every Remediation status write (traces, audit stream, metrics): each adds itself here.
        observers: list[TransitionObserver] = []
        if trail is not None:
            observers.append(trail)
        if traces is not None:
            observers.append(traces)
        observers.append(TransitionMetrics())
        reconciler = Reconciler(kube, policies, locks, on_final=recorder.flush_unlocked, observers=observers)
        triage = Triage(
            kube,
            holder,
            policies,
            locks,
            learning.corrections if learning.store else None,
            observers=observers,
            on_triaged=traces.triaged if traces is not None else None,
            cluster=cluster,
        )
        handoff = Handoff(triage.handle)  # intake's new ErrorEvents go straight to triage
        return cls(
            settings=settings,
            kube=kube,
            holder=holder,
            intake=Intake(kube, policies, settings, cluster, counts, on_created=handoff.submit),
            triage=triage,
            reconciler=reconciler,
            recorder=recorder,
            learning=learning,
            policies=policies,
            wakeups=Wakeups(reconciler.reconcile),  # deadlines and workload changes, instead of polling
            counts=counts,
            handoff=handoff,
            notifier=Notifier.configure(settings, kube, locks),
            audit=audit,
            tracing=tracing,
        )

    def start(
        self,
        pending_feedback: Callable[[], Iterable[dict[str, Any]]],
        notifying: Callable[[], Iterable[dict[str, Any]]] | None = None,
        acting: Callable[[], bool] | None = None,
    ) -> None:
        if self.audit is not None:
            self.audit.start()
        if self.counts is not None:
            self.counts.start()
        self.learning.start(pending_feedback, self.recorder.flush)
        self.wakeups.start(acting)
        if self.notifier is not None and notifying is not None:
            self.notifier.start(notifying, acting)
        log.info(
            "kube-remediator started: model %s, threshold %.2f, dry-run %s, namespaces %s, %s",
            self.holder.version,
            self.settings.threshold,
            self.settings.dry_run,
            self.settings.namespaces or "all",
            self.settings.shard.describe(),
        )

    def stop(self) -> None:
        if self.counts is not None:  # the increments of the last interval are written, not lost
            self.counts.stop()
        if self.handoff is not None:
            self.handoff.stop()
        self.wakeups.stop()
        self.learning.stop()
        if self.notifier is not None:
            self.notifier.stop()
        if self.audit is not None:  # last: the steps above may still have written records
            self.audit.close(self.settings.audit_shutdown_seconds)
        if self.tracing is not None:
            self.tracing.close()
