"""remediator_kube_requests_total names requests as the API server's audit log does (verb, resource)."""

from __future__ import annotations

from typing import Any

import pytest

from remediator import metrics
from remediator.adapters import kube
from remediator.adapters.connection import Connection
from remediator.adapters.kubeapi import ApiException, KubeApi, request_labels
from remediator.domain.types import WorkloadRef
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


def _rem(name: str, kind: str, target: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"target": {"kind": kind, "name": target}}}


def test_a_workloads_remediations_are_selected_by_target_and_a_refusing_server_gets_a_namespace_read() -> None:
    path = "/apis/remediator.dev/v1alpha1/namespaces/shop/remediations"
    everything = [_rem("a", "Deployment", "web"), _rem("b", "Deployment", "api"), _rem("c", "StatefulSet", "web")]
    refuse = {"selector": True}

    def answer(_: dict[str, str]) -> tuple[int, Any]:
        selected = "fieldSelector=" in server.requests[-1][1]
        if selected and refuse["selector"]:  # what a server without the CRD's selectableFields answers
            return 400, {
                "kind": "Status",
                "reason": "BadRequest",
                "message": '"spec.target.kind" is not a known field selector',
            }
        # A selecting server answers the selection; the adapter checks the match either way.
        return 200, {"items": everything[:1] if selected else everything}

    with FakeApiServer({("GET", path): answer}) as server:
        adapter = kube.Kube(KubeApi(Connection(server=server.url, token="t")))
        web = WorkloadRef("Deployment", "web", "shop")
        refuse["selector"] = False
        assert [r["metadata"]["name"] for r in adapter.remediations_for(web)] == ["a"]
        assert server.requests[-1][1] == f"{path}?fieldSelector=spec.target.kind%3DDeployment%2Cspec.target.name%3Dweb"

        refuse["selector"] = True
        errors = _errors("list", "400")
        assert [r["metadata"]["name"] for r in adapter.remediations_for(web)] == ["a"]
        assert "fieldSelector=" in server.requests[-2][1] and server.requests[-1][1] == path  # refused, then all
        assert _errors("list", "400") == errors  # an answer the adapter expects, not an API error
        adapter.remediations_for(web)  # remembered: no second refused request
        assert server.requests[-1][1] == path and "fieldSelector" in server.requests[-3][1]


@pytest.mark.parametrize(
    ("value", "escaped"), [("web", "web"), ("a,b", "a\\,b"), ("a=b", "a\\=b"), ("a\\,b", "a\\\\\\,b")]
)
def test_a_field_selector_value_cannot_add_a_term(value: str, escaped: str) -> None:
    assert kube.field_value(value) == escaped
