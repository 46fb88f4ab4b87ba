"""The remediation actions, one module each, and a dispatcher over them."""

from __future__ import annotations

from types import ModuleType

from remediator.domain.actions import increase_memory, notify, restart_pod, rollback, scale_up, update_config
from remediator.domain.actions.base import Change, Patch, Plan, PlanContext, Refusal

PLANNERS: dict[str, ModuleType] = {
    "restart_pod": restart_pod,
    "rollback": rollback,
    "scale_up": scale_up,
    "increase_memory": increase_memory,
    "update_config": update_config,
    "notify": notify,
}


def plan(action: str, ctx: PlanContext) -> Plan | Refusal:
    """Plan `action` for the context (unknown actions are refused, never guessed)."""
    module = PLANNERS.get(action)
    if module is None:
        return Refusal("UnknownAction", f"there is no action {action!r}")
    result: Plan | Refusal = module.plan(ctx)
    return result


def undo(action: str, change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Plan the undo of a recorded change made by `action`."""
    module = PLANNERS.get(action)
    if module is None:
        return Refusal("UnknownAction", f"there is no action {action!r}")
    if change.undone:
        return Refusal("AlreadyUndone", f"the change to {change.kind} {change.name} was already undone")
    result: Plan | Refusal = module.undo(change, ctx)
    return result


__all__ = ["PLANNERS", "Change", "Patch", "Plan", "PlanContext", "Refusal", "plan", "undo"]
