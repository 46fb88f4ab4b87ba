"""increase_memory: grow the failing container's memory limit (and request) by a factor, below the ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.domain.actions.base import (
    TEMPLATE_KINDS,
    Change,
    Patch,
    Plan,
    PlanContext,
    Refusal,
    drift_refusal,
    find_container,
    number_parameter,
    pod_spec,
    template_patch,
)
from remediator.domain.quantity import format_mi, parse_quantity
from remediator.domain.types import WorkloadRef

ACTION = "increase_memory"


def _memory(container: Mapping[str, Any], kind: str) -> str | None:
    value = ((container.get("resources") or {}).get(kind) or {}).get("memory")
    return str(value) if value is not None else None


def _bytes(quantity: str | None) -> int | None:
    try:
        return parse_quantity(quantity) if quantity else None
    except ValueError:
        return None


def _oom_container(ctx: PlanContext) -> str | None:
    for pod in ctx.pods:
        if ctx.pod_name and (pod.get("metadata") or {}).get("name") != ctx.pod_name:
            continue
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            last = (cs.get("lastState") or {}).get("terminated") or {}
            now = (cs.get("state") or {}).get("terminated") or {}
            if "OOMKilled" in (last.get("reason"), now.get("reason")):
                return str(cs.get("name"))
    return None


def _choose_container(ctx: PlanContext) -> str | Refusal:
    if ctx.container_name:
        return ctx.container_name
    containers = [c.get("name") for c in pod_spec(ctx.workload).get("containers") or []]
    if len(containers) == 1:
        return str(containers[0])
    oom = _oom_container(ctx)
    if oom:
        return oom
    return Refusal("AmbiguousContainer", f"{ctx.ref.name} has {len(containers)} containers and none is known "
                                         "to have been OOMKilled; name the container")


def _resources_patch(key: str, name: str, limit: str, request: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {"limits": {"memory": limit}}
    if request is not None:
        resources["requests"] = {"memory": request}
    return {key: [{"name": name, "resources": resources}]}


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Limit x factor (parameters.memoryFactor or policy.memoryGrowthFactor) or parameters.memoryLimit.

    The result is rounded up to whole Mi and capped at policy.memoryCeiling. A memory request is scaled by
    the same ratio and kept <= the new limit; an absent request stays absent.
    """
    ref = ctx.ref
    if ref.kind not in TEMPLATE_KINDS:
        return Refusal("ActionNotSupported", f"the resources of a {ref.kind} cannot be changed in place; "
                                             "change its controller")
    chosen = _choose_container(ctx)
    if isinstance(chosen, Refusal):
        return chosen
    found = find_container(ctx.workload, chosen)
    if found is None:
        return Refusal("ContainerNotFound", f"{ref.kind} {ref.name} has no container {chosen}")
    key, container = found
    limit_text, request_text = _memory(container, "limits"), _memory(container, "requests")
    ceiling = ctx.policy.memory_ceiling_bytes
    explicit = ctx.parameters.get("memoryLimit")
    factor_param = number_parameter(ctx.parameters, "memoryFactor", 1.0, 8.0)
    if isinstance(factor_param, Refusal):
        return factor_param
    old_limit = _bytes(limit_text)
    if explicit is not None:
        wanted_or_none = _bytes(explicit) if isinstance(explicit, str) and len(explicit) <= 32 else None
        if wanted_or_none is None:  # refused, not raised: an exception would retry forever
            return Refusal("InvalidParameter", f"parameters.memoryLimit {str(explicit)[:40]!r} is not a memory "
                                               "quantity such as 512Mi or 1Gi")
        wanted = wanted_or_none  # capped at policy.memoryCeiling below
        if wanted <= 0:  # a zero memory limit means no limit at all
            return Refusal("InvalidParameter", f"parameters.memoryLimit {explicit} would remove the limit")
        if old_limit is not None and wanted <= old_limit:
            return Refusal("NotAnIncrease",
                           f"memoryLimit {explicit} is not above the current limit {limit_text}")
    elif old_limit is None:
        return Refusal("NoMemoryLimit", f"container {chosen} has no memory limit to grow; "
                                        "give parameters.memoryLimit")
    else:
        factor = float(factor_param or ctx.policy.memory_growth_factor)
        if factor <= 1.0:
            return Refusal("NotAnIncrease", f"memory factor {factor} would not increase the limit")
        wanted = int(old_limit * factor)
    new_limit = min(parse_quantity(format_mi(wanted)), ceiling)
    if old_limit is not None and new_limit <= old_limit:
        return Refusal("AtMemoryCeiling", f"container {chosen} is at {limit_text}; the policy ceiling is "
                                          f"{ctx.policy.memory_ceiling}")
    new_limit_text = format_mi(new_limit) if new_limit < ceiling else ctx.policy.memory_ceiling
    new_request_text: str | None = None
    if request_text:
        old_request = parse_quantity(request_text)
        ratio = new_limit / old_limit if old_limit else 1.0
        new_request = min(int(old_request * ratio), new_limit)
        new_request_text = new_limit_text if new_request >= new_limit else format_mi(new_request)
        if parse_quantity(new_request_text) > new_limit:  # rounding up to Mi must not pass the limit
            new_request_text = new_limit_text
    capped = " (capped at the policy ceiling)" if new_limit_text == ctx.policy.memory_ceiling else ""
    before = {"container": chosen, "containerList": key,
              "limits": {"memory": limit_text} if limit_text else {},
              "requests": {"memory": request_text} if request_text else {}}
    after = {"container": chosen, "containerList": key, "limits": {"memory": new_limit_text},
             "requests": {"memory": new_request_text} if new_request_text else {}}
    body = template_patch(ref.kind, _resources_patch(key, chosen, new_limit_text, new_request_text))
    return Plan(
        action=ACTION,
        target=ref,
        description=f"raise the memory limit of {ref.kind} {ref.name} container {chosen} from "
                    f"{limit_text or 'none'} to {new_limit_text}{capped}",
        before=before,
        after=after,
        patches=(Patch(ref, body, "strategic"),),
    )


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Restore the container's previous memory limit and request (removing ones that did not exist)."""
    name = change.before.get("container")
    key = str(change.before.get("containerList") or "containers")
    if not name or change.kind not in TEMPLATE_KINDS:
        return Refusal("NothingToUndo", "the change records no container of a workload")
    if ctx is not None:
        found = find_container(ctx.workload, str(name))
        now_limit = _memory(found[1], "limits") if found else None
        if now_limit != (change.after.get("limits") or {}).get("memory"):
            return drift_refusal(change, now_limit)
    old_limit = (change.before.get("limits") or {}).get("memory")
    old_request = (change.before.get("requests") or {}).get("memory")
    resources: dict[str, Any] = {"limits": {"memory": old_limit}}  # None removes an added limit
    if old_request is not None or (change.after.get("requests") or {}).get("memory") is not None:
        resources["requests"] = {"memory": old_request}
    ref = WorkloadRef(change.kind, change.name, change.namespace)
    body = template_patch(ref.kind, {key: [{"name": name, "resources": resources}]})
    return Plan(
        action=ACTION,
        target=ref,
        description=f"undo increase_memory: container {name} of {ref.kind} {ref.name} back to "
                    f"{old_limit or 'no limit'}",
        before=dict(change.after),
        after=dict(change.before),
        patches=(Patch(ref, body, "strategic"),),
    )
