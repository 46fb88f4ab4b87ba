"""A Pod's owner chain and the small entries the intake caches keep, from plain API dicts."""

from __future__ import annotations

from typing import Any

from remediator.domain import cluster_facts as facts
from remediator.domain.cluster_facts import ReplicaSetEntry
from remediator.domain.types import WorkloadRef


def _pod(*owners: dict[str, Any], name: str = "web-abc-1") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "shop", "uid": "u-pod", "ownerReferences": list(owners)}}


def _owner(kind: str, name: str, controller: bool = True) -> dict[str, Any]:
    return {"kind": kind, "name": name, "controller": controller, "uid": f"u-{name}"}


def test_a_replicaset_pod_belongs_to_the_deployment_that_controls_the_replicaset() -> None:
    rs = facts.replicaset_entry(
        {"metadata": {"name": "web-abc", "uid": "u-rs", "ownerReferences": [_owner("Deployment", "web")]}}
    )
    assert rs == ReplicaSetEntry("web-abc", "u-rs", ("Deployment", "web"))
    assert facts.workload_of(_pod(_owner("ReplicaSet", "web-abc")), rs) == WorkloadRef("Deployment", "web", "shop")


def test_a_replicaset_without_a_deployment_or_gone_leaves_the_pod_as_its_own_target() -> None:
    pod = _pod(_owner("ReplicaSet", "web-abc"))
    assert facts.workload_of(pod, None) == WorkloadRef("Pod", "web-abc-1", "shop")
    orphan = ReplicaSetEntry("web-abc", "u-rs", None)
    assert facts.workload_of(pod, orphan) == WorkloadRef("Pod", "web-abc-1", "shop")


def test_an_entry_for_another_replicaset_is_not_taken_for_the_pods_own() -> None:
    other = ReplicaSetEntry("api-xyz", "u-rs2", ("Deployment", "api"))
    assert facts.workload_of(_pod(_owner("ReplicaSet", "web-abc")), other).kind == "Pod"


def test_statefulset_and_daemonset_pods_belong_to_them_and_others_to_nobody() -> None:
    assert facts.workload_of(_pod(_owner("StatefulSet", "db")), None) == WorkloadRef("StatefulSet", "db", "shop")
    assert facts.workload_of(_pod(_owner("DaemonSet", "agent")), None) == WorkloadRef("DaemonSet", "agent", "shop")
    assert facts.workload_of(_pod(_owner("Job", "migrate")), None).kind == "Pod"
    assert facts.workload_of(_pod(), None).kind == "Pod"


def test_only_the_controller_owner_counts() -> None:
    # An ownerReference that is not the controller (a user's, say) never redirects the Pod to another workload.
    pod = _pod(_owner("StatefulSet", "db", controller=False))
    assert facts.workload_of(pod, None) == WorkloadRef("Pod", "web-abc-1", "shop")


def test_opt_outs_are_read_from_labels_or_annotations() -> None:
    assert facts.namespace_entry({"metadata": {"name": "a", "labels": {"remediator.dev/ignore": "true"}}}).opted_out
    assert not facts.namespace_entry({"metadata": {"name": "a", "labels": {"remediator.dev/ignore": "no"}}}).opted_out
    dep = {
        "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "annotations": {"remediator.dev/ignore": "True"}}
    }
    entry = facts.workload_entry(dep, "Deployment")
    assert entry.opted_out and entry.api_version == "apps/v1"


def test_a_workload_entry_owns_without_controlling() -> None:
    entry = facts.workload_entry({"metadata": {"name": "web", "namespace": "shop", "uid": "u1"}}, "Deployment")
    assert entry.owner_reference() == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "uid": "u1",
        "blockOwnerDeletion": False,
        "controller": False,
    }
    pod = facts.workload_entry({"apiVersion": "v1", "metadata": {"name": "p", "namespace": "shop", "uid": "u2"}}, "Pod")
    assert pod.owner_reference()["apiVersion"] == "v1"


def test_an_errorevent_entry_keeps_what_counting_needs() -> None:
    ee = {
        "metadata": {"name": "e", "namespace": "shop", "uid": "u", "resourceVersion": "42"},
        "spec": {"count": 7, "lastSeen": "2026-01-01T00:00:00Z"},
        "status": {"phase": "Classified"},
    }
    entry = facts.errorevent_entry(ee)
    assert (entry.count, entry.resource_version, entry.phase) == (7, "42", "Classified")
    assert entry.last_seen is not None and entry.last_seen.year == 2026
