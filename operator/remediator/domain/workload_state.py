"""Readings of a workload's or Pod's API status that several steps need: replicas, readiness, restarts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def restarts(pod: Mapping[str, Any], container: str | None) -> int:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses if container is None or s.get("name") == container)


def replicas(kind: str, workload: Mapping[str, Any]) -> tuple[int, int, int | None]:
    """(desired, ready, updated) replicas of a workload; a Pod counts as one, ready or not."""
    spec, status = workload.get("spec", {}), workload.get("status", {})
    if kind == "DaemonSet":
        return (
            int(status.get("desiredNumberScheduled") or 0),
            int(status.get("numberReady") or 0),
            status.get("updatedNumberScheduled"),
        )
    if kind == "Pod":
        return 1, int(pod_ready(workload)), None
    return int(spec.get("replicas", 1)), int(status.get("readyReplicas") or 0), status.get("updatedReplicas")


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
