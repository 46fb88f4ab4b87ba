"""Observed Pod resource usage from the metrics API (metrics.k8s.io/v1beta1 PodMetrics, served by metrics-server).

The API is optional in a cluster: when it is not served (no APIService: 404; registered but its server is
down or not ready: 503) `PodUsage.read` returns None, so a caller can tell "no observation" from "observed
idle" without handling API errors itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from remediator.adapters.kubeapi import ApiException, KubeApi, path_of
from remediator.domain.quantity import parse_millicores, parse_quantity

log = logging.getLogger(__name__)

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
# 404: the group/version is not registered. 503: registered, but the aggregator cannot reach its server.
_NOT_SERVED = frozenset({404, 503})


class ContainerUsage(NamedTuple):
    """One container's usage over metrics-server's last window: (CPU millicores, memory working set bytes)."""

    cpu_millicores: int
    memory_bytes: int


# pod name -> container name -> usage
PodUsageMap = dict[str, dict[str, ContainerUsage]]


class PodUsage:
    """Reads PodMetrics for a namespace and label selector."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api

    def read(self, namespace: str, label_selector: str | None = None) -> PodUsageMap | None:
        """Usage per Pod and container, or None when the metrics API is not served. A Pod the metrics server
        has no complete sample for yet (just started, or using nothing) is absent from the result."""
        query = [("labelSelector", label_selector)] if label_selector else []
        try:
            listing = self.api.json("GET", path_of(GROUP, VERSION, "pods", namespace), query=query)
        except ApiException as err:
            if err.status in _NOT_SERVED:
                log.debug("%s/%s is not served (%s): no observed usage", GROUP, VERSION, err.status)
                return None
            raise
        return parse_pod_metrics(listing)


def parse_pod_metrics(listing: Mapping[str, Any]) -> PodUsageMap:
    """A PodMetricsList (as JSON) -> {pod: {container: ContainerUsage}}; malformed entries are skipped."""
    result: PodUsageMap = {}
    for item in listing.get("items") or []:
        pod = (item.get("metadata") or {}).get("name")
        if not pod:
            continue
        containers: dict[str, ContainerUsage] = {}
        for container in item.get("containers") or []:
            name = container.get("name")
            usage = container.get("usage") or {}
            try:
                containers[name] = ContainerUsage(parse_millicores(usage["cpu"]), parse_quantity(usage["memory"]))
            except (KeyError, TypeError, ValueError):
                log.warning("skipping malformed PodMetrics container %r of pod %r: %r", name, pod, usage)
        result[pod] = containers
    return result
