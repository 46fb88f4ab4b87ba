"""restart_pod: evict failing Pods a controller will replace, a bounded share at a time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from remediator.domain.actions.base import Change, Plan, PlanContext, Refusal
from remediator.domain.detect import CONTROLLER_KINDS, pod_failures, pod_owner

ACTION = "restart_pod"
# Families a restart can help with; unschedulable and already-evicted Pods are not restarted.
RESTARTABLE = ("crash", "oom", "probe", "config", "image")


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Whether the Pod's Ready condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(cs.get("restartCount") or 0) for cs in statuses)


def _failing(pod: Mapping[str, Any], trigger: str | None) -> bool:
    if _name(pod) == trigger:
        return True
    if any(f.kind_family in RESTARTABLE for f in pod_failures(pod)):
        return True
    status = pod.get("status") or {}
    # A running Pod that is not ready (failing readiness probes) counts as failing too.
    return status.get("phase") == "Running" and not is_ready(pod) and bool(status.get("conditions"))


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Evict the failing Pods (the triggering Pod first, then by restarts), replaced by their controller.

    At most max(1, floor(pods x maxPodFraction)) Pods are evicted, and ready Pods only while at least
    minReadyPods stay ready. Pods without a ReplicaSet/StatefulSet/DaemonSet controller, and Pods already
    terminating, are never evicted. The adapter should use the Eviction API so PodDisruptionBudgets hold.
    """
    ref = ctx.ref
    pods = list(ctx.pods)
    if ref.kind == "Pod":
        pods = pods or [ctx.workload]
    if not pods:
        return Refusal("NoPods", f"{ref.kind} {ref.name} has no Pods to restart")
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    candidates = [p for p in live if _failing(p, ctx.pod_name)]
    if not candidates:
        return Refusal("NoFailingPods", f"no Pod of {ref.kind} {ref.name} is failing now")
    replaceable = [p for p in candidates if (pod_owner(p) or ("", ""))[0] in CONTROLLER_KINDS]
    if not replaceable:
        return Refusal("NotControllerManaged", "no controller would recreate the failing Pod(s); "
                                               "restarting would delete them for good")
    replaceable.sort(key=lambda p: (_name(p) != ctx.pod_name, -_restarts(p), _name(p)))
    policy = ctx.policy.blast_radius
    budget = max(1, math.floor(len(live) * policy.max_pod_fraction))
    ready_now = sum(1 for p in live if is_ready(p))
    chosen: list[str] = []
    ready_left = ready_now
    for pod in replaceable:
        if len(chosen) >= budget:
            break
        if is_ready(pod):
            if ready_left - 1 < policy.min_ready_pods:
                continue
            ready_left -= 1
        chosen.append(_name(pod))
    if not chosen:
        return Refusal("BlastRadius", f"evicting would leave fewer than {policy.min_ready_pods} ready Pod(s) "
                                      f"of {ref.name} ({ready_now} ready now)")
    left_out = len(replaceable) - len(chosen)
    note = f"; {left_out} more failing Pod(s) left for later (blast radius)" if left_out else ""
    return Plan(
        action=ACTION,
        target=ref,
        description=f"evict {len(chosen)} failing Pod(s) of {ref.kind} {ref.name} for their controller "
                    f"to replace: {', '.join(chosen)}{note}",
        before={"pods": len(live), "readyPods": ready_now},
        after={"evicted": chosen},
        evict=tuple(chosen),
    )


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """A restart cannot be undone (the replaced Pods are gone and their controller made new ones)."""
    return Refusal("NotReversible", "a Pod restart cannot be undone; its controller already replaced it")
