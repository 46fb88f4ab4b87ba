"""The verification step: gather what the workload shows now, and let domain.verify judge the outcome."""

from __future__ import annotations

from typing import Any

from remediator import api, metrics
from remediator.adapters.kube import Kube, NotFound
from remediator.domain import clock
from remediator.domain.conditions import get_condition
from remediator.domain.verify import MIN_STABLE_SECONDS, VerifySnapshot, failure_recurred, judge
from remediator.domain.waiting import stable_seconds
from remediator.domain.workload_state import replicas, restarts
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.view import target_ref


class Verifier:
    def __init__(self, kube: Kube, policies: PolicySource) -> None:
        self.kube, self.policies = kube, policies

    def check(self, rem: dict[str, Any]) -> Transition | None:
        """The final outcome once judged; a Stable-condition update while it is still pending; else None."""
        spec, status = rem["spec"], rem["status"]
        ref = target_ref(rem)
        now = clock.now()
        deadline = clock.parse_time(status.get("verifyUntil")) or now
        try:
            workload = self.kube.get(ref)
        except NotFound:
            return Transition(
                api.Phase.FAILED,
                "TargetNotFound",
                f"{ref.kind} {ref.name} disappeared during verification",
                warning=True,
                fields={
                    "completedAt": clock.format_time(now),
                    "outcome": {"result": "Unknown", "message": "target gone"},
                },
            )
        workload.setdefault("kind", ref.kind)
        pods = [p for p in self.kube.pods_of(workload) if not p["metadata"].get("deletionTimestamp")]
        container = spec["target"].get("containerName")
        family = self._family(rem)
        baseline = dict((status.get("verification") or {}).get("baselineRestarts") or {})
        applied = clock.parse_time(status.get("appliedAt")) or now
        same_again = bool(family) and failure_recurred(pods, str(family), applied, baseline, container)
        desired, ready, updated = replicas(ref.kind, workload)
        stable = get_condition(status.get("conditions"), api.Condition.STABLE)
        stable_now = stable is not None and stable.get("status") == "True"
        snapshot = VerifySnapshot(
            now=now,
            deadline=deadline,
            desired_replicas=desired,
            ready_replicas=ready,
            restarts_at_apply=baseline,
            restarts_now={str(p["metadata"]["name"]): restarts(p, container) for p in pods},
            same_failure_seen=same_again,
            ready_since=clock.parse_time(stable.get("lastTransitionTime")) if stable and stable_now else None,
            updated_replicas=updated,
            min_stable_seconds=self._stable_seconds(status, ref.namespace),
        )
        outcome = judge(snapshot)
        if outcome.result == "Pending":
            healthy = ready >= desired and (updated is None or updated >= desired)
            if healthy == stable_now:
                return None
            why = "AllReady" if healthy else "NotReady"
            return Transition(
                api.Phase.VERIFYING,
                status.get("reason") or "Applied",
                status.get("message") or "verifying",
                event=False,
                conditions=((api.Condition.STABLE, "True" if healthy else "False", why, f"{ready}/{desired} ready"),),
            )
        metrics.OUTCOMES.labels(action=spec["action"], result=outcome.result).inc()
        fields: dict[str, Any] = {"completedAt": clock.format_time(now), "outcome": outcome.to_status()}
        # The outcome of a user's proposal says nothing about the model (the user chose the action and its
        # parameters): it is no training label, so a tenant cannot teach the model by approving changes.
        if status.get("origin") != api.Origin.USER:
            fields["feedback"] = {
                "label": "correct" if outcome.result == api.Phase.SUCCEEDED else "incorrect",
                "source": "verification",
                "recorded": False,
            }
        return Transition(
            outcome.result, outcome.reason, outcome.message, warning=outcome.result == api.Phase.FAILED, fields=fields
        )

    def _stable_seconds(self, status: dict[str, Any], namespace: str) -> float:
        # The window recorded at apply, the one the wake-up was scheduled from (domain.waiting); the policy's
        # only for a status without it.
        recorded = stable_seconds(status)
        if recorded is not None:
            return recorded
        return min(MIN_STABLE_SECONDS, self.policies.for_namespace(namespace).verify_window_seconds / 2)

    def _family(self, rem: dict[str, Any]) -> str | None:
        ee_name = (rem["spec"].get("errorEventRef") or {}).get("name")
        if not ee_name:
            return None
        ee = self.kube.get_cr(api.ERROREVENTS, rem["metadata"]["namespace"], ee_name)
        return ((ee or {}).get("spec", {}).get("context") or {}).get("family")
