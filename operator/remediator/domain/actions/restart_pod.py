"""restart_pod: evict failing Pods a controller will replace, a bounded share at a time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from remediator.domain.actions.base import Change, Plan, PlanContext, Refusal
from remediator.domain.detect import CONTROLLER_KINDS, pod_failures, pod_owner
from remediator.domain.workload_state import pod_ready

ACTION = "restart_pod"
# Families a restart can help with; unschedulable and already-evicted Pods are not restarted.
RESTARTABLE = ("crash", "oom", "probe", "config", "image")


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def _restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(cs.get("restartCount") or 0) for cs in statuses)


def _failing(pod: Mapping[str, Any]) -> bool:
    """Whether the Pod's own status shows it failing: never a ready Pod, whatever an ErrorEvent says of it."""
    if pod_ready(pod):
        return False
    if any(f.kind_family in RESTARTABLE for f in pod_failures(pod)):
        return True
    status = pod.get("status") or {}
    # A running Pod that is not ready (failing readiness probes) counts as failing too.
    return status.get("phase") == "Running" and bool(status.get("conditions"))


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Evict the failing Pods (the triggering Pod first, then by restarts), replaced by their controller.

    Only Pods whose status shows them not ready and failing are candidates: the ErrorEvent's podName orders
    them, it never makes a Pod one. At most max(1, floor(pods x maxPodFraction)) Pods are evicted. Pods
    without a ReplicaSet/StatefulSet/DaemonSet controller, and Pods already terminating, are never evicted.
    The adapter uses the Eviction API so PodDisruptionBudgets hold.
    """
    ref = ctx.ref
    pods = list(ctx.pods)
    if ref.kind == "Pod":
        pods = pods or [ctx.workload]
    if not pods:
        return Refusal("NoPods", f"{ref.kind} {ref.name} has no Pods to restart")
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    candidates = [p for p in live if _failing(p)]
    if not candidates:
        return Refusal("NoFailingPods", f"no Pod of {ref.kind} {ref.name} is failing now")
    replaceable = [p for p in candidates if (pod_owner(p) or ("", ""))[0] in CONTROLLER_KINDS]
    if not replaceable:
        return Refusal("NotControllerManaged", "no controller would recreate the failing Pod(s); "
                                               "restarting would delete them for good")
    replaceable.sort(key=lambda p: (_name(p) != ctx.pod_name, -_restarts(p), _name(p)))
    budget = max(1, math.floor(len(live) * ctx.policy.blast_radius.max_pod_fraction))
    ready_now = sum(1 for p in live if pod_ready(p))
    # Evicting only Pods that are not ready never lowers the ready count, so minReadyPods always holds.
    chosen = [_name(p) for p in replaceable[:budget]]
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
