"""Read what decide() needs from the API server: the workload's facts and the remediation history.

The history is the Remediation objects themselves, so rate limits, cooldowns and backoff survive restarts
and fail-over: nothing of it lives in the operator's memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from remediator.adapters.kube import Kube, NotFound, parse_ts
from remediator.domain.decide import History, PastRemediation, WorkloadFacts
from remediator.domain.policy import is_gitops_managed, opted_out
from remediator.domain.types import WorkloadRef

# Phases in which a Remediation still owns its workload.
ACTIVE_PHASES = {"Proposed", "PendingApproval", "Approved", "Applying", "Verifying"}
IN_FLIGHT_PHASES = {"Approved", "Applying", "Verifying"}
FINAL_PHASES = {"Succeeded", "Failed", "Rejected", "Skipped", "Expired"}


def workload_facts(kube: Kube, ref: WorkloadRef) -> tuple[WorkloadFacts, dict[str, Any] | None]:
    try:
        obj = kube.get(ref)
    except NotFound:
        return WorkloadFacts(ref=ref, exists=False), None
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {})
    ns_labels, ns_annotations = kube.namespace_annotations(ref.namespace)
    pods = [p for p in kube.pods_of(obj) if not p["metadata"].get("deletionTimestamp")]
    if ref.kind == "DaemonSet":
        replicas: int | None = status.get("desiredNumberScheduled")
        ready = int(status.get("numberReady") or 0)
    elif ref.kind == "Pod":
        replicas, ready = 1, int(_pod_ready(obj))
    else:
        replicas, ready = spec.get("replicas", 1), int(status.get("readyReplicas") or 0)
    facts = WorkloadFacts(
        ref=ref,
        replicas=replicas,
        ready_replicas=ready,
        pod_count=len(pods),
        has_hpa=ref.kind in ("Deployment", "StatefulSet") and kube.has_hpa(ref),
        gitops=is_gitops_managed(meta.get("labels"), meta.get("annotations")),
        opted_out=opted_out(meta.get("labels"), meta.get("annotations")),
        namespace_opted_out=opted_out(ns_labels, ns_annotations),
    )
    return facts, obj


def _pod_ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in pod.get("status", {}).get("conditions", [])
    )


def _past(rem: dict[str, Any]) -> PastRemediation | None:
    status = rem.get("status") or {}
    started = parse_ts(status.get("appliedAt"))
    if started is None:
        return None
    return PastRemediation(
        started_at=started,
        result=(status.get("outcome") or {}).get("result", ""),
        finished_at=parse_ts(status.get("completedAt")),
        action=rem["spec"]["action"],
    )


def history(kube: Kube, ref: WorkloadRef, now: dt.datetime, *, exclude: str | None = None) -> History:
    mine = [r for r in kube.remediations_for(ref) if r["metadata"]["name"] != exclude]
    in_namespace = kube.list_cr("remediations", ref.namespace)
    everywhere = kube.list_cr("remediations")
    minute_ago = now - dt.timedelta(minutes=1)
    return History(
        workload=tuple(p for r in mine if (p := _past(r)) is not None),
        cluster_started_last_minute=sum(
            1 for r in everywhere if (p := _past(r)) is not None and p.started_at > minute_ago and p.action != "notify"
        ),
        namespace_in_flight=sum(
            1
            for r in in_namespace
            if (r.get("status") or {}).get("phase") in IN_FLIGHT_PHASES and r["metadata"]["name"] != exclude
        ),
        active_for_workload=any((r.get("status") or {}).get("phase", "Proposed") in ACTIVE_PHASES for r in mine),
    )
