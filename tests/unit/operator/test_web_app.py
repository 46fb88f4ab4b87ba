"""The HTTP API's own rules with a fake API server (no cluster): who is refused before any Kubernetes call,
how the API server's failures map to status codes, and the bounds on TokenReviews."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from remediator.adapters.apiserver import Access, ApiError, Identity, Unavailable
from remediator.web.app import Config, Deps, create_app


class FakeKube:
    def __init__(self, users: dict[str, Identity]) -> None:
        self.users = users
        self.reviews = 0
        self.calls: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.fail: Exception | None = None

    def token_review(self, token: str) -> Identity | None:
        self.reviews += 1
        return self.users.get(token)

    def access_review(self, who: Identity, verb: str, resource: str, namespace: str = "", name: str = "") -> Access:
        self.calls.append(f"sar {who.username} {verb} {resource} {namespace}")
        return Access(True)

    def create(self, who: Identity, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(f"create {who.username} {plural}")
        self.bodies.append(body)
        if self.fail:
            raise self.fail
        return body

    def get(self, who: Identity, plural: str, namespace: str, name: str) -> dict[str, Any]:
        raise ApiError(404, "NotFound", "not found")

    def version(self) -> dict[str, Any]:
        return {}


ERROR = {"namespace": "shop", "target": {"kind": "Deployment", "name": "web"}, "message": "boom"}


def client(kube: FakeKube, **config: Any) -> TestClient:
    deps = Deps(kube=kube, model=None, config=Config(wait_seconds=0, **config))  # type: ignore[arg-type]
    return TestClient(create_app(deps), raise_server_exceptions=False)


def test_system_masters_are_refused_before_anything_is_asked() -> None:
    kube = FakeKube({"root": Identity("admin", groups=("system:masters", "system:authenticated"))})
    r = client(kube).post("/errors", json=ERROR, headers={"Authorization": "Bearer root"})
    assert r.status_code == 403 and "system:masters" in r.json()["message"]
    assert kube.calls == []


def test_unknown_tokens_cost_one_tokenreview_each_and_are_bounded_per_address() -> None:
    kube = FakeKube({})
    web = client(kube, rate=1.0, burst=5)
    codes = [web.post("/errors", json=ERROR, headers={"Authorization": f"Bearer t{i}"}).status_code for i in range(8)]
    assert codes == [401] * 5 + [429] * 3
    assert kube.reviews == 5
    # the same bad token again is answered from the cache: no further TokenReview, and not rate-limited
    assert web.post("/errors", json=ERROR, headers={"Authorization": "Bearer t0"}).status_code == 401
    assert kube.reviews == 5


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (Unavailable("connection refused"), 503),
        (ApiError(403, "Forbidden", 'users "x" is forbidden: User "sa" cannot impersonate resource "users"'), 503),
        (ApiError(403, "Forbidden", "ValidatingAdmissionPolicy ... denied request"), 403),
        (ApiError(422, "Invalid", "spec.message: Too long"), 422),
        (ApiError(418, "Teapot", "odd"), 400),
    ],
)
def test_api_server_failures_map_to_clear_codes(failure: Exception, status: int) -> None:
    kube = FakeKube({"tok": Identity("alice", groups=("system:authenticated",))})
    kube.fail = failure
    r = client(kube).post("/errors", json=ERROR, headers={"Authorization": "Bearer tok"})
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if status == 503:
        assert r.headers["Retry-After"]


def test_writes_name_the_caller_and_only_after_authorization() -> None:
    kube = FakeKube({"tok": Identity("alice", groups=("system:authenticated",))})
    r = client(kube).post("/errors?wait=0", json=ERROR, headers={"Authorization": "Bearer tok"})
    assert r.status_code == 202, r.text
    assert kube.calls == ["sar alice create errorevents shop", "create alice errorevents"]


def test_predict_without_a_model_is_503_not_500() -> None:
    kube = FakeKube({"tok": Identity("alice")})
    r = client(kube).post(
        "/predict", json={"namespace": "shop", "message": "x"}, headers={"Authorization": "Bearer tok"}
    )
    assert r.status_code == 503
    assert client(kube).get("/readyz").status_code == 503


@pytest.mark.parametrize("step", ["token_review", "access_review"])
def test_a_review_refused_to_this_service_is_503_not_the_callers_403(step: str) -> None:
    kube = FakeKube({"tok": Identity("alice")})

    def refuse(*_: Any, **__: Any) -> Any:
        raise ApiError(403, "Forbidden", f"{step} is forbidden: User system:serviceaccount:kr:api cannot create")

    setattr(kube, step, refuse)
    r = client(kube).post("/errors", json=ERROR, headers={"Authorization": "Bearer tok"})
    assert r.status_code == 503, r.text
    assert "system:serviceaccount" not in r.json()["message"]  # our configuration is not the caller's business


def test_our_own_credentials_refused_is_503() -> None:
    kube = FakeKube({"tok": Identity("alice")})
    kube.fail = ApiError(401, "Unauthorized", "Unauthorized")
    r = client(kube).post("/errors", json=ERROR, headers={"Authorization": "Bearer tok"})
    assert r.status_code == 503


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_header_becomes_the_errorevents_annotation() -> None:
    kube = FakeKube({"tok": Identity("alice", groups=("system:authenticated",))})
    headers = {"Authorization": "Bearer tok", "traceparent": TRACEPARENT}
    r = client(kube).post("/errors?wait=0", json=ERROR, headers=headers)
    assert r.status_code == 202, r.text
    annotations = kube.bodies[0]["metadata"]["annotations"]
    assert annotations == {"remediator.dev/requested-by": "alice", "remediator.dev/traceparent": TRACEPARENT}


@pytest.mark.parametrize(
    "value", ["garbage", TRACEPARENT.upper(), TRACEPARENT + "-x", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "a" * 8000]
)
def test_an_invalid_traceparent_header_is_ignored_and_the_report_still_made(value: str) -> None:
    kube = FakeKube({"tok": Identity("alice", groups=("system:authenticated",))})
    r = client(kube).post("/errors?wait=0", json=ERROR, headers={"Authorization": "Bearer tok", "traceparent": value})
    assert r.status_code == 202, r.text
    assert kube.bodies[0]["metadata"]["annotations"] == {"remediator.dev/requested-by": "alice"}
