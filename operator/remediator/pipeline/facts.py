"""Read what decide() needs from the API server: the workload's facts and the remediation history.

The history is the Remediation objects themselves, so rate limits, cooldowns and backoff survive restarts
and fail-over: nothing of it lives in the operator's memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube, NotFound
from remediator.domain import clock
from remediator.domain import decide as decisions
from remediator.domain.corroborate import observe
from remediator.domain.decide import History, PastRemediation, WorkloadFacts
from remediator.domain.evidence import rollout_of, saturation_of
from remediator.domain.policy import is_gitops_managed, opted_out
from remediator.domain.types import WorkloadRef
from remediator.domain.workload_state import replicas


def workload_facts(
    kube: Kube, ref: WorkloadRef, namespace_opted_out: Callable[[str], bool] | None = None
) -> tuple[WorkloadFacts, dict[str, Any] | None]:
    """The workload and its Pods, read fresh. `namespace_opted_out`: where the namespace's opt-out is read
    (triage passes the watch's cache); without it, a GET (the check right before a change)."""
    try:
        obj = kube.get(ref)
    except NotFound:
        return WorkloadFacts(ref=ref, exists=False), None
    meta = obj.get("metadata", {})
    if namespace_opted_out is not None:
        ns_opted_out = namespace_opted_out(ref.namespace)
    else:
        ns_opted_out = opted_out(*kube.namespace_annotations(ref.namespace))
    obj.setdefault("kind", ref.kind)
    pods = [p for p in kube.pods_of(obj) if not p["metadata"].get("deletionTimestamp")]
    desired, ready, _ = replicas(ref.kind, obj)
    now = clock.now()
    rollout = rollout_of(kube.replicasets_of(obj), pods, now) if ref.kind == "Deployment" else None
    facts = WorkloadFacts(
        ref=ref,
        replicas=desired,
        ready_replicas=ready,
        pod_count=len(pods),
        has_hpa=ref.kind in ("Deployment", "StatefulSet") and kube.has_hpa(ref),
        gitops=is_gitops_managed(meta.get("labels"), meta.get("annotations")),
        opted_out=opted_out(meta.get("labels"), meta.get("annotations")),
        namespace_opted_out=ns_opted_out,
        signals=observe(pods, now),
        rollout=rollout,
        saturation=saturation_of(pods, kube.pod_usage(obj)) if ref.kind in ("Deployment", "StatefulSet") else None,
    )
    return facts, obj


def _past(rem: dict[str, Any]) -> PastRemediation | None:
    """A Remediation that started changing its workload: applied, or approved and about to be. Counting the
    approved ones is what keeps a burst of decisions inside the limits before any of them is applied."""
    status = rem.get("status") or {}
    started = clock.parse_time(status.get("appliedAt")) or clock.parse_time(status.get("approvedAt"))
    if started is None:
        return None
    return PastRemediation(
        started_at=started,
        result=(status.get("outcome") or {}).get("result", ""),
        finished_at=clock.parse_time(status.get("completedAt")),
        action=rem["spec"]["action"],
    )


def history(kube: Kube, ref: WorkloadRef, now: dt.datetime, *, exclude: str | None = None) -> History:
    """The workload's and its namespace's Remediations, from one LIST of the namespace, read fresh, never from a
    cache: one active Remediation per workload and the limits hold only on what the API server has now. The
    cluster-wide count of recent starts is left at 0: decide_on_history reads it only when it can matter."""
    in_namespace = [r for r in kube.list_cr(api.REMEDIATIONS, ref.namespace) if r["metadata"]["name"] != exclude]
    mine = [
        r for r in in_namespace if r["spec"]["target"]["name"] == ref.name and r["spec"]["target"]["kind"] == ref.kind
    ]
    return History(
        workload=tuple(p for r in mine if (p := _past(r)) is not None),
        namespace_in_flight=sum(
            1 for r in in_namespace if (r.get("status") or {}).get("phase") in api.IN_FLIGHT_PHASES
        ),
        active_for_workload=any(
            (r.get("status") or {}).get("phase", api.Phase.PROPOSED) in api.ACTIVE_PHASES for r in mine
        ),
    )


def cluster_starts_last_minute(kube: Kube, now: dt.datetime, *, exclude: str | None = None) -> int:
    """Changing Remediations started anywhere in the cluster in the last minute (one LIST of every Remediation)."""
    minute_ago = now - dt.timedelta(minutes=1)
    return sum(
        1
        for r in kube.list_cr(api.REMEDIATIONS)
        if r["metadata"]["name"] != exclude
        and (p := _past(r)) is not None
        and p.started_at > minute_ago
        and p.action != "notify"
    )


def decide_on_history(
    kube: Kube, inputs: decisions.DecisionInputs, *, exclude: str | None = None
) -> decisions.Decision:
    """decide() on the Remediations as they are now. The cluster-wide rate limit only ever turns a change that
    would start by itself into one that waits for approval (a human's approval is not limited by it), so the
    LIST of every Remediation in the cluster, whose cost grows with their number, is read only for a decision
    that comes out automatic and changing; everything else decides on one LIST of the namespace."""
    ref, now = inputs.workload.ref, inputs.now
    local = replace(inputs, history=history(kube, ref, now, exclude=exclude))
    decision = decisions.decide(local)
    if decision.mode != "auto" or decision.action == "notify":
        return decision
    counted = replace(local.history, cluster_started_last_minute=cluster_starts_last_minute(kube, now, exclude=exclude))
    return decisions.decide(replace(local, history=counted))
