"""Observed usage through the real metrics.k8s.io API: kwok simulates it from Pod annotations, metrics-server
scrapes kwok's kubelet endpoints, kube-apiserver's aggregation layer serves it, PodUsage reads it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from remediator.adapters.kubeapi import ApiException as OperatorApiException
from remediator.adapters.usage import ContainerUsage, PodUsage, PodUsageMap, parse_pod_metrics
from remediator_dev.devcluster.cluster import METRICS_APISERVICE, METRICS_RESOLUTION_SECONDS
from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.integration

T = TypeVar("T")
MI = 2**20
# Pod running -> first scrape (kwok's CPU counter starts at 0: no sample) -> second (first sample) -> third
# (a CPU rate): about three resolutions, plus slack for a loaded machine.
METRICS_WAIT = 12 * METRICS_RESOLUTION_SECONDS


def _wait(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    end = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def _deployment(name: str, annotations: dict[str, str], containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": annotations},
                "spec": {
                    "containers": [{"name": c, "image": "sim/app:1"} for c in containers],
                    # kwok nodes carry no taints, but keep the Pods off anything that is not simulated.
                    "nodeSelector": {"type": "kwok"},
                },
            },
        },
    }


def _running_pods(cluster: Cluster, namespace: str, app: str, count: int) -> set[str]:
    def names() -> set[str] | None:
        pods = client.CoreV1Api(cluster.api).list_namespaced_pod(namespace, label_selector=f"app={app}").items
        running = {p.metadata.name for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp}
        return running if len(running) == count else None

    return _wait(names, 60, f"{count} running Pods of {app}")


def _usage_for(reader: PodUsage, namespace: str, selector: str | None, pods: set[str]) -> PodUsageMap | None:
    usage = reader.read(namespace, selector)
    assert usage is not None, "metrics.k8s.io stopped being served"
    return usage if pods <= usage.keys() else None


def test_annotated_pods_report_their_simulated_usage(metrics_cluster: Cluster, namespace: str) -> None:
    annotations = {"sim.remediator.dev/cpu-usage": "950m", "sim.remediator.dev/memory-usage": "60Mi"}
    client.AppsV1Api(metrics_cluster.api).create_namespaced_deployment(
        namespace, _deployment("busy", annotations, containers=("app", "sidecar"))
    )
    pods = _running_pods(metrics_cluster, namespace, "busy", 2)
    reader = PodUsage(metrics_cluster.kube_api)

    usage = _wait(lambda: _usage_for(reader, namespace, "app=busy", pods), METRICS_WAIT, "PodMetrics of busy")

    assert usage.keys() == pods
    for pod, containers in usage.items():
        assert containers.keys() == {"app", "sidecar"}, pod
        for name, observed in containers.items():
            assert isinstance(observed, ContainerUsage)
            # A rate over metrics-server's window of kwok's counter: a few millicores of jitter.
            assert 930 <= observed.cpu_millicores <= 970, (pod, name, observed)
            assert observed.memory_bytes == 60 * MI, (pod, name, observed)
            assert observed == (observed.cpu_millicores, observed.memory_bytes)  # a plain (cpu, memory) tuple


def test_pods_without_usage_annotations_report_none(metrics_cluster: Cluster, namespace: str) -> None:
    apps = client.AppsV1Api(metrics_cluster.api)
    apps.create_namespaced_deployment(namespace, _deployment("idle", {}))
    # A control in the same namespace: once its usage shows, metrics-server has scraped these Pods' nodes.
    control_usage = {"sim.remediator.dev/cpu-usage": "200m", "sim.remediator.dev/memory-usage": "16Mi"}
    apps.create_namespaced_deployment(namespace, _deployment("control", control_usage))
    idle = _running_pods(metrics_cluster, namespace, "idle", 2)
    control = _running_pods(metrics_cluster, namespace, "control", 2)
    reader = PodUsage(metrics_cluster.kube_api)

    everything = _wait(lambda: _usage_for(reader, namespace, None, control), METRICS_WAIT, "PodMetrics of control")
    time.sleep(METRICS_RESOLUTION_SECONDS + 1)  # one more scrape, in case an idle Pod lagged behind
    everything = reader.read(namespace) or everything

    for pod in idle:
        assert all(u == (0, 0) for u in everything.get(pod, {}).values()), (pod, everything.get(pod))
    assert reader.read(namespace, "app=idle") in ({}, {pod: {} for pod in idle})
    selected = reader.read(namespace, "app=control")
    assert selected is not None and selected.keys() == control
    assert all(u.memory_bytes == 16 * MI for c in selected.values() for u in c.values())


@pytest.fixture
def without_metrics_api(cluster: Cluster) -> Iterator[None]:
    """A real API server that has no metrics.k8s.io APIService: the cluster as it is when metrics-server is not
    built; otherwise the APIService is deleted for one test and registered again as it was."""
    if cluster.dev is not None and not cluster.dev.metrics_enabled():
        yield
        return
    registration = client.ApiregistrationV1Api(cluster.api)
    try:
        saved = registration.read_api_service(METRICS_APISERVICE)
    except ApiException as err:
        if err.status != 404:
            raise
        yield
        return
    registration.delete_api_service(METRICS_APISERVICE)
    try:
        yield
    finally:
        body = client.V1APIService(
            metadata=client.V1ObjectMeta(name=METRICS_APISERVICE, labels=saved.metadata.labels), spec=saved.spec
        )
        registration.create_api_service(body)
        _wait(lambda: PodUsage(cluster.kube_api).read("default") is not None, 60, "metrics.k8s.io to be served again")


def test_read_returns_none_when_the_api_server_has_no_metrics_apiservice(
    cluster: Cluster, namespace: str, without_metrics_api: None
) -> None:
    reader = PodUsage(cluster.kube_api)
    # The aggregator drops the group within moments of the APIService going.
    assert _wait(lambda: reader.read(namespace) is None or None, 30, "metrics.k8s.io to go") is True


# -- the same contract without a cluster --------------------------------------------------------------------
class _FakeKubeApi:
    def __init__(self, status: int | None = None, body: dict[str, Any] | None = None) -> None:
        self.status, self.body, self.calls = status, body, []

    def json(self, method: str, path: str, **kw: Any) -> Any:
        self.calls.append((method, path, kw))
        if self.status is not None:
            raise OperatorApiException(status=self.status, reason="fake")
        return self.body


def _reader(fake: _FakeKubeApi) -> PodUsage:
    return PodUsage(fake)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [404, 503])
def test_read_returns_none_when_metrics_api_is_not_served(status: int) -> None:
    fake = _FakeKubeApi(status=status)
    assert _reader(fake).read("ns", "app=web") is None
    assert fake.calls == [
        ("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods", {"query": [("labelSelector", "app=web")]})
    ]


def test_read_raises_other_api_errors() -> None:
    with pytest.raises(OperatorApiException):
        _reader(_FakeKubeApi(status=403)).read("ns")


def test_parse_pod_metrics_quantities() -> None:
    listing = {
        "items": [
            {
                "metadata": {"name": "web-1"},
                "containers": [
                    {"name": "app", "usage": {"cpu": "949955293n", "memory": "61440Ki"}},
                    {"name": "side", "usage": {"cpu": "2", "memory": "1Gi"}},
                    {"name": "bad", "usage": {"cpu": "lots"}},
                ],
            },
            {"metadata": {"name": "web-2"}, "containers": []},
        ]
    }
    assert parse_pod_metrics(listing) == {
        "web-1": {"app": ContainerUsage(950, 60 * MI), "side": ContainerUsage(2000, 2**30)},
        "web-2": {},
    }
    assert parse_pod_metrics({"items": None}) == {}
