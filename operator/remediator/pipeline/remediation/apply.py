"""Changing the cluster: plan -> server-side dry run -> record the exact requests -> send; and undo.

The requests are recorded in status before they are sent, so an interrupted Applying step re-sends the same
absolute patches instead of planning (and, say, growing memory) a second time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube, NotFound
from remediator.adapters.kubeapi import ApiException
from remediator.domain import actions, clock
from remediator.domain.actions.base import Change, Patch, Plan, PlanContext, Refusal
from remediator.domain.types import WorkloadRef
from remediator.domain.workload_state import restarts
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.view import target_ref


def _final(phase: str, reason: str, message: str, **fields: Any) -> Transition:
    fields.setdefault("completedAt", clock.format_time(clock.now()))
    return Transition(phase, reason, message, warning=phase != api.Phase.SUCCEEDED, fields=fields)


def api_message(err: ApiException) -> str:
    try:
        return str(json.loads(err.body or "{}").get("message") or err.reason)[:900]
    except (ValueError, AttributeError):
        return str(err.reason)[:900]


def _patch_record(patch: Patch) -> dict[str, Any]:
    return {"kind": patch.target.kind, "name": patch.target.name, "patchType": patch.patch_type, "body": patch.body}


class Applier:
    def __init__(self, kube: Kube, policies: PolicySource) -> None:
        self.kube, self.policies = kube, policies

    def context(
        self, rem: dict[str, Any], workload: dict[str, Any], ref: WorkloadRef, action: str | None = None
    ) -> PlanContext:
        """What planning `action` needs. notify names the target and changes nothing: it reads no Pods,
        ReplicaSets or HPAs (a storm's notifications would pay them per incident)."""
        spec = rem["spec"]
        reads = action != "notify"
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
            pods=self.kube.pods_of(workload) if reads else [],
            replicasets=self.kube.replicasets_of(workload) if reads and ref.kind == "Deployment" else (),
            pod_name=spec["target"].get("podName"),
            container_name=spec["target"].get("containerName"),
            parameters=params,
            policy=self.policies.for_namespace(ref.namespace),
            has_hpa=reads and ref.kind in ("Deployment", "StatefulSet") and self.kube.has_hpa(ref),
            configmap=configmap,
            now=clock.now(),
        )

    def prepare(self, rem: dict[str, Any], action: str) -> Transition:
        """An Approved Remediation: plan and dry-run `action` (spec.action after the decision's downgrades,
        e.g. HPAOwnsReplicas -> notify); Applying (with the exact requests) or final."""
        ref = target_ref(rem)
        try:
            workload = self.kube.get(ref)
        except NotFound:
            return _final(api.Phase.SKIPPED, "TargetNotFound", f"{ref.kind} {ref.name} no longer exists")
        ctx = self.context(rem, workload, ref, action)
        planned = actions.plan(action, ctx)
        if isinstance(planned, Refusal):
            return _final(api.Phase.SKIPPED, planned.code, planned.message)
        if planned.changes_nothing:
            return _final(
                api.Phase.SKIPPED,
                "NotifiedHuman",
                f"notify: nothing was changed; a human should look: {planned.description}",
                change={**planned.change().to_status()},
                feedback={"recorded": False},
            )
        rejected = self._dry_run(planned)
        if rejected:
            return _final(
                api.Phase.FAILED,
                "DryRunRejected",
                f"the API server refused the change in a dry run: {rejected}",
                outcome={"result": "Failed", "message": rejected},
            )
        change = {
            **planned.change().to_status(),
            "patches": [_patch_record(p) for p in planned.patches],
            "evict": list(planned.evict),
        }
        if ctx.policy.dry_run:
            return Transition(
                api.Phase.SKIPPED,
                "DryRun",
                f"dry-run: {planned.description} passed a server-side dry run and was not applied",
                fields={"completedAt": clock.format_time(clock.now()), "change": {**change, "dryRun": True}},
            )
        container = rem["spec"]["target"].get("containerName")
        baseline = {str(p["metadata"]["name"]): restarts(p, container) for p in ctx.pods}
        return Transition(
            api.Phase.APPLYING,
            "Applying",
            planned.description,
            fields={
                "change": change,
                "verification": {"baselineRestarts": baseline},
                "preparedAt": clock.format_time(clock.now()),
            },
        )

    def _dry_run(self, planned: Plan) -> str | None:
        try:
            for patch in planned.patches:
                self.kube.patch(patch.target, patch.body, patch.patch_type, dry_run=True)
            for pod in planned.evict:
                self.kube.evict(planned.target.namespace, pod, dry_run=True)
        except ApiException as err:
            return api_message(err)
        return None

    def send(self, rem: dict[str, Any]) -> Transition:
        """Send the recorded requests (absolute values: safe to send twice after a restart)."""
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
                message = f"eviction refused by a PodDisruptionBudget: {api_message(err)}"
            else:
                message = f"applying failed: {api_message(err)}"
            return _final(
                api.Phase.FAILED,
                "ApplyFailed",
                message,
                outcome={"result": "Failed", "message": message[:1024]},
                feedback={"recorded": False},
            )
        window = self.policies.for_namespace(ns).verify_window_seconds
        now = clock.now()
        return Transition(
            api.Phase.VERIFYING,
            "Applied",
            f"applied; verifying for {window} s",
            fields={
                "appliedAt": clock.format_time(now),
                "verifyUntil": clock.format_time(now + dt.timedelta(seconds=window)),
            },
        )

    def undoable(self, rem: dict[str, Any]) -> bool:
        """Whether a failed change of this Remediation is to be undone (the policy undoes the action)."""
        policy = self.policies.for_namespace(rem["metadata"]["namespace"])
        return rem["spec"]["action"] in policy.undo_on_failure and bool((rem.get("status") or {}).get("change"))

    def undo(self, rem: dict[str, Any]) -> Transition | Refusal | None:
        """Reverse a failed change: the Undone transition, why it was not undone, or None when the policy does
        not undo this action or nothing was changed."""
        spec, status, ns = rem["spec"], rem["status"], rem["metadata"]["namespace"]
        if not self.undoable(rem):
            return None
        change = Change.from_status(status["change"], ns, spec["action"])
        ref = WorkloadRef(change.kind, change.name, ns)
        try:
            workload = self.kube.get(ref)
        except NotFound:
            return None
        reverse = actions.undo(spec["action"], change, self.context(rem, workload, ref))
        if isinstance(reverse, Refusal):
            return Refusal(reverse.code, f"not undone: {reverse.message}")
        try:
            for patch in reverse.patches:
                self.kube.patch(patch.target, patch.body, patch.patch_type, dry_run=False)
        except ApiException as err:
            return Refusal("UndoFailed", f"undo failed: {api_message(err)}")
        return Transition(
            api.Phase.FAILED,
            "Undone",
            f"verification failed; undone: {reverse.description}",
            warning=True,
            fields={
                "change": {**status["change"], "undone": True},
                "completedAt": status.get("completedAt") or clock.format_time(clock.now()),
            },
        )
