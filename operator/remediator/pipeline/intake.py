"""Turn failures seen in the cluster (Pods, Warning Events) into deduplicated ErrorEvents."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from remediator import api, metrics
from remediator.adapters.kube import Kube, NotFound, label_value
from remediator.api import LABEL_FINGERPRINT, LABEL_TARGET_KIND, LABEL_TARGET_NAME
from remediator.domain import clock, detect
from remediator.domain.cluster_facts import ErrorEventEntry, WorkloadEntry
from remediator.domain.policy import namespace_in_scope
from remediator.domain.types import Failure, WorkloadRef
from remediator.pipeline.cluster_view import ClusterView
from remediator.pipeline.counts import Counts
from remediator.pipeline.policies import PolicySource
from remediator.settings import Settings

log = logging.getLogger(__name__)

_LOG_FAMILIES = {"crash", "oom"}
# Failure families a Pod's own status shows; for these a Warning Event only points at the Pod.
_STATUS_FAMILIES = {"crash", "oom", "image", "config"}


class _SeenCache:
    """Identical observations of one Pod (same container, family and restart count) are counted once.

    An optimisation only: losing it on restart costs at most one extra count increment, never an object.
    """

    def __init__(self, ttl: float = 3600.0, limit: int = 50_000) -> None:
        self._ttl, self._limit = ttl, limit
        self._seen: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def first_time(self, key: tuple[str, ...]) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > self._limit:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self._ttl}
            seen = self._seen.get(key)
            self._seen[key] = now
            return seen is None or now - seen > self._ttl


class Intake:
    """Pod and Warning Event -> ErrorEvent. Per failing Pod it reads nothing from the API server when the
    caches know the owner chain and the incident: the first Pod of an incident costs a create (and a log
    tail), the others an increment that Counts sends once per interval."""

    def __init__(
        self,
        kube: Kube,
        policies: PolicySource,
        settings: Settings,
        cluster: ClusterView | None = None,
        counts: Counts | None = None,
        on_created: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """`on_created`: told of each ErrorEvent this intake created (the create's answer): the hand-over to
        triage (pipeline/handoff.py), so that it need not wait for the ErrorEvent's watch event."""
        self.kube, self.policies, self.settings = kube, policies, settings
        self.on_created = on_created
        self.cluster = cluster or ClusterView(kube)
        self.counts = counts or Counts(kube, self.cluster)
        self._seen = _SeenCache()
        # One incident's Pods are handled one at a time (they arrive together): one create, the rest count.
        self._stripes = [threading.Lock() for _ in range(64)]

    def on_pod(self, pod: dict[str, Any]) -> list[str]:
        """Record every failure a Pod shows; returns the ErrorEvent names touched."""
        touched = []
        for failure in detect.pod_failures(pod):
            uid = pod.get("metadata", {}).get("uid", "")
            key = (uid, failure.container_name or "", failure.kind_family, str(failure.restart_count), failure.reason)
            if not self._seen.first_time(key):
                continue
            name = self.record(failure, pod)
            if name:
                touched.append(name)
        return touched

    def on_event(self, event: dict[str, Any]) -> str | None:
        failure = detect.event_failure(event)
        if failure is None:
            return None
        if failure.kind_family in _STATUS_FAMILIES:
            # The Pod's status says the same, more precisely (a BackOff Event hides an OOMKilled), and the Pod
            # watch reports it: the kubelet posts Events before it syncs the status, so the Event is at best
            # early, and recording it would make a second, less precise ErrorEvent (crash instead of oom).
            # Nothing to read for it, then: the Pod watch brings the status when it lands.
            return None
        try:
            pod = self.kube.get(WorkloadRef("Pod", failure.pod_name, failure.namespace))
        except NotFound:
            return None
        uid = pod.get("metadata", {}).get("uid", "")
        key = (uid, failure.container_name or "", failure.kind_family, "event", failure.reason, failure.message)
        if not self._seen.first_time(key):
            return None
        return self.record(failure, pod)

    def record(self, failure: Failure, pod: dict[str, Any]) -> str | None:
        """Create the ErrorEvent for this failure, or count it on the existing one within the window."""
        ns = failure.namespace
        policy = self.policies.for_namespace(ns)
        if not namespace_in_scope(ns, policy) or self.cluster.namespace_opted_out(ns):
            return None
        workload = self.cluster.workload_of(pod)
        target = self.cluster.target(workload, pod)
        if target is None or target.opted_out:
            return None
        metrics.FAILURES_OBSERVED.labels(source="cluster", family=failure.kind_family).inc()

        fingerprint = detect.fingerprint(failure, workload)
        name = detect.errorevent_name(workload, failure.kind_family, fingerprint)
        with self._stripes[hash((ns, name)) % len(self._stripes)]:
            existing = self.cluster.errorevent(ns, name)
            if existing is None:
                return self._create(failure, workload, target, fingerprint, name)
            return self._count_again(failure, workload, target, fingerprint, existing)

    def _create(
        self,
        failure: Failure,
        workload: WorkloadRef,
        target: WorkloadEntry,
        fingerprint: str,
        name: str,
        replaced: str | None = None,
    ) -> str | None:
        """Create the ErrorEvent; the log tail is read here, once per incident (not for every Pod of it).
        `replaced`: the uid of the settled ErrorEvent just deleted to make room for this one."""
        ns = failure.namespace
        spec = detect.errorevent_spec(failure, workload)
        if failure.kind_family in _LOG_FAMILIES:
            logs = self.kube.previous_logs(
                ns, failure.pod_name, failure.container_name, self.settings.log_lines, self.settings.log_bytes
            )
            if logs:
                spec["logs"] = logs
        body = {
            "apiVersion": api.API_VERSION,
            "kind": "ErrorEvent",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {
                    LABEL_FINGERPRINT: fingerprint,
                    LABEL_TARGET_KIND: workload.kind,
                    LABEL_TARGET_NAME: label_value(workload.name),
                },
                # Owned by the workload (the Pod only for a bare Pod): restart_pod deletes Pods, and the
                # ErrorEvent must outlive them; it is garbage-collected with the workload.
                "ownerReferences": [target.owner_reference()],
            },
            "spec": spec,
        }
        created = self.kube.create_cr(api.ERROREVENTS, ns, body)
        if created is not None:
            self._created(created)
            log.info("new ErrorEvent %s/%s for %s %s (%s)", ns, name, workload.kind, workload.name, failure.reason)
            return name
        # It exists, and the cache did not know it (not delivered yet, or made by a replica before us): read it.
        existing = self.cluster.read_errorevent(ns, name)
        if existing is None:  # deleted in between: try once more
            created = self.kube.create_cr(api.ERROREVENTS, ns, body)
            if created is None:
                return None
            self._created(created)
            return name
        if replaced is not None:  # never delete twice in a row: count on a newer one, or leave the old one go
            if existing.uid == replaced:
                return None  # still terminating: the next occurrence creates it
            self.counts.add(ns, name)
            return name
        return self._count_again(failure, workload, target, fingerprint, existing)

    def _created(self, created: dict[str, Any]) -> None:
        self.cluster.remember(created)
        if self.on_created is not None:
            self.on_created(created)

    def _count_again(
        self,
        failure: Failure,
        workload: WorkloadRef,
        target: WorkloadEntry,
        fingerprint: str,
        existing: ErrorEventEntry,
    ) -> str | None:
        ns, name = existing.namespace, existing.name
        last = existing.last_seen or failure.observed_at
        window = dt.timedelta(seconds=self.settings.dedup_window_seconds)
        if clock.now() - last > window and existing.phase in api.EE_SETTLED_PHASES:
            # A new occurrence long after the last one was dealt with: a fresh ErrorEvent, classified anew.
            self.kube.delete_cr(api.ERROREVENTS, ns, name, existing.uid)
            self.cluster.forget(ns, name)
            return self._create(failure, workload, target, fingerprint, name, replaced=existing.uid)
        self.counts.add(ns, name)
        return name
