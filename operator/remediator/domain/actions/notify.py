"""notify: change nothing; tell a human what to look at."""

from __future__ import annotations

from remediator.domain.actions.base import Change, Plan, PlanContext, Refusal

ACTION = "notify"


def plan(ctx: PlanContext) -> Plan | Refusal:
    """A Plan with no patch and no eviction, carrying parameters.note (or a default) as its description."""
    ref = ctx.ref
    where = f"{ref.kind} {ref.namespace}/{ref.name}"
    if ctx.pod_name:
        container = f", container {ctx.container_name}" if ctx.container_name else ""
        where += f" (Pod {ctx.pod_name}{container})"
    note = str(ctx.parameters.get("note") or "").strip()
    text = f"{where} needs a human: {note}" if note else f"{where} needs a human; no automatic action is safe"
    return Plan(action=ACTION, target=ref, description=text[:1024], after={"note": note} if note else {})


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Nothing to undo: notify changed nothing."""
    return Refusal("NothingToUndo", "notify changed nothing")
