"""remediator_kube_requests_total names requests as the API server's audit log does (verb, resource)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from remediator import metrics
from remediator.adapters import kube
from remediator.adapters.kube import request_labels

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


def test_every_request_through_the_adapters_client_is_counted_once() -> None:
    class Client:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def request(self, method: str, url: str, query_params: Any = None, **_: Any) -> str:
            self.sent.append(url)
            return "ok"

    c = Client()
    counted = kube.count_requests(kube.count_requests(c))  # type: ignore[arg-type]
    sample = metrics.KUBE_REQUESTS.labels(verb="get", resource="namespaces")
    before = sample._value.get()
    assert counted.request("GET", H + "/api/v1/namespaces/shop") == "ok"
    assert sample._value.get() == before + 1 and c.sent == [H + "/api/v1/namespaces/shop"]
