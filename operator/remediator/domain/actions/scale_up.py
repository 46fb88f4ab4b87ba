"""scale_up: raise a Deployment's or StatefulSet's replicas, within maxReplicas, unless an HPA owns them."""

from __future__ import annotations

import math

from remediator.domain.actions.base import (
    Change,
    Patch,
    Plan,
    PlanContext,
    Refusal,
    drift_refusal,
    number_parameter,
)
from remediator.domain.types import WorkloadRef

ACTION = "scale_up"
KINDS = ("Deployment", "StatefulSet")


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Replicas + max(1, ceil(25%)), or parameters.replicas, capped at policy.maxReplicas."""
    ref = ctx.ref
    if ref.kind not in KINDS:
        return Refusal("ActionNotSupported", f"scale_up needs a Deployment or StatefulSet, not a {ref.kind}")
    if ctx.has_hpa:
        return Refusal("HPAOwnsReplicas", f"a HorizontalPodAutoscaler owns the replicas of {ref.name}")
    current = int((ctx.workload.get("spec") or {}).get("replicas", 1))
    cap = ctx.policy.max_replicas
    requested = number_parameter(ctx.parameters, "replicas", 1, 1000, integer=True)
    if isinstance(requested, Refusal):
        return requested
    if requested is not None:
        wanted = int(requested)  # clamped to policy.maxReplicas below
        if wanted <= current:
            return Refusal("NotAnIncrease",
                           f"parameters.replicas {wanted} is not above the current {current}")
    else:
        wanted = current + max(1, math.ceil(current * 0.25))
    target = min(wanted, cap)
    if target <= current:
        return Refusal("AtMaxReplicas", f"{ref.name} already has {current} replicas; the policy allows {cap}")
    note = f" (capped at maxReplicas {cap})" if target < wanted else ""
    return Plan(
        action=ACTION,
        target=ref,
        description=f"scale {ref.kind} {ref.name} from {current} to {target} replicas{note}",
        before={"replicas": current},
        after={"replicas": target},
        patches=(Patch(ref, {"spec": {"replicas": target}}, "merge"),),
    )


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Scale back to the replicas before; refuses if ctx.workload shows someone changed them since."""
    if "replicas" not in change.before:
        return Refusal("NothingToUndo", "the change records no previous replica count")
    if ctx is not None:
        now_value = (ctx.workload.get("spec") or {}).get("replicas")
        if now_value != change.after.get("replicas"):
            return drift_refusal(change, now_value)
    ref = WorkloadRef(change.kind, change.name, change.namespace)
    before = int(change.before["replicas"])
    return Plan(
        action=ACTION,
        target=ref,
        description=f"undo scale_up: {ref.kind} {ref.name} back to {before} replicas",
        before=dict(change.after),
        after={"replicas": before},
        patches=(Patch(ref, {"spec": {"replicas": before}}, "merge"),),
    )
