"""What intake needs to know of the cluster, as small entries the watch keeps, and a Pod's owner chain over them.

The entries are what kopf's indexes keep per object (handlers.py): a few fields, never the whole object, so a
cluster of tens of thousands of Pods and ReplicaSets costs little memory. The functions are pure: a cache and
a GET build the same entry from the same object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediator.domain.actions.rollback import HASH_LABEL, REVISION
from remediator.domain.clock import parse_time
from remediator.domain.policy import opted_out
from remediator.domain.types import WorkloadRef

# The kinds a Pod's owner chain ends in (besides the Pod itself), with the API version of each.
WORKLOAD_KINDS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1"}


@dataclass(frozen=True)
class NamespaceEntry:
    name: str
    opted_out: bool


@dataclass(frozen=True)
class ReplicaSetEntry:
    name: str
    uid: str
    owner: tuple[str, str] | None  # the controller (kind, name)


@dataclass(frozen=True)
class WorkloadEntry:
    """A failing Pod's target: enough to honour its opt-out and to own the ErrorEvent (an ownerReference)."""

    kind: str
    name: str
    namespace: str
    uid: str
    api_version: str
    opted_out: bool
    # spec.selector.matchLabels, sorted (immutable in apps/v1): a decision lists the Pods without the GET first
    selector: tuple[tuple[str, str], ...] = ()

    def owner_reference(self) -> dict[str, Any]:
        """Owned by the workload, not controlled: restart_pod deletes Pods, the ErrorEvent must outlive them."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "blockOwnerDeletion": False,
            "controller": False,
        }


@dataclass(frozen=True)
class ErrorEventEntry:
    name: str
    namespace: str
    uid: str
    resource_version: str
    count: int
    last_seen: dt.datetime | None
    phase: str | None


def controller_owner(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """The object's controller (kind, name): the ownerReference marked controller, else none."""
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return str(owner.get("kind", "")), str(owner.get("name", ""))
    return None


def namespace_entry(ns: Mapping[str, Any]) -> NamespaceEntry:
    meta = ns.get("metadata") or {}
    return NamespaceEntry(str(meta.get("name", "")), opted_out(meta.get("labels"), meta.get("annotations")))


def replicaset_entry(rs: Mapping[str, Any]) -> ReplicaSetEntry:
    meta = rs.get("metadata") or {}
    return ReplicaSetEntry(str(meta.get("name", "")), str(meta.get("uid", "")), controller_owner(rs))


def workload_entry(obj: Mapping[str, Any], kind: str) -> WorkloadEntry:
    """The entry of a workload (or of a bare Pod: its own target); `kind` because a GET's body may lack it."""
    meta = obj.get("metadata") or {}
    return WorkloadEntry(
        kind=kind,
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        uid=str(meta.get("uid", "")),
        api_version=str(obj.get("apiVersion") or WORKLOAD_KINDS.get(kind, "v1")),
        opted_out=opted_out(meta.get("labels"), meta.get("annotations")),
        selector=tuple(sorted(match_labels(obj).items())) if kind != "Pod" else (),
    )


def match_labels(workload: Mapping[str, Any]) -> dict[str, str]:
    """A workload's spec.selector.matchLabels (empty without one)."""
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {str(k): str(v) for k, v in selector.items()}


def rollout_part(rs: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a ReplicaSet that a decision's rollout evidence reads (evidence.rollout_of): its name,
    creation time, revision and pod-template-hash, in the object's own shape."""
    meta = rs.get("metadata") or {}
    annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
    return {
        "metadata": {
            "name": meta.get("name"),
            "creationTimestamp": meta.get("creationTimestamp"),
            "annotations": {REVISION: annotations[REVISION]} if REVISION in annotations else {},
            "labels": {HASH_LABEL: labels[HASH_LABEL]} if HASH_LABEL in labels else {},
        }
    }


def hpa_target(hpa: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(namespace, kind, name) of the workload an HorizontalPodAutoscaler scales."""
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    if not ref.get("kind") or not ref.get("name"):
        return None
    return str((hpa.get("metadata") or {}).get("namespace", "")), str(ref["kind"]), str(ref["name"])


def errorevent_entry(ee: Mapping[str, Any]) -> ErrorEventEntry:
    meta, spec = ee.get("metadata") or {}, ee.get("spec") or {}
    return ErrorEventEntry(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        uid=str(meta.get("uid", "")),
        resource_version=str(meta.get("resourceVersion", "")),
        count=int(spec.get("count") or 1),
        last_seen=parse_time(spec.get("lastSeen")),
        phase=(ee.get("status") or {}).get("phase"),
    )


def workload_of(pod: Mapping[str, Any], replicaset: ReplicaSetEntry | None) -> WorkloadRef:
    """The workload a Pod belongs to: Pod -> ReplicaSet -> Deployment, a StatefulSet or DaemonSet, else the Pod.

    `replicaset` is the entry of the Pod's controlling ReplicaSet (None when it has none, or it is gone). A
    ReplicaSet without a Deployment, a Job's Pod, a bare Pod: the Pod itself is the target.
    """
    meta = pod.get("metadata") or {}
    namespace, pod_name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    itself = WorkloadRef("Pod", pod_name, namespace)
    owner = controller_owner(pod)
    if owner is None:
        return itself
    kind, name = owner
    if kind == "ReplicaSet":
        if replicaset is None or replicaset.name != name or replicaset.owner is None:
            return itself
        rs_kind, rs_owner = replicaset.owner
        return WorkloadRef("Deployment", rs_owner, namespace) if rs_kind == "Deployment" else itself
    if kind in ("StatefulSet", "DaemonSet"):
        return WorkloadRef(kind, name, namespace)
    return itself
