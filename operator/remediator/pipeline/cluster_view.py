"""Intake's reads of the cluster, answered from the watch-kept caches (kopf indexes), with a GET on a miss.

A failing Pod used to cost a GET of its namespace, its ReplicaSet and its workload; the watch already brings
every change of those objects, so the answers are in memory. A miss (the cache not filled yet, an object the
watch has not delivered) is read from the API server and counted in remediator_cache_misses_total, so a
cache that stops answering shows. Nothing here decides: the entries and the owner chain are domain.cluster_facts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from remediator import api, metrics
from remediator.adapters.kube import Kube, NotFound
from remediator.domain import cluster_facts as facts
from remediator.domain.cluster_facts import ErrorEventEntry, NamespaceEntry, ReplicaSetEntry, WorkloadEntry
from remediator.domain.policy import opted_out
from remediator.domain.types import WorkloadRef

T = TypeVar("T")
# A kopf index: key -> the values of every object filed under it (one object per key in ours).
Index = Mapping[Hashable, Iterable[T]]
# How long an ErrorEvent this process created is known without the watch (which catches up in milliseconds).
RECENT_SECONDS = 30.0


@dataclass
class Caches:
    """The kopf indexes of handlers.py; an empty one answers nothing, so every read is a GET."""

    namespaces: Index[NamespaceEntry] = field(default_factory=dict)
    replicasets: Index[ReplicaSetEntry] = field(default_factory=dict)
    workloads: Mapping[str, Index[WorkloadEntry]] = field(default_factory=dict)  # by kind
    errorevents: Index[ErrorEventEntry] = field(default_factory=dict)
    policies: Index[tuple[str, dict[str, Any]]] | None = None  # namespace -> (name, spec); None: read with GETs
    # What a decision reads of a workload besides the workload itself; None: read with a LIST.
    rollouts: Index[dict[str, Any]] | None = None  # (namespace, owner kind, owner name) -> ReplicaSets' rollout part
    hpas: Index[bool] | None = None  # (namespace, kind, name) of a workload an HPA scales


def _first(index: Index[T], key: Hashable) -> T | None:
    """The entry under `key`, read from a thread while the event loop may change the index."""
    for _ in range(3):
        try:
            store = index.get(key)
            return next(iter(store), None) if store is not None else None
        except RuntimeError:  # "changed size during iteration": read again
            continue
    return None


def _all(index: Index[T], key: Hashable) -> list[T]:
    """Every entry under `key` (see _first)."""
    for _ in range(3):
        try:
            return list(index.get(key) or ())
        except RuntimeError:
            continue
    return list(index.get(key) or ())


class ClusterView:
    def __init__(self, kube: Kube, caches: Caches | None = None) -> None:
        self.kube = kube
        self.caches = caches or Caches()
        self._recent: dict[tuple[str, str], tuple[float, ErrorEventEntry]] = {}
        self._lock = threading.Lock()

    def namespace_opted_out(self, namespace: str) -> bool:
        entry = _first(self.caches.namespaces, namespace)
        if entry is not None:
            return entry.opted_out
        metrics.CACHE_MISSES.labels(resource="namespaces").inc()
        return opted_out(*self.kube.namespace_annotations(namespace))

    def workload_of(self, pod: Mapping[str, Any]) -> WorkloadRef:
        owner = facts.controller_owner(pod)
        replicaset = None
        if owner is not None and owner[0] == "ReplicaSet":
            replicaset = self.replicaset(str((pod.get("metadata") or {}).get("namespace", "")), owner[1])
        return facts.workload_of(pod, replicaset)

    def replicaset(self, namespace: str, name: str) -> ReplicaSetEntry | None:
        entry = _first(self.caches.replicasets, (namespace, name))
        if entry is not None:
            return entry
        metrics.CACHE_MISSES.labels(resource="replicasets").inc()
        try:
            return facts.replicaset_entry(self.kube.get(WorkloadRef("ReplicaSet", name, namespace)))
        except NotFound:
            return None

    def target(self, ref: WorkloadRef, pod: Mapping[str, Any]) -> WorkloadEntry | None:
        """The workload's entry; None when it is gone. A bare Pod is its own target, read from the event."""
        if ref.kind == "Pod":
            return facts.workload_entry(pod, "Pod")
        entry = _first(self.caches.workloads.get(ref.kind, {}), (ref.namespace, ref.name))
        if entry is not None:
            return entry
        metrics.CACHE_MISSES.labels(resource=f"{ref.kind.lower()}s").inc()
        try:
            return facts.workload_entry(self.kube.get(ref), ref.kind)
        except NotFound:
            return None

    # -- a decision's reads that the watch can answer (pipeline/facts.py); None: not cached, read it ----------
    def selector(self, ref: WorkloadRef) -> dict[str, str] | None:
        """The workload's Pod selector (immutable in apps/v1), so its Pods are listed with its GET, not after."""
        entry = _first(self.caches.workloads.get(ref.kind, {}), (ref.namespace, ref.name))
        return dict(entry.selector) if entry is not None and entry.selector else None

    def replicasets_of(self, ref: WorkloadRef) -> list[dict[str, Any]] | None:
        if self.caches.rollouts is None:
            return None
        return _all(self.caches.rollouts, (ref.namespace, ref.kind, ref.name))

    def has_hpa(self, ref: WorkloadRef) -> bool | None:
        if self.caches.hpas is None:
            return None
        return _first(self.caches.hpas, (ref.namespace, ref.kind, ref.name)) is not None

    # -- ErrorEvents: the cache says whether one exists; the create is the read when it does not ----------
    def errorevent(self, namespace: str, name: str) -> ErrorEventEntry | None:
        """What the watch (or this process's own create, until the watch brings it) knows of the ErrorEvent."""
        entry = _first(self.caches.errorevents, (namespace, name))
        key = (namespace, name)
        with self._lock:
            if entry is not None:
                self._recent.pop(key, None)
                return entry
            recent = self._recent.get(key)
            if recent is not None and time.monotonic() - recent[0] < RECENT_SECONDS:
                return recent[1]
            self._recent.pop(key, None)
        return None

    def remember(self, obj: Mapping[str, Any]) -> None:
        """An ErrorEvent this process created or read: known before the watch delivers it."""
        entry = facts.errorevent_entry(obj)
        now = time.monotonic()
        with self._lock:
            if len(self._recent) > 10_000:
                self._recent = {k: v for k, v in self._recent.items() if now - v[0] < RECENT_SECONDS}
            self._recent[(entry.namespace, entry.name)] = (now, entry)

    def forget(self, namespace: str, name: str) -> None:
        """An ErrorEvent this process deleted: no longer known from its own create."""
        with self._lock:
            self._recent.pop((namespace, name), None)

    def read_errorevent(self, namespace: str, name: str, *, miss: bool = True) -> ErrorEventEntry | None:
        """A fresh GET: the cache did not know the object (`miss`), or a write found it changed since the
        cache's version (a conflict, not a miss). None when it is gone."""
        if miss:
            metrics.CACHE_MISSES.labels(resource="errorevents").inc()
        obj = self.kube.get_cr(api.ERROREVENTS, namespace, name)
        if obj is None:
            return None
        self.remember(obj)
        return facts.errorevent_entry(obj)
