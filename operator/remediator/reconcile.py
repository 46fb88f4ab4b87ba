"""A Remediation's life: decision -> approval or expiry -> dry run -> apply -> verify -> (undo) -> feedback.

Every step first writes its phase to the Remediation's status, then acts; a restarted operator reads the
phase and continues. The exact requests are recorded before they are sent, so an interrupted Applying step
re-sends the same absolute patches instead of planning (and, say, growing memory) a second time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException

from remediator import metrics
from remediator.adapters.kube import Kube, NotFound, parse_ts, ts, utcnow
from remediator.domain import actions
from remediator.domain import decide as decisions
from remediator.domain.actions.base import Change, Patch, Plan, PlanContext, Refusal
from remediator.domain.conditions import make_condition, set_condition
from remediator.domain.types import Classification, Reason, WorkloadRef
from remediator.domain.verify import VerifySnapshot, failure_recurred, judge
from remediator.facts import FINAL_PHASES, history, workload_facts
from remediator.feedback import FeedbackFlusher, InvalidAnnotation, feedback_from_annotations, pending_feedback
from remediator.policies import PolicySource
from remediator.triage import DECISION_ANNOTATION

log = logging.getLogger(__name__)

T = TypeVar("T")
_FEEDBACK_KEYS = ("label", "source", "correctAction", "correctType")
APPROVE, REJECT = "remediator.dev/approve", "remediator.dev/reject"


@dataclass(frozen=True)
class Step:
    """What one reconcile pass did: the phase it left, and whether the caller should come back soon."""

    phase: str
    again: bool = False


def _restarts(pod: Mapping[str, Any], container: str | None) -> int:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses if container is None or s.get("name") == container)


def _pod_name(pod: Mapping[str, Any]) -> str:
    return str(pod["metadata"]["name"])


class Reconciler:
    def __init__(self, kube: Kube, policies: PolicySource, flusher: FeedbackFlusher | None = None) -> None:
        self.kube, self.policies, self.flusher = kube, policies, flusher
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def _locked(self, rem: dict[str, Any], step: Callable[[dict[str, Any]], T]) -> T | None:
        """Run `step` on the Remediation as the API server has it now, one step per object at a time."""
        meta = rem["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            fresh = self.kube.get_cr("remediations", key[0], key[1])
            if fresh is None or fresh["metadata"].get("uid") != meta.get("uid"):
                with self._guard:
                    self._locks.pop(key, None)
                return None
            return step(fresh)

    # -- feedback -----------------------------------------------------------------------------------------
    def human_feedback(self, rem: dict[str, Any]) -> None:
        """remediator.dev/feedback (+ correct-action, correct-type) annotations -> status.feedback."""
        self._locked(rem, self._human_feedback)

    def _human_feedback(self, rem: dict[str, Any]) -> None:
        verdict = feedback_from_annotations(rem["metadata"].get("annotations"))
        if verdict is None:
            return
        meta, status = rem["metadata"], rem.get("status") or {}
        now = utcnow()
        if isinstance(verdict, InvalidAnnotation):
            conditions = set_condition(
                status.get("conditions"),
                make_condition(
                    "FeedbackValid", False, "InvalidFeedbackAnnotation", verdict.message, now, meta.get("generation")
                ),
            )
            self.kube.patch_status("remediations", meta["namespace"], meta["name"], {"conditions": conditions})
            self._events(rem, "InvalidFeedbackAnnotation", verdict.message, warning=True)
            return
        wanted = verdict.to_status()
        current = status.get("feedback") or {}
        if current.get("source") == "human" and all(current.get(k) == wanted.get(k) for k in _FEEDBACK_KEYS):
            return  # this verdict is already here (recorded or waiting)
        conditions = set_condition(
            status.get("conditions"),
            make_condition(
                "FeedbackValid",
                True,
                "FeedbackAccepted",
                f"human feedback: {verdict.label}",
                now,
                meta.get("generation"),
            ),
        )
        # A merge patch: keys the new verdict lacks are cleared, not kept from an older one.
        feedback = {k: wanted.get(k) for k in _FEEDBACK_KEYS} | {"recorded": False, "recordedAt": None, "id": None}
        updated = self.kube.patch_status(
            "remediations", meta["namespace"], meta["name"], {"feedback": feedback, "conditions": conditions}
        )
        self._flush(updated)

    def flush_feedback(self, rem: dict[str, Any]) -> bool:
        """Store the Remediation's pending feedback; False when it must wait (no store, or the store is down)."""
        return bool(self._locked(rem, self._flush))

    def _flush(self, rem: dict[str, Any]) -> bool:
        if not pending_feedback(rem):
            return True
        return self.flusher.flush_one(rem) if self.flusher is not None else False

    # -- entry point --------------------------------------------------------------------------------------
    def reconcile(self, rem: dict[str, Any]) -> Step:
        """One pass for one Remediation. kopf runs the change handlers and the timer of one object
        concurrently, each with its own (possibly stale) body: so passes of one Remediation run one at a
        time, and each starts from the object as the API server has it now, not from the event's body.
        Otherwise a timer holding the pre-decision body initialises and applies a second time."""
        step = self._locked(rem, self._reconcile_and_flush)
        return step if step is not None else Step("Gone")

    def _reconcile_and_flush(self, rem: dict[str, Any]) -> Step:
        step = self._reconcile(rem)
        if step.phase in FINAL_PHASES and self.flusher is not None:
            fresh = self.kube.get_cr("remediations", rem["metadata"]["namespace"], rem["metadata"]["name"])
            if fresh is not None:
                self._flush(fresh)
        return step

    def _reconcile(self, rem: dict[str, Any]) -> Step:
        status = rem.get("status") or {}
        phase = status.get("phase")
        if phase is None:
            return self._initialise(rem)
        if phase == "PendingApproval":
            return self._pending(rem)
        if phase == "Approved":
            return self._apply(rem)
        if phase == "Applying":
            return self._resume_applying(rem)
        if phase == "Verifying":
            return self._verify(rem)
        return Step(phase)

    # -- status writing -----------------------------------------------------------------------------------
    def _write(
        self,
        rem: dict[str, Any],
        phase: str,
        reason: str,
        message: str,
        *,
        event: bool = True,
        warning: bool = False,
        condition: tuple[str, str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        meta = rem["metadata"]
        now = utcnow()
        status = dict(rem.get("status") or {})
        conditions = status.get("conditions") or []
        cond_type, cond_status = condition or (phase, "True")
        conditions = set_condition(
            conditions, make_condition(cond_type, cond_status, reason, message, now, meta.get("generation"))
        )
        update = {
            "phase": phase,
            "reason": reason,
            "message": message[:1024],
            "conditions": conditions,
            "observedGeneration": meta.get("generation"),
            **fields,
        }
        updated = self.kube.patch_status("remediations", meta["namespace"], meta["name"], update)
        rem["status"] = updated.get("status", {**status, **update})
        rem["metadata"] = updated.get("metadata", meta)
        if phase != status.get("phase"):
            metrics.REMEDIATIONS.labels(action=rem["spec"]["action"], phase=phase).inc()
            log.info(
                "remediation %s/%s: %s -> %s (%s) %s",
                meta["namespace"],
                meta["name"],
                status.get("phase"),
                phase,
                reason,
                message,
            )
        if event:
            self._events(rem, reason, message, warning=warning)
        return rem

    def _events(self, rem: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        self.kube.event(rem, reason, message, warning=warning)
        target = rem["spec"]["target"]
        ref = WorkloadRef(target["kind"], target["name"], rem["metadata"]["namespace"])
        try:
            obj = self.kube.get(ref)
        except (NotFound, ApiException):
            return
        obj.setdefault("apiVersion", "v1" if ref.kind == "Pod" else "apps/v1")
        obj.setdefault("kind", ref.kind)
        self.kube.event(obj, reason, f"Remediation {rem['metadata']['name']}: {message}", warning=warning)

    # -- decision -----------------------------------------------------------------------------------------
    def _initialise(self, rem: dict[str, Any]) -> Step:
        """Write the decision made at creation (annotation) or, for a Remediation a human wrote, decide now."""
        spec, meta = rem["spec"], rem["metadata"]
        raw = (meta.get("annotations") or {}).get(DECISION_ANNOTATION)
        now = utcnow()
        fields: dict[str, Any] = {"proposedAt": ts(now)}
        if raw:
            record = json.loads(raw)
            phase, reason, message = record["phase"], record["reason"], record["message"]
            if record.get("expiresAt"):
                fields["expiresAt"] = record["expiresAt"]
        else:
            decision = self._decide(rem, now)
            phase, reason, message = decision.phase, decision.reason.code, decision.message()
            if decision.expires_at:
                fields["expiresAt"] = ts(decision.expires_at)
            if decision.action != spec["action"]:
                message = (
                    f"{message} (the proposed action {spec['action']} stands in spec; apply means {decision.action})"
                )
        if phase == "PendingApproval" and "expiresAt" not in fields:
            ttl = self.policies.for_namespace(meta["namespace"]).approval_ttl_seconds
            fields["expiresAt"] = ts(now + dt.timedelta(seconds=ttl))
        self._write(rem, phase, reason, message, warning=phase == "Skipped", **fields)
        if phase == "Approved":
            return self._apply(rem)
        return Step(phase, again=phase == "PendingApproval")

    def _decide(self, rem: dict[str, Any], now: dt.datetime) -> decisions.Decision:
        spec, ns = rem["spec"], rem["metadata"]["namespace"]
        ref = WorkloadRef(spec["target"]["kind"], spec["target"]["name"], ns)
        facts, _ = workload_facts(self.kube, ref)
        classification = Classification(
            error_type=spec["errorType"],
            action=spec["action"],
            confidence=float(spec["confidence"]),
            model_version=spec.get("modelVersion", ""),
        )
        return decisions.decide(
            decisions.DecisionInputs(
                classification=classification,
                policy=self.policies.for_namespace(ns),
                workload=facts,
                now=now,
                history=history(self.kube, ref, now, exclude=rem["metadata"]["name"]),
                parameters=spec.get("parameters") or {},
            )
        )

    # -- approval -----------------------------------------------------------------------------------------
    def _pending(self, rem: dict[str, Any]) -> Step:
        annotations = rem["metadata"].get("annotations") or {}
        approve, reject = annotations.get(APPROVE), annotations.get(REJECT)
        bad = [
            (k, v) for k, v in ((APPROVE, approve), (REJECT, reject)) if v is not None and v not in ("true", "false")
        ]
        if bad:
            key, value = bad[0]
            self._write(
                rem,
                "PendingApproval",
                "InvalidAnnotation",
                f'{key}="{value}" is not "true" or "false"; nothing was done',
                warning=True,
                condition=("AnnotationsValid", "False"),
            )
            return Step("PendingApproval", again=True)
        expires = parse_ts((rem.get("status") or {}).get("expiresAt"))
        if expires is not None and utcnow() >= expires:
            self._write(
                rem,
                "Expired",
                "ApprovalExpired",
                f"no approval before {ts(expires)}: the proposal is stale and will not be applied",
                completedAt=ts(utcnow()),
            )
            return Step("Expired")
        if approve == "true" and reject == "true":
            self._write(
                rem,
                "PendingApproval",
                "ConflictingAnnotations",
                "both approve and reject are set to true; remove one",
                warning=True,
                condition=("AnnotationsValid", "False"),
            )
            return Step("PendingApproval", again=True)
        if reject == "true":
            self._write(
                rem,
                "Rejected",
                "HumanRejected",
                "rejected by the remediator.dev/reject annotation",
                completedAt=ts(utcnow()),
                feedback={"label": "incorrect", "source": "rejection", "recorded": False},
            )
            return Step("Rejected")
        if approve == "true":
            self._write(
                rem,
                "Approved",
                "HumanApproved",
                "approved by the remediator.dev/approve annotation",
                approvedAt=ts(utcnow()),
                approvedBy="annotation:" + APPROVE,
            )
            return self._apply(rem)
        return Step("PendingApproval", again=True)

    # -- applying -----------------------------------------------------------------------------------------
    def _context(self, rem: dict[str, Any], workload: dict[str, Any], ref: WorkloadRef) -> PlanContext:
        spec = rem["spec"]
        params = spec.get("parameters") or {}
        configmap = None
        if params.get("configMapName"):
            try:
                configmap = self.kube.get(WorkloadRef("ConfigMap", params["configMapName"], ref.namespace))
            except NotFound:
                configmap = None
        workload.setdefault("kind", ref.kind)
        return PlanContext(
            workload=workload,
            pods=self.kube.pods_of(workload),
            replicasets=self.kube.replicasets_of(workload) if ref.kind == "Deployment" else (),
            pod_name=spec["target"].get("podName"),
            container_name=spec["target"].get("containerName"),
            parameters=params,
            policy=self.policies.for_namespace(ref.namespace),
            has_hpa=ref.kind in ("Deployment", "StatefulSet") and self.kube.has_hpa(ref),
            configmap=configmap,
            now=utcnow(),
        )

    def _apply(self, rem: dict[str, Any]) -> Step:
        spec, ns = rem["spec"], rem["metadata"]["namespace"]
        ref = WorkloadRef(spec["target"]["kind"], spec["target"]["name"], ns)
        try:
            workload = self.kube.get(ref)
        except NotFound:
            self._write(
                rem,
                "Skipped",
                "TargetNotFound",
                f"{ref.kind} {ref.name} no longer exists",
                warning=True,
                completedAt=ts(utcnow()),
            )
            return Step("Skipped")
        ctx = self._context(rem, workload, ref)
        action = self._effective_action(rem)
        planned = actions.plan(action, ctx)
        if isinstance(planned, Refusal):
            self._write(rem, "Skipped", planned.code, planned.message, warning=True, completedAt=ts(utcnow()))
            return Step("Skipped")
        if planned.changes_nothing:
            note = planned.description
            self._write(
                rem,
                "Skipped",
                "NotifiedHuman",
                f"notify: nothing was changed; a human should look: {note}",
                warning=True,
                completedAt=ts(utcnow()),
                change={**planned.change().to_status()},
                feedback={"recorded": False},
            )
            return Step("Skipped")
        rejected = self._dry_run(planned)
        if rejected:
            self._write(
                rem,
                "Failed",
                "DryRunRejected",
                f"the API server refused the change in a dry run: {rejected}",
                warning=True,
                completedAt=ts(utcnow()),
                outcome={"result": "Failed", "message": rejected},
            )
            return Step("Failed")
        change = {
            **planned.change().to_status(),
            "patches": [_patch_record(p) for p in planned.patches],
            "evict": list(planned.evict),
        }
        if ctx.policy.dry_run:
            self._write(
                rem,
                "Skipped",
                "DryRun",
                f"dry-run: {planned.description} passed a server-side dry run and was not applied",
                completedAt=ts(utcnow()),
                change={**change, "dryRun": True},
            )
            return Step("Skipped")
        baseline = {_pod_name(p): _restarts(p, spec["target"].get("containerName")) for p in ctx.pods}
        self._write(
            rem, "Applying", "Applying", planned.description, change=change, verification={"baselineRestarts": baseline}
        )
        return self._send(rem)

    def _effective_action(self, rem: dict[str, Any]) -> str:
        """The action to apply: spec.action after the decision's downgrades (HPAOwnsReplicas,
        EscalatedAfterFailures, ActionNotSupported turn it into notify), decided again now, so what
        _initialise announced ("apply means notify") is what happens, and a later HPA is respected too."""
        decided = self._decide(rem, utcnow())
        return decided.action if decided.mode != "skip" else str(rem["spec"]["action"])

    def _dry_run(self, planned: Plan) -> str | None:
        try:
            for patch in planned.patches:
                self.kube.patch(patch.target, patch.body, patch.patch_type, dry_run=True)
            for pod in planned.evict:
                self.kube.evict(planned.target.namespace, pod, dry_run=True)
        except ApiException as err:
            return _api_message(err)
        return None

    def _resume_applying(self, rem: dict[str, Any]) -> Step:
        """A restart interrupted Applying: re-send the recorded requests (absolute values: safe twice)."""
        return self._send(rem)

    def _send(self, rem: dict[str, Any]) -> Step:
        status, ns = rem["status"], rem["metadata"]["namespace"]
        change = status.get("change") or {}
        try:
            for record in change.get("patches") or []:
                target = WorkloadRef(record["kind"], record["name"], ns)
                self.kube.patch(target, record["body"], record["patchType"], dry_run=False)
            for pod in change.get("evict") or []:
                self.kube.evict(ns, pod, dry_run=False)
        except ApiException as err:
            if err.status == 429:  # a PodDisruptionBudget says not now: fail visibly, do not force it
                message = f"eviction refused by a PodDisruptionBudget: {_api_message(err)}"
            else:
                message = f"applying failed: {_api_message(err)}"
            self._write(
                rem,
                "Failed",
                "ApplyFailed",
                message,
                warning=True,
                completedAt=ts(utcnow()),
                outcome={"result": "Failed", "message": message[:1024]},
                feedback={"recorded": False},
            )
            return Step("Failed")
        window = self.policies.for_namespace(ns).verify_window_seconds
        now = utcnow()
        self._write(
            rem,
            "Verifying",
            "Applied",
            f"applied; verifying for {window} s",
            appliedAt=ts(now),
            verifyUntil=ts(now + dt.timedelta(seconds=window)),
        )
        return Step("Verifying", again=True)

    # -- verification -------------------------------------------------------------------------------------
    def _verify(self, rem: dict[str, Any]) -> Step:
        spec, status, ns = rem["spec"], rem["status"], rem["metadata"]["namespace"]
        ref = WorkloadRef(spec["target"]["kind"], spec["target"]["name"], ns)
        now = utcnow()
        deadline = parse_ts(status.get("verifyUntil")) or now
        try:
            workload = self.kube.get(ref)
        except NotFound:
            self._write(
                rem,
                "Failed",
                "TargetNotFound",
                f"{ref.kind} {ref.name} disappeared during verification",
                warning=True,
                completedAt=ts(now),
                outcome={"result": "Unknown", "message": "target gone"},
            )
            return Step("Failed")
        workload.setdefault("kind", ref.kind)
        pods = [p for p in self.kube.pods_of(workload) if not p["metadata"].get("deletionTimestamp")]
        container = spec["target"].get("containerName")
        family = self._family(rem)
        baseline = dict((status.get("verification") or {}).get("baselineRestarts") or {})
        applied = parse_ts(status.get("appliedAt")) or now
        same_again = bool(family) and failure_recurred(pods, str(family), applied, baseline, container)
        desired, ready, updated = _replicas(ref.kind, workload)
        stable = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "Stable" and c["status"] == "True"), None
        )
        snapshot = VerifySnapshot(
            now=now,
            deadline=deadline,
            desired_replicas=desired,
            ready_replicas=ready,
            restarts_at_apply=baseline,
            restarts_now={_pod_name(p): _restarts(p, container) for p in pods},
            same_failure_seen=same_again,
            ready_since=parse_ts(stable.get("lastTransitionTime")) if stable else None,
            updated_replicas=updated,
            min_stable_seconds=min(60.0, self.policies.for_namespace(ns).verify_window_seconds / 2),
        )
        outcome = judge(snapshot)
        if outcome.result == "Pending":
            healthy = ready >= desired and (updated is None or updated >= desired)
            if healthy != bool(stable):
                conditions = set_condition(
                    status.get("conditions"),
                    make_condition(
                        "Stable", healthy, "AllReady" if healthy else "NotReady", f"{ready}/{desired} ready", now
                    ),
                )
                updated_obj = self.kube.patch_status(
                    "remediations", ns, rem["metadata"]["name"], {"conditions": conditions}
                )
                rem["status"] = updated_obj.get("status", status)
            return Step("Verifying", again=True)
        metrics.OUTCOMES.labels(action=spec["action"], result=outcome.result).inc()
        feedback = {
            "label": "correct" if outcome.result == "Succeeded" else "incorrect",
            "source": "verification",
            "recorded": False,
        }
        self._write(
            rem,
            outcome.result,
            outcome.reason,
            outcome.message,
            warning=outcome.result == "Failed",
            completedAt=ts(now),
            outcome=outcome.to_status(),
            feedback=feedback,
        )
        if outcome.result == "Failed":
            self._undo(rem)
        return Step(outcome.result)

    def _family(self, rem: dict[str, Any]) -> str | None:
        ee_name = (rem["spec"].get("errorEventRef") or {}).get("name")
        if not ee_name:
            return None
        ee = self.kube.get_cr("errorevents", rem["metadata"]["namespace"], ee_name)
        return ((ee or {}).get("spec", {}).get("context") or {}).get("family")

    def _undo(self, rem: dict[str, Any]) -> None:
        spec, status, ns = rem["spec"], rem["status"], rem["metadata"]["namespace"]
        policy = self.policies.for_namespace(ns)
        if spec["action"] not in policy.undo_on_failure or not status.get("change"):
            return
        change = Change.from_status(status["change"], ns, spec["action"])
        ref = WorkloadRef(change.kind, change.name, ns)
        try:
            workload = self.kube.get(ref)
        except NotFound:
            return
        reverse = actions.undo(spec["action"], change, self._context(rem, workload, ref))
        if isinstance(reverse, Refusal):
            self._events(rem, reverse.code, f"not undone: {reverse.message}", warning=True)
            return
        try:
            for patch in reverse.patches:
                self.kube.patch(patch.target, patch.body, patch.patch_type, dry_run=False)
        except ApiException as err:
            self._events(rem, "UndoFailed", f"undo failed: {_api_message(err)}", warning=True)
            return
        self._write(
            rem,
            "Failed",
            "Undone",
            f"verification failed; undone: {reverse.description}",
            warning=True,
            change={**status["change"], "undone": True},
        )


def _replicas(kind: str, workload: dict[str, Any]) -> tuple[int, int, int | None]:
    spec, status = workload.get("spec", {}), workload.get("status", {})
    if kind == "DaemonSet":
        return (
            int(status.get("desiredNumberScheduled") or 0),
            int(status.get("numberReady") or 0),
            status.get("updatedNumberScheduled"),
        )
    if kind == "Pod":
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        return 1, int(ready), None
    return int(spec.get("replicas", 1)), int(status.get("readyReplicas") or 0), status.get("updatedReplicas")


def _patch_record(patch: Patch) -> dict[str, Any]:
    return {"kind": patch.target.kind, "name": patch.target.name, "patchType": patch.patch_type, "body": patch.body}


def _api_message(err: ApiException) -> str:
    try:
        return str(json.loads(err.body or "{}").get("message") or err.reason)[:900]
    except (ValueError, AttributeError):
        return str(err.reason)[:900]


__all__ = ["FINAL_PHASES", "Reason", "Reconciler", "Step"]
