"""remediator_kube_requests_total names requests as the API server's audit log does (verb, resource)."""

from __future__ import annotations

from typing import Any

import pytest

from remediator import metrics
from remediator.adapters import kube
from remediator.adapters.connection import Connection
from remediator.adapters.kubeapi import ApiException, KubeApi, request_labels
from tests.unit.operator.fake_apiserver import FakeApiServer

H = "https://127.0.0.1:6443"


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/api/v1/namespaces/shop", None, ("get", "namespaces")),
        ("GET", "/api/v1/namespaces", None, ("list", "namespaces")),
        ("GET", "/api/v1/namespaces/shop/pods/web-1", None, ("get", "pods")),
        ("GET", "/api/v1/namespaces/shop/pods/web-1/log", [("previous", True)], ("get", "pods/log")),
        ("GET", "/api/v1/namespaces/shop/pods", [("labelSelector", "app=web")], ("list", "pods")),
        ("GET", "/api/v1/pods", [("watch", True)], ("watch", "pods")),
        ("GET", "/apis/apps/v1/namespaces/shop/replicasets/web-abc", None, ("get", "replicasets")),
        ("POST", "/apis/remediator.dev/v1alpha1/namespaces/shop/errorevents", None, ("create", "errorevents")),
        ("PATCH", "/apis/remediator.dev/v1alpha1/namespaces/shop/errorevents/e", None, ("patch", "errorevents")),
        (
            "PATCH",
            "/apis/remediator.dev/v1alpha1/namespaces/s/remediations/r/status",
            None,
            ("patch", "remediations/status"),
        ),
        ("POST", "/api/v1/namespaces/shop/pods/web-1/eviction", None, ("create", "pods/eviction")),
        ("DELETE", "/apis/remediator.dev/v1alpha1/namespaces/s/errorevents/e", None, ("delete", "errorevents")),
        ("GET", "/apis/remediator.dev/v1alpha1/remediations", None, ("list", "remediations")),
        ("GET", "/apis/kopf.dev/v1/clusterkopfpeerings/p", None, ("get", "clusterkopfpeerings")),
    ],
)
def test_request_labels(method: str, path: str, query: Any, expected: tuple[str, str]) -> None:
    assert request_labels(method, H + path + "?x=1", query) == expected


def _errors(operation: str, code: str) -> float:
    return metrics.API_ERRORS.labels(operation=operation, code=code)._value.get()


def test_expected_answers_are_not_errors_and_real_errors_are() -> None:
    before = (_errors("create", "409"), _errors("create", "500"))
    for status in (409, 500):
        with pytest.raises(ApiException), kube._api_errors("create", expected=frozenset({409})):
            raise ApiException(status=status)
    assert (_errors("create", "409"), _errors("create", "500")) == (before[0], before[1] + 1)


def test_every_request_is_counted_once_and_an_error_status_raises() -> None:
    with FakeApiServer({("GET", "/api/v1/namespaces/shop"): (200, {"metadata": {"name": "shop"}})}) as server:
        client = KubeApi(Connection(server=server.url, token="t0k"))
        sample = metrics.KUBE_REQUESTS.labels(verb="get", resource="namespaces")
        before = sample._value.get()
        assert client.json("GET", "/api/v1/namespaces/shop") == {"metadata": {"name": "shop"}}
        assert sample._value.get() == before + 1
        with pytest.raises(ApiException) as missing:
            client.json("GET", "/api/v1/namespaces/gone")
        assert missing.value.status == 404 and missing.value.message == "not here"
        assert [h.get("Authorization") for h in server.headers] == ["Bearer t0k", "Bearer t0k"]
