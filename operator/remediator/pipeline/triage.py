"""An ErrorEvent's path: validate it, classify it, decide, and create the Remediation that answers it."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from remediator import api, metrics
from remediator.adapters.kube import Kube, label_value, owner_reference
from remediator.api import LABEL_TARGET_KIND, LABEL_TARGET_NAME
from remediator.domain import clock, incident_trace
from remediator.domain import decide as decisions
from remediator.domain.conditions import make_condition, set_condition
from remediator.domain.corrections import Adjusted, Judgment, adjust, family_feedback
from remediator.domain.evidence import config_named, dependency_named
from remediator.domain.policy import Policy
from remediator.domain.types import Classification, WorkloadRef
from remediator.locks import KeyedLocks
from remediator.pipeline.cluster_view import ClusterView
from remediator.pipeline.facts import decide_on_history, history, start_workload_facts
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.decision import failure_seen_at, initial_status, requesters
from remediator.pipeline.remediation.status import StatusWriter, TransitionObserver
from remediator_model.predict import ErrorInput, Prediction
from remediator_model.template import template_of

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class TriageResult:
    status: dict[str, Any]
    remediation: str | None = None
    classified: dt.datetime | None = None  # when the model's prediction was made (None: not classified)


def _clean(text: str | None) -> str:
    """Control characters from hostile or binary logs carry no signal; they are dropped before the model."""
    return _CONTROL.sub(" ", text or "")


class Predictor(Protocol):
    """The model as triage uses it (a Classifier, or the hot-swappable holder of one)."""

    def predict(self, e: ErrorInput) -> Prediction: ...


class Corrections(Protocol):
    """Human judgments per (namespace, template): the learning loop's index of the feedback store."""

    ready: bool

    def family(self, namespace: str, template: str) -> list[Judgment]: ...


class Triage:
    def __init__(
        self,
        kube: Kube,
        classifier: Predictor,
        policies: PolicySource,
        rem_locks: KeyedLocks | None = None,
        corrections: Corrections | None = None,
        observers: Sequence[TransitionObserver] = (),
        on_triaged: Callable[[Mapping[str, Any], Mapping[str, Any], dt.datetime, dt.datetime | None], None]
        | None = None,
        cluster: ClusterView | None = None,
    ) -> None:
        """``on_triaged(errorevent, status, started, classified)``: told of each triage's result (traces)."""
        self.kube, self.classifier, self.policies = kube, classifier, policies
        self.on_triaged = on_triaged
        self.cluster = cluster  # the watch's caches (the namespace's opt-out); None: read with GETs
        self.corrections = corrections  # None: no feedback store configured
        # shared with the Reconciler: one writer per Remediation (not `or`: an empty KeyedLocks is falsy)
        self.rem_locks = rem_locks if rem_locks is not None else KeyedLocks()
        self.writer = StatusWriter(kube, observers)
        # Decisions are taken one at a time, each counting the ones before it: so the limits hold under a
        # burst, and a second ErrorEvent of a workload sees the first one's Remediation (one active each).
        self._decision_lock = threading.Lock()

    def handle(self, ee: dict[str, Any]) -> TriageResult:
        """Return the ErrorEvent's new status (the caller writes it); create the Remediation on the way."""
        began = clock.now()
        status = dict(ee.get("status") or {})
        # The incident's trace, kept in both resources' status (an annotation may only name a trace to join).
        status["trace"] = incident_trace.for_errorevent(ee).to_status()
        result = self._handle(ee, status)
        if self.on_triaged is not None:
            try:
                self.on_triaged(ee, result.status, began, result.classified)
            except Exception:  # traces never fail a triage
                log.exception("on_triaged hook failed")
        return result

    def _handle(self, ee: dict[str, Any], status: dict[str, Any]) -> TriageResult:
        started = time.monotonic()
        meta, spec = ee["metadata"], ee["spec"]
        ns = meta["namespace"]
        conditions = list(status.get("conditions") or [])
        target = spec.get("target") or {}
        if target.get("namespace") and target["namespace"] != ns:
            message = (
                f"target namespace {target['namespace']} differs from the ErrorEvent's namespace {ns}: "
                "an ErrorEvent may only name targets in its own namespace"
            )
            return self._invalid(status, conditions, "CrossNamespaceTarget", message)
        ref = WorkloadRef(target["kind"], target["name"], ns)
        if ref.kind == "ReplicaSet":
            return self._invalid(
                status, conditions, "UnsupportedTarget", "a ReplicaSet is not remediated directly; name its Deployment"
            )

        # The workload's own state is read outside the decision lock: no other decision changes it, and a storm's
        # decisions would otherwise wait for each other's reads. Sent now, so they are in flight while the model
        # classifies; what must be counted, the history, is read inside the lock, fresh.
        pending = start_workload_facts(self.kube, ref, self.cluster)
        prediction = self.classifier.predict(
            ErrorInput(
                reason=_clean(spec.get("reason")),
                exit_code=spec.get("exitCode"),
                message=_clean(spec.get("message")),
                logs=_clean(spec.get("logs")),
                source=spec.get("source", ""),
            )
        )
        classification = Classification(
            error_type=prediction.error_type,
            action=prediction.action,
            confidence=round(prediction.confidence, 4),
            runner_up=prediction.runner_up,
            runner_up_confidence=round(prediction.runner_up_confidence, 4),
            explanation=prediction.explanation,
            evidence=tuple(prediction.evidence),
            model_version=prediction.model_version,
            alternatives=tuple((a, round(p, 4)) for a, p in prediction.action_probabilities),
            novelty=prediction.novelty,
        )
        metrics.CLASSIFICATIONS.labels(error_type=classification.error_type).inc()
        metrics.CONFIDENCE.observe(classification.confidence)
        classified_at = clock.now()
        status["classification"] = {**classification.to_status(), "classifiedAt": clock.format_time(classified_at)}
        conditions = set_condition(
            conditions,
            make_condition(
                "Classified",
                "True",
                "ModelPredicted",
                f"{classification.error_type} -> {classification.action} "
                f"(confidence {classification.confidence:.2f}, model {classification.model_version})",
                clock.now(),
            ),
        )

        feedback = self._feedback(ref.namespace, ee["spec"], classification)
        if feedback is not None:
            classification = feedback.classification
        # When nobody holds the lock, the history goes out while the workload's reads are still in flight.
        locked = self._decision_lock.acquire(blocking=False)
        if not locked:
            facts, workload = pending()
            self._decision_lock.acquire()
        try:
            past = history(self.kube, ref, clock.now())
            if locked:
                facts, workload = pending()
            result = self._propose(
                ee, ref, classification, feedback, facts, workload, past, status, conditions, started
            )
        finally:
            self._decision_lock.release()
        return replace(result, classified=classified_at)

    def _propose(
        self,
        ee: dict[str, Any],
        ref: WorkloadRef,
        classification: Classification,
        feedback: Adjusted | None,
        facts: decisions.WorkloadFacts,
        workload: dict[str, Any] | None,
        past: decisions.History,
        status: dict[str, Any],
        conditions: list[dict[str, Any]],
        started: float,
    ) -> TriageResult:
        ns, spec = ref.namespace, ee["spec"]
        policy = self.policies.for_namespace(ns)
        now = clock.now()
        decision = decide_on_history(
            self.kube,
            decisions.DecisionInputs(
                classification=classification,
                policy=policy,
                workload=facts,
                now=now,
                parameters={},
                dependency=dependency_named(f"{spec.get('message') or ''}\n{spec.get('logs') or ''}"),
                config=config_named(str(spec.get("message") or ""), ns),
                family=str((spec.get("context") or {}).get("family") or "") or None,
                feedback=feedback,
            ),
            local=past,
        )
        if decision.mode == "skip":
            phase = api.EEPhase.INVALID if "TargetNotFound" in decision.codes() else api.EEPhase.IGNORED
            conditions = set_condition(
                conditions, make_condition("Remediated", "False", decision.reason.code, decision.message(), now)
            )
            active = self._active_remediation(ref) if "ActiveRemediationExists" in decision.codes() else None
            status.update(
                phase=api.EEPhase.REMEDIATING if active else phase, conditions=conditions, message=decision.message()
            )
            if active:
                status["remediationRef"] = {"name": active}
            return TriageResult(status, active)

        assert workload is not None  # decide() skips a target that does not exist
        name = self._create_remediation(ee, ref, workload, classification, decision, policy, status.get("trace"))
        metrics.DECISION_LATENCY.observe(time.monotonic() - started)
        conditions = set_condition(
            conditions,
            make_condition(
                "Remediated",
                "Unknown",
                "RemediationCreated",
                f"Remediation {name}: {decision.action}, {decision.phase} ({decision.reason.code})",
                clock.now(),
            ),
        )
        status.update(
            phase=api.EEPhase.REMEDIATING,
            remediationRef={"name": name},
            conditions=conditions,
            message=f"{decision.action} proposed as Remediation {name}",
        )
        return TriageResult(status, name)

    def _feedback(self, ns: str, spec: dict[str, Any], classification: Classification) -> Adjusted | None:
        """What humans said about this error's family in this namespace (never another namespace's)."""
        if self.corrections is None:
            return None
        if not self.corrections.ready:
            note = "human feedback on similar errors not consulted: the feedback store has not been read yet"
            return Adjusted(classification, note)
        tpl = template_of(str(spec.get("reason") or ""), str(spec.get("message") or ""), str(spec.get("logs") or ""))
        if tpl.empty:
            return None
        return adjust(classification, family_feedback(tpl.text, self.corrections.family(ns, tpl.key)))

    def _invalid(
        self, status: dict[str, Any], conditions: list[dict[str, Any]], reason: str, message: str
    ) -> TriageResult:
        conditions = set_condition(conditions, make_condition("Valid", "False", reason, message, clock.now()))
        status.update(phase=api.EEPhase.INVALID, conditions=conditions, message=message)
        return TriageResult(status)

    def _active_remediation(self, ref: WorkloadRef) -> str | None:
        for rem in self.kube.remediations_for(ref):
            if (rem.get("status") or {}).get("phase", api.Phase.PROPOSED) in api.ACTIVE_PHASES:
                return str(rem["metadata"]["name"])
        return None

    def _create_remediation(
        self,
        ee: dict[str, Any],
        ref: WorkloadRef,
        workload: dict[str, Any],
        classification: Classification,
        decision: decisions.Decision,
        policy: Policy,
        trace: Mapping[str, Any] | None = None,
    ) -> str:
        """Create the Remediation and write its decision to status before anyone else can act on it: the
        Remediation's own handler waits on the same per-object lock, so it never sees it undecided."""
        spec, ns = ee["spec"], ref.namespace
        # One name per ErrorEvent: a retry after a crash finds the Remediation it already made.
        name = ee["metadata"]["name"]
        target = {"kind": ref.kind, "name": ref.name}
        for key in ("podName", "containerName"):
            if spec.get("target", {}).get(key):
                target[key] = spec["target"][key]
        if "apiVersion" not in workload:
            workload = {**workload, "apiVersion": "v1" if ref.kind == "Pod" else "apps/v1", "kind": ref.kind}
        body = {
            "apiVersion": api.API_VERSION,
            "kind": "Remediation",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {LABEL_TARGET_KIND: ref.kind, LABEL_TARGET_NAME: label_value(ref.name)},
                "ownerReferences": [owner_reference(workload)],
            },
            "spec": {
                "target": target,
                "action": decision.action,
                "parameters": {},
                "errorType": classification.error_type,
                "confidence": classification.confidence,
                "modelVersion": classification.model_version[:128],
                "explanation": classification.explanation[:1024],
                "errorEventRef": {"name": ee["metadata"]["name"]},
                "autoApply": decision.auto_apply,
            },
        }
        with self.rem_locks((ns, name)):
            created = self.kube.create_cr(api.REMEDIATIONS, ns, body)
            if created is None:
                existing = self.kube.get_cr(api.REMEDIATIONS, ns, name)
                # Adopt only an undecided object whose spec is exactly ours (a retry after a crash between
                # create and status); anything else of that name is someone's proposal and stays one.
                if existing is None or (existing.get("status") or {}).get("phase") or existing["spec"] != body["spec"]:
                    return name
                created = existing
            first = initial_status(
                decision,
                api.Origin.OPERATOR,
                created["metadata"].get("generation"),
                requesters(created, ee),
                clock.now(),
                policy,
                failure_seen_at(ee),
                trace,
            )
            self.writer.write(created, first, conditional=False)
        log.info(
            "Remediation %s/%s: %s %s/%s -> %s (%s)",
            ns,
            name,
            decision.action,
            ref.kind,
            ref.name,
            decision.phase,
            decision.reason.code,
        )
        return name
