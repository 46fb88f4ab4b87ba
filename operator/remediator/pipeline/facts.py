"""Read what decide() needs from the API server: the workload's facts and the remediation history.

The history is the Remediation objects themselves, so rate limits, cooldowns and backoff survive restarts
and fail-over: nothing of it lives in the operator's memory. The reads are independent of each other, so they
are sent at once (a small pool shared by every decision): a decision waits for the slowest read, not the sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from remediator import api
from remediator.adapters.kube import Kube, NotFound
from remediator.domain import clock
from remediator.domain import decide as decisions
from remediator.domain.cluster_facts import match_labels
from remediator.domain.corroborate import observe
from remediator.domain.decide import History, PastRemediation, WorkloadFacts
from remediator.domain.evidence import rollout_of, saturation_of
from remediator.domain.policy import is_gitops_managed, opted_out
from remediator.domain.types import WorkloadRef
from remediator.domain.workload_state import pod_ready, replicas

# At most this many of a decision's reads in flight at once, across every decision (threads start on demand).
T = TypeVar("T")
_READS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="facts-read")


class Known(Protocol):
    """What the watch's caches answer for a decision (pipeline/cluster_view.ClusterView); None: not cached."""

    def namespace_opted_out(self, namespace: str) -> bool: ...

    def selector(self, ref: WorkloadRef) -> dict[str, str] | None: ...

    def replicasets_of(self, ref: WorkloadRef) -> list[dict[str, Any]] | None: ...

    def has_hpa(self, ref: WorkloadRef) -> bool | None: ...


def _done(value: T) -> Future[T]:
    done: Future[T] = Future()
    done.set_result(value)
    return done


def start_workload_facts(
    kube: Kube, ref: WorkloadRef, known: Known | None = None
) -> Callable[[], tuple[WorkloadFacts, dict[str, Any] | None]]:
    """Send the reads of workload_facts; the function returned waits for them and builds the facts.

    The workload and its Pods are read fresh. `known`: the watch's caches (triage's); they answer the namespace's
    opt-out, the HPAs and a Deployment's ReplicaSets, and give the Pod selector, so that the Pods are read
    together with the workload: one round of reads (their usage follows, only when a replica is ready). Without
    them (the check right before a change) the namespace is a GET and the ReplicaSets and HPAs LISTs, and what
    needs the selector waits for the workload."""
    scaled = ref.kind in ("Deployment", "StatefulSet")
    deployment = ref.kind == "Deployment"
    hpa_known = known.has_hpa(ref) if known is not None and scaled else None
    rs_known = known.replicasets_of(ref) if known is not None and deployment else None
    selector = known.selector(ref) if known is not None and ref.kind != "Pod" else None
    hpa = (_READS.submit(kube.has_hpa, ref) if hpa_known is None else _done(hpa_known)) if scaled else None
    ns_read = _READS.submit(kube.namespace_annotations, ref.namespace) if known is None else None
    obj_read = _READS.submit(kube.get, ref)
    early: dict[str, Any] | None = None
    if selector:  # the reads that need only the selector, with the GET
        early = {"kind": ref.kind, "metadata": {"name": ref.name, "namespace": ref.namespace},
                 "spec": {"selector": {"matchLabels": selector}}}  # fmt: skip
    pods_read = _READS.submit(kube.pods_of, early) if early is not None else None

    def finish() -> tuple[WorkloadFacts, dict[str, Any] | None]:
        try:
            obj = obj_read.result()
        except NotFound:
            for pending in (hpa, ns_read, pods_read):
                if pending is not None:
                    pending.cancel()
            return WorkloadFacts(ref=ref, exists=False), None
        obj.setdefault("kind", ref.kind)
        pods = pods_read
        if pods is None or match_labels(obj) != selector:  # not cached, or a new workload of that name
            pods = _READS.submit(kube.pods_of, obj)
        rs_read = _READS.submit(kube.replicasets_of, obj) if deployment and rs_known is None else None
        meta = obj.get("metadata", {})
        if ns_read is not None:
            ns_opted_out = opted_out(*ns_read.result())
        else:
            assert known is not None
            ns_opted_out = known.namespace_opted_out(ref.namespace)
        live = [p for p in pods.result() if not p["metadata"].get("deletionTimestamp")]
        # Usage counts only for ready replicas (saturation_of): with none ready, as in a crash loop, its answer
        # could not change the decision, so it is not asked for.
        usage = _READS.submit(kube.pod_usage, obj) if scaled and any(pod_ready(p) for p in live) else None
        desired, ready, _ = replicas(ref.kind, obj)
        now = clock.now()
        replicasets = rs_read.result() if rs_read is not None else rs_known
        facts = WorkloadFacts(
            ref=ref,
            replicas=desired,
            ready_replicas=ready,
            pod_count=len(live),
            has_hpa=hpa is not None and hpa.result(),
            gitops=is_gitops_managed(meta.get("labels"), meta.get("annotations")),
            opted_out=opted_out(meta.get("labels"), meta.get("annotations")),
            namespace_opted_out=ns_opted_out,
            signals=observe(live, now),
            rollout=rollout_of(replicasets, live, now) if replicasets is not None else None,
            saturation=saturation_of(live, usage.result() if usage is not None else None) if scaled else None,
        )
        return facts, obj

    return finish


def workload_facts(
    kube: Kube, ref: WorkloadRef, known: Known | None = None
) -> tuple[WorkloadFacts, dict[str, Any] | None]:
    """The workload's facts for decide(): start_workload_facts, waited for."""
    return start_workload_facts(kube, ref, known)()


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
    """The workload's Remediations, read fresh, never from a cache: one active Remediation per workload, the
    cooldown and the escalation hold only on what the API server has now. One LIST selected by spec.target
    (Kube.remediations_for), so its cost does not grow with the namespace's history. The namespace's and the
    cluster's counts are left at 0: decide_on_history reads them only when they can matter."""
    mine = [r for r in kube.remediations_for(ref) if r["metadata"]["name"] != exclude]
    return History(
        workload=tuple(p for r in mine if (p := _past(r)) is not None),
        active_for_workload=any(
            (r.get("status") or {}).get("phase", api.Phase.PROPOSED) in api.ACTIVE_PHASES for r in mine
        ),
    )


def limit_counts(
    kube: Kube, namespace: str, now: dt.datetime, *, exclude: tuple[str, str] | None = None
) -> tuple[int, int]:
    """(Remediations in flight in `namespace`, changing ones started anywhere in the last minute), from one
    LIST of every Remediation. `exclude`: (namespace, name) of the one being decided (a name alone may recur
    in another namespace)."""
    minute_ago = now - dt.timedelta(minutes=1)
    in_flight = started = 0
    for r in kube.list_cr(api.REMEDIATIONS):
        meta = r["metadata"]
        if (meta.get("namespace"), meta["name"]) == exclude:
            continue
        if meta.get("namespace") == namespace and (r.get("status") or {}).get("phase") in api.IN_FLIGHT_PHASES:
            in_flight += 1
        if (p := _past(r)) is not None and p.started_at > minute_ago and p.action != "notify":
            started += 1
    return in_flight, started


def facts_and_history(
    kube: Kube,
    ref: WorkloadRef,
    known: Known | None = None,
    *,
    exclude: str | None = None,
) -> tuple[WorkloadFacts, dict[str, Any] | None, History]:
    """workload_facts and the workload's history, read at the same time (the history never from a cache)."""
    facts = start_workload_facts(kube, ref, known)
    past = history(kube, ref, clock.now(), exclude=exclude)
    workload, obj = facts()
    return workload, obj, past


def decide_on_history(
    kube: Kube,
    inputs: decisions.DecisionInputs,
    *,
    exclude: str | None = None,
    local: History | None = None,
) -> decisions.Decision:
    """decide() on the Remediations as they are now. The namespace's in-flight limit and the cluster-wide rate
    limit only ever turn a change that would start by itself into one that waits for approval (a human's
    approval is not limited by them), so the LIST of every Remediation in the cluster that counts both, whose
    cost grows with their number, is read only for a decision that comes out automatic and changing;
    everything else decides on the workload's own Remediations. `local`: that history when the caller has
    just read it (facts_and_history); else it is read here."""
    ref, now = inputs.workload.ref, inputs.now
    if local is None:
        local = history(kube, ref, now, exclude=exclude)
    with_local = replace(inputs, history=local)
    decision = decisions.decide(with_local)
    if decision.mode != "auto" or decision.action == "notify":
        return decision
    in_flight, started = limit_counts(kube, ref.namespace, now, exclude=(ref.namespace, exclude) if exclude else None)
    counted = replace(local, namespace_in_flight=in_flight, cluster_started_last_minute=started)
    return decisions.decide(replace(with_local, history=counted))
