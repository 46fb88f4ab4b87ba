"""Turn failures seen in the cluster (Pods, Warning Events) into deduplicated ErrorEvents."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from remediator import api, metrics
from remediator.adapters.kube import Kube, NotFound, label_value, owner_reference
from remediator.api import LABEL_FINGERPRINT, LABEL_TARGET_KIND, LABEL_TARGET_NAME
from remediator.domain import clock, detect
from remediator.domain.policy import namespace_in_scope, opted_out
from remediator.domain.types import Failure, WorkloadRef
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
    def __init__(self, kube: Kube, policies: PolicySource, settings: Settings) -> None:
        self.kube, self.policies, self.settings = kube, policies, settings
        self._seen = _SeenCache()

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
        try:
            pod = self.kube.get(WorkloadRef("Pod", failure.pod_name, failure.namespace))
        except NotFound:
            return None
        if failure.kind_family in _STATUS_FAMILIES:
            # The Pod's status says the same, more precisely (a BackOff Event hides an OOMKilled): use it.
            # The kubelet posts Events before it syncs the status, so a status that shows nothing yet is
            # not "no failure" but "not yet": the Pod watch reports it when the status lands. Recording
            # the Event here would make a second, less precise ErrorEvent (crash instead of oom).
            names = self.on_pod(pod)
            return names[0] if names else None
        uid = pod.get("metadata", {}).get("uid", "")
        key = (uid, failure.container_name or "", failure.kind_family, "event", failure.reason, failure.message)
        if not self._seen.first_time(key):
            return None
        return self.record(failure, pod)

    def record(self, failure: Failure, pod: dict[str, Any]) -> str | None:
        """Create the ErrorEvent for this failure, or count it on the existing one within the window."""
        ns = failure.namespace
        policy = self.policies.for_namespace(ns)
        ns_labels, ns_annotations = self.kube.namespace_annotations(ns)
        if not namespace_in_scope(ns, policy) or opted_out(ns_labels, ns_annotations):
            return None
        workload = self.kube.resolve_workload(ns, pod)
        try:
            target = self.kube.get(workload)
        except NotFound:
            return None
        meta = target.get("metadata", {})
        if opted_out(meta.get("labels"), meta.get("annotations")):
            return None
        metrics.FAILURES_OBSERVED.labels(source="cluster", family=failure.kind_family).inc()

        fingerprint = detect.fingerprint(failure, workload)
        name = detect.errorevent_name(workload, failure.kind_family, fingerprint)
        spec = detect.errorevent_spec(failure, workload)
        if failure.kind_family in _LOG_FAMILIES:
            logs = self.kube.previous_logs(
                ns, failure.pod_name, failure.container_name, self.settings.log_lines, self.settings.log_bytes
            )
            if logs:
                spec["logs"] = logs
        if workload.kind != "Pod" and "apiVersion" not in target:
            target = {**target, "apiVersion": "apps/v1", "kind": workload.kind}
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
                "ownerReferences": [owner_reference(target)],
            },
            "spec": spec,
        }
        if self.kube.create_cr(api.ERROREVENTS, ns, body) is not None:
            log.info("new ErrorEvent %s/%s for %s %s (%s)", ns, name, workload.kind, workload.name, failure.reason)
            return name
        return self._count_again(ns, name, body, failure.observed_at)

    def _count_again(self, ns: str, name: str, body: dict[str, Any], observed: dt.datetime) -> str | None:
        existing = self.kube.get_cr(api.ERROREVENTS, ns, name)
        if existing is None:  # deleted in between: try once more
            return name if self.kube.create_cr(api.ERROREVENTS, ns, body) is not None else None
        spec = existing.get("spec", {})
        last = clock.parse_time(spec.get("lastSeen")) or observed
        window = dt.timedelta(seconds=self.settings.dedup_window_seconds)
        phase = existing.get("status", {}).get("phase")
        if clock.now() - last > window and phase in api.EE_SETTLED_PHASES:
            # A new occurrence long after the last one was dealt with: a fresh ErrorEvent, classified anew.
            self.kube.delete_cr(api.ERROREVENTS, ns, name, existing["metadata"]["uid"])
            return name if self.kube.create_cr(api.ERROREVENTS, ns, body) is not None else None
        patch = {
            "metadata": {"resourceVersion": existing["metadata"]["resourceVersion"]},
            "spec": {
                "count": min(int(spec.get("count", 1)) + 1, 1_000_000),
                "lastSeen": clock.format_time(clock.now()),
            },
        }
        try:
            self.kube.patch_cr(api.ERROREVENTS, ns, name, patch)
        except Exception as err:  # a conflict means someone else counted at the same moment: good enough
            log.debug("count of %s/%s not incremented: %s", ns, name, err)
        return name
