"""`remediator api` against the real API server of the local control plane, with real tokens.

ServiceAccount tokens come from the TokenRequest API: `writer` holds kube-remediator-requester in namespace A
(create/get/list/patch errorevents and remediations, no `approve`), `approver` holds kube-remediator-approver
and -requester in A, `nobody` holds nothing. Namespace B grants nobody anything. The API service itself runs
with the fixture's cluster-admin kubeconfig (it may impersonate); every write it makes is made as the caller,
so RBAC and the admission policies (manifests/admission) judge the caller. No operator runs here except in
the tests that say so (run_operator).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kubernetes import client

from remediator import api
from remediator.adapters.apiserver import ApiServer, Identity, load_configuration
from remediator.web.app import Config, Deps, create_app
from remediator_model.predict import Classifier
from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import OperatorFactory, Ops, wait_for

pytestmark = pytest.mark.integration

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "alertmanager"
REM_SPEC = {
    "target": {"kind": "Deployment", "name": "web"},
    "action": "scale_up",
    "errorType": "app_crash",
    "confidence": 0.8,
    "parameters": {"replicas": 2},
}


@pytest.fixture(scope="module")
def model() -> Classifier:
    return Classifier.load()


@dataclass
class World:
    cluster: Cluster
    a: str
    b: str
    tokens: dict[str, str] = field(repr=False)
    users: dict[str, str]
    custom: client.CustomObjectsApi

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def items(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        got = self.custom.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, plural)
        return list(got["items"])

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(api.GROUP, api.VERSION, namespace, plural, name))

    def remediation(self, namespace: str, name: str | None = None) -> str:
        name = name or f"r-{uuid.uuid4().hex[:8]}"
        body = {"apiVersion": api.API_VERSION, "kind": "Remediation", "metadata": {"name": name}, "spec": REM_SPEC}
        self.custom.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.REMEDIATIONS, body)
        return name


def make_world(cluster: Cluster, a: str, b: str) -> World:
    core = client.CoreV1Api(cluster.api)
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    tokens, users = {}, {}
    for sa in ("writer", "approver", "nobody"):
        core.create_namespaced_service_account(a, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=sa)))
        req = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
        tokens[sa] = core.create_namespaced_service_account_token(sa, a, req).status.token
        users[sa] = f"system:serviceaccount:{a}:{sa}"
    for sa, role in (
        ("writer", "kube-remediator-requester"),
        ("approver", "kube-remediator-requester"),
        ("approver", "kube-remediator-approver"),
    ):
        rbac.create_namespaced_role_binding(
            a,
            {
                "metadata": {"name": f"{sa}-{role}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": a}],
            },
        )
    return World(cluster, a, b, tokens, users, client.CustomObjectsApi(cluster.api))


@pytest.fixture(scope="module")
def world(cluster: Cluster) -> Iterator[World]:
    core = client.CoreV1Api(cluster.api)
    a, b = f"wa-{uuid.uuid4().hex[:8]}", f"wb-{uuid.uuid4().hex[:8]}"
    for ns in (a, b):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        yield make_world(cluster, a, b)
    finally:
        for ns in (a, b):
            core.delete_namespace(ns)


def make_client(cluster: Cluster, model: Classifier | None, **config: Any) -> TestClient:
    kube = ApiServer(load_configuration(str(cluster.kubeconfig)), timeout=config.pop("kube_timeout", 5.0))
    settings = Config(**{"wait_seconds": 0.3, "rate": 200.0, "burst": 400, **config})
    return TestClient(create_app(Deps(kube=kube, model=model, config=settings)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def web(cluster: Cluster, model: Classifier) -> TestClient:
    return make_client(cluster, model)


def error_body(namespace: str, **extra: Any) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "target": {"kind": "Deployment", "name": "web"},
        "message": "java.lang.OutOfMemoryError: Java heap space",
        "reason": "OOMKilled",
        "exitCode": 137,
        "stackTrace": "at com.shop.Cart.load(Cart.java:42)",
        "context": {"team": "shop"},
        "timestamp": "2026-12-02T01:00:00Z",
        **extra,
    }


ROUTES = [
    ("POST", "/errors", lambda w: error_body(w.a)),
    ("POST", "/predict", lambda w: {"namespace": w.a, "message": "connection refused"}),
    ("POST", "/feedback", lambda w: {"namespace": w.a, "name": "x", "verdict": "correct"}),
    ("GET", "/remediations?namespace={a}", None),
    ("GET", "/remediations/{a}/x", None),
    ("POST", "/remediations/{a}/x/approve", None),
    ("POST", "/remediations/{a}/x/reject", None),
    ("GET", "/errorevents/{a}/x", None),
    ("POST", "/alertmanager", lambda w: json.loads((PAYLOADS / "crashlooping.json").read_text())),
]


def call(web: TestClient, w: World, method: str, path: str, body: Any, who: str | None) -> Any:
    headers = w.auth(who) if who else {}
    return web.request(method, path.format(a=w.a), json=body(w) if body else None, headers=headers)


# -- authentication and authorization ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_token_is_401_and_a_bad_token_too(web: TestClient, world: World, method: str, path: str, body: Any) -> None:
    r = call(web, world, method, path, body, None)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = web.request(
        method,
        path.format(a=world.a),
        json=body(world) if body else None,
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_caller_without_rights_is_403_and_nothing_is_written(
    web: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    before = len(world.items(api.ERROREVENTS, world.a))
    r = call(web, world, method, path, body, "nobody")
    assert r.status_code == 403, r.text
    assert world.users["nobody"] in r.json()["message"]
    assert len(world.items(api.ERROREVENTS, world.a)) == before


def test_probes_openapi_and_metrics_need_no_token(web: TestClient) -> None:
    assert web.get("/healthz").status_code == 200
    assert web.get("/readyz").status_code == 200
    doc = web.get("/openapi.json").json()
    assert {"/errors", "/predict", "/feedback", "/alertmanager", "/remediations"} <= set(doc["paths"])
    text = web.get("/metrics").text
    assert 'remediator_api_requests_total{method="GET",route="/healthz",status="200"}' in text


# -- POST /errors ----------------------------------------------------------------------------------------------
def test_errors_creates_an_errorevent_as_the_caller_and_answers_202_without_an_operator(
    web: TestClient, world: World
) -> None:
    body = error_body(world.a, context={"team": "shop", api.REQUESTED_BY: "system:admin"})
    r = web.post("/errors", json=body, headers=world.auth("writer"))
    assert r.status_code == 202, r.text
    out = r.json()
    assert r.headers["Location"] == out["location"] == f"/errorevents/{world.a}/{out['name']}"
    ee = world.get(api.ERROREVENTS, world.a, out["name"])
    # who reported it is the caller, whatever the body's context says
    assert ee["metadata"]["annotations"][api.REQUESTED_BY] == world.users["writer"]
    spec = ee["spec"]
    assert spec["source"] == "api" and spec["reason"] == "OOMKilled" and spec["exitCode"] == 137
    assert spec["logs"] == "at com.shop.Cart.load(Cart.java:42)"
    assert spec["firstSeen"] == "2026-12-02T01:00:00Z"
    # polling the Location
    got = web.get(out["location"], headers=world.auth("writer"))
    assert got.status_code == 200 and got.json()["name"] == out["name"]
    # the same report again is the same object (idempotent), not a second one
    again = web.post("/errors", json=body, headers=world.auth("writer"))
    assert again.status_code == 202 and again.json()["name"] == out["name"]
    # ... but someone else's identical report is a conflict, not a takeover
    other = web.post("/errors", json=body, headers=world.auth("approver"))
    assert other.status_code == 409, other.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": {"kind": "Deployment", "name": "Web_1"}}, "target.name"),
        ({"target": {"kind": "CronJob", "name": "web"}}, "target.kind"),
        ({"message": ""}, "message"),
        ({"message": "x" * 4097}, "message"),
        ({"exitCode": 300}, "exitCode"),
        ({"logs": "y" * 16384}, "body"),  # with the stack trace, over 16 KiB
        ({"context": {f"k{i}": "v" for i in range(33)}}, "context"),
        ({"namespace": "Not_A_Namespace"}, "namespace"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"requestedBy": "system:admin"}, "requestedBy"),  # a forged identity is an unknown field
    ],
)
def test_errors_bad_input_is_422_naming_the_field_and_nothing_is_created(
    web: TestClient, world: World, change: dict[str, Any], field: str
) -> None:
    before = len(world.items(api.ERROREVENTS, world.a))
    r = web.post("/errors", json={**error_body(world.a), **change}, headers=world.auth("writer"))
    assert r.status_code == 422, r.text
    assert field in r.json()["message"], r.json()
    assert len(world.items(api.ERROREVENTS, world.a)) == before


def test_errors_in_another_namespace_are_refused(web: TestClient, world: World) -> None:
    r = web.post("/errors", json=error_body(world.b), headers=world.auth("writer"))
    assert r.status_code == 403, r.text
    assert world.items(api.ERROREVENTS, world.b) == []
    # a target naming another namespace is the operator's to refuse (CrossNamespaceTarget), but the API
    # never lets target.namespace pick where the object is written: it is an unknown field here
    r = web.post(
        "/errors",
        json=error_body(world.a, target={"kind": "Deployment", "name": "web", "namespace": world.b}),
        headers=world.auth("writer"),
    )
    assert r.status_code == 422 and "target.namespace" in r.json()["message"]


def test_a_body_over_the_limit_is_413(cluster: Cluster, model: Classifier, world: World) -> None:
    small = make_client(cluster, model, max_body_bytes=4096)
    big = error_body(world.a, logs="z" * 8000)
    r = small.post("/errors", json=big, headers=world.auth("writer"))
    assert r.status_code == 413, r.text
    # also without a Content-Length (chunked)
    data = json.dumps(big).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    r = small.post("/errors", content=chunks(), headers={**world.auth("writer"), "Content-Type": "application/json"})
    assert r.status_code == 413, r.text


# -- POST /predict -----------------------------------------------------------------------------------------------
def test_predict_one_and_a_batch(web: TestClient, world: World) -> None:
    before = len(world.items(api.ERROREVENTS, world.a))
    r = web.post(
        "/predict",
        json={
            "namespace": world.a,
            "reason": "OOMKilled",
            "exitCode": 137,
            "message": "container exceeded its memory limit",
        },
        headers=world.auth("writer"),
    )
    assert r.status_code == 200, r.text
    p = r.json()["prediction"]
    assert p["errorType"] == "oom" and 0 <= p["confidence"] <= 1 and p["modelVersion"]
    assert p["action"] in p["actionProbabilities"] and p["runnerUp"] and p["explanation"]
    assert 0 <= p["novelty"] <= 1
    events = [{"message": "dial tcp 10.0.0.5:5432: connect: connection refused"}, {"reason": "ImagePullBackOff"}]
    r = web.post("/predict", json={"namespace": world.a, "events": events}, headers=world.auth("writer"))
    assert r.status_code == 200, r.text
    assert [p["errorType"] for p in r.json()["predictions"]][1] == "image_pull"
    assert len(r.json()["predictions"]) == 2
    assert len(world.items(api.ERROREVENTS, world.a)) == before  # classification only: no object


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": [{"message": "x"}] * 33}, "events"),
        ({"events": []}, "events"),
        ({}, "body"),
        ({"message": "x", "events": [{"message": "y"}]}, "body"),
        ({"events": [{"message": ""}]}, "events.0"),
    ],
)
def test_predict_bad_input_is_422(web: TestClient, world: World, body: dict[str, Any], field: str) -> None:
    r = web.post("/predict", json={"namespace": world.a, **body}, headers=world.auth("writer"))
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith(f"body.{field}" if field != "body" else "body"), r.json()


# -- remediations, approval, feedback ------------------------------------------------------------------------------
def test_list_and_get_remediations(web: TestClient, world: World) -> None:
    name = world.remediation(world.a)
    r = web.get(f"/remediations?namespace={world.a}", headers=world.auth("writer"))
    assert r.status_code == 200, r.text
    assert name in [i["name"] for i in r.json()["items"]]
    r = web.get(f"/remediations/{world.a}/{name}", headers=world.auth("writer"))
    assert r.status_code == 200 and r.json()["spec"]["action"] == "scale_up"
    assert web.get(f"/remediations/{world.a}/no-such", headers=world.auth("writer")).status_code == 404
    # cluster-wide listing needs a cluster-wide right; a namespace of someone else's is refused
    assert web.get("/remediations", headers=world.auth("writer")).status_code == 403
    assert web.get(f"/remediations?namespace={world.b}", headers=world.auth("writer")).status_code == 403
    assert web.get("/remediations?namespace=Bad_NS", headers=world.auth("writer")).status_code == 422


def test_approve_records_the_caller_and_a_requester_cannot_approve(web: TestClient, world: World) -> None:
    name = world.remediation(world.a)
    # the attacker: may create errorevents and patch remediations, but not approve
    r = web.post(f"/remediations/{world.a}/{name}/approve", headers=world.auth("writer"))
    assert r.status_code == 403, r.text
    assert api.APPROVE not in (world.get(api.REMEDIATIONS, world.a, name)["metadata"].get("annotations") or {})
    # a forged approver in the body is refused, and changes nothing
    r = web.post(
        f"/remediations/{world.a}/{name}/approve", json={"approver": "system:admin"}, headers=world.auth("approver")
    )
    assert r.status_code == 422 and "approver" in r.json()["message"]
    assert api.APPROVE not in (world.get(api.REMEDIATIONS, world.a, name)["metadata"].get("annotations") or {})
    # a stale generation is refused by the admission policy, as with kubectl (422 Invalid)
    r = web.post(f"/remediations/{world.a}/{name}/approve", json={"generation": 7}, headers=world.auth("approver"))
    assert r.status_code == 422 and "approved-generation" in r.json()["message"], r.text
    r = web.post(f"/remediations/{world.a}/{name}/approve", json={"generation": 1}, headers=world.auth("approver"))
    assert r.status_code == 200, r.text
    annotations = world.get(api.REMEDIATIONS, world.a, name)["metadata"]["annotations"]
    assert annotations[api.APPROVE] == "true"
    assert annotations[api.APPROVER] == world.users["approver"]
    assert annotations[api.APPROVED_GENERATION] == "1"


def test_reject_and_cross_namespace_approval(web: TestClient, world: World) -> None:
    name = world.remediation(world.a)
    r = web.post(f"/remediations/{world.a}/{name}/reject", headers=world.auth("approver"))
    assert r.status_code == 200, r.text
    annotations = world.get(api.REMEDIATIONS, world.a, name)["metadata"]["annotations"]
    assert annotations[api.REJECT] == "true" and annotations[api.APPROVER] == world.users["approver"]
    other = world.remediation(world.b)
    r = web.post(f"/remediations/{world.b}/{other}/approve", headers=world.auth("approver"))
    assert r.status_code == 403, r.text
    assert not world.get(api.REMEDIATIONS, world.b, other)["metadata"].get("annotations")
    assert web.post(f"/remediations/{world.a}/no-such/approve", headers=world.auth("approver")).status_code == 404


def test_feedback_sets_the_annotations_as_the_caller(web: TestClient, world: World) -> None:
    name = world.remediation(world.a)
    body = {
        "namespace": world.a,
        "name": name,
        "verdict": "incorrect",
        "correctAction": "increase_memory",
        "correctType": "oom",
        "comment": "it was the heap",
    }
    r = web.post("/feedback", json=body, headers=world.auth("writer"))
    assert r.status_code == 202, r.text  # no operator here: not recorded within the wait
    assert r.json() == {"namespace": world.a, "name": name, "by": world.users["writer"], "recorded": False}
    annotations = world.get(api.REMEDIATIONS, world.a, name)["metadata"]["annotations"]
    assert annotations[api.FEEDBACK] == "incorrect"
    assert annotations[api.CORRECT_ACTION] == "increase_memory" and annotations[api.CORRECT_TYPE] == "oom"
    assert annotations[api.FEEDBACK_BY] == world.users["writer"]
    assert annotations[api.FEEDBACK_COMMENT] == "it was the heap"
    for bad, at_fault in (
        ({**body, "feedbackBy": "alice"}, "feedbackBy"),
        ({**body, "verdict": "correct"}, "body"),
        ({**body, "correctAction": "delete_everything"}, "correctAction"),
    ):
        r = web.post("/feedback", json=bad, headers=world.auth("writer"))
        assert r.status_code == 422 and at_fault in r.json()["message"], r.text
    assert (
        world.get(api.REMEDIATIONS, world.a, name)["metadata"]["annotations"][api.FEEDBACK_BY] == world.users["writer"]
    )
    r = web.post("/feedback", json={**body, "namespace": world.b}, headers=world.auth("writer"))
    assert r.status_code == 403


# -- rate limit, API server failures ----------------------------------------------------------------------------
def test_rate_limit_is_per_caller(cluster: Cluster, model: Classifier, world: World) -> None:
    limited = make_client(cluster, model, rate=0.01, burst=3)
    body = {"namespace": world.a, "message": "timeout"}
    codes = [limited.post("/predict", json=body, headers=world.auth("writer")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    r = limited.post("/predict", json=body, headers=world.auth("writer"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # another caller has a bucket of their own
    assert limited.post("/predict", json=body, headers=world.auth("approver")).status_code == 200


def _unreachable_client(model: Classifier, cluster: Cluster, port: int, timeout: float) -> tuple[TestClient, Deps]:
    cfg = load_configuration(str(cluster.kubeconfig))
    cfg.server = f"https://127.0.0.1:{port}"
    deps = Deps(
        kube=ApiServer(cfg, timeout=timeout, connect_timeout=timeout), model=model, config=Config(wait_seconds=0.2)
    )
    return TestClient(create_app(deps), raise_server_exceptions=False), deps


def test_an_unreachable_api_server_is_503_and_nothing_is_written(
    cluster: Cluster, model: Classifier, world: World
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    web, deps = _unreachable_client(model, cluster, port, 1.0)
    r = web.post("/errors", json=error_body(world.a), headers=world.auth("writer"))
    assert r.status_code == 503 and r.headers["Retry-After"], r.text
    assert web.get("/readyz").status_code == 503
    # with the caller already known (TokenReview cached), the authorization and the write fail the same way
    deps.tokens.put(world.tokens["writer"], Identity(world.users["writer"], groups=("system:authenticated",)))
    before = len(world.items(api.ERROREVENTS, world.a))
    r = web.post("/errors", json=error_body(world.a, message="during an outage"), headers=world.auth("writer"))
    assert r.status_code == 503, r.text
    assert len(world.items(api.ERROREVENTS, world.a)) == before


def test_a_slow_api_server_is_503_within_the_timeout(cluster: Cluster, model: Classifier, world: World) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accepts and never answers
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        web, _ = _unreachable_client(model, cluster, listener.getsockname()[1], 0.5)
        start = time.monotonic()
        r = web.post("/predict", json={"namespace": world.a, "message": "x"}, headers=world.auth("writer"))
        assert r.status_code == 503, r.text
        assert time.monotonic() - start < 5
    finally:
        stop.set()
        t.join(2)
        for c in accepted:
            c.close()
        listener.close()


# -- Alertmanager -----------------------------------------------------------------------------------------------
def payload(name: str, namespace: str) -> dict[str, Any]:
    body = json.loads((PAYLOADS / name).read_text().replace('"shop"', json.dumps(namespace)))
    for alert in body["alerts"]:
        alert["labels"] = {k: v.replace("shop/", f"{namespace}/") for k, v in alert["labels"].items()}
    return dict(body)


def test_alertmanager_payloads_become_errorevents_once(web: TestClient, world: World) -> None:
    body = payload("notready_and_mismatch.json", world.a)
    r = web.post("/alertmanager", json=body, headers=world.auth("writer"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert {c["alertname"] for c in out["created"]} == {"KubePodNotReady", "KubeDeploymentReplicasMismatch"}
    assert [x["alertname"] for x in out["resolved"]] == ["KubeStatefulSetReplicasMismatch"]
    for c in out["created"]:
        ee = world.get(api.ERROREVENTS, world.a, c["name"])
        assert ee["spec"]["source"] == "alert"
        assert ee["metadata"]["annotations"][api.REQUESTED_BY] == world.users["writer"]
    # Alertmanager repeats the group: deduplicated, nothing new
    count = len(world.items(api.ERROREVENTS, world.a))
    again = web.post("/alertmanager", json=body, headers=world.auth("writer")).json()
    assert again["created"] == [] and len(again["deduplicated"]) == 2
    assert len(world.items(api.ERROREVENTS, world.a)) == count
    ignored = web.post("/alertmanager", json=payload("no_workload.json", world.a), headers=world.auth("writer"))
    assert ignored.status_code == 200 and len(ignored.json()["ignored"]) == 3
    metrics = web.get("/metrics").text
    assert 'remediator_api_alerts_total{outcome="ignored_no_workload"}' in metrics


def test_alertmanager_is_all_or_nothing_across_namespaces(web: TestClient, world: World) -> None:
    mine = payload("crashlooping.json", world.a)["alerts"][0]
    theirs = copy.deepcopy(mine)
    theirs["labels"]["namespace"] = world.b
    theirs["fingerprint"] = "abcdef0123456789"
    body = {**payload("crashlooping.json", world.a), "alerts": [mine, theirs]}
    before = len(world.items(api.ERROREVENTS, world.a))
    r = web.post("/alertmanager", json=body, headers=world.auth("writer"))
    assert r.status_code == 403 and world.b in r.json()["message"]
    assert len(world.items(api.ERROREVENTS, world.a)) == before and world.items(api.ERROREVENTS, world.b) == []
    bad = web.post("/alertmanager", json={**body, "version": "3"}, headers=world.auth("writer"))
    assert bad.status_code == 422 and "version" in bad.json()["message"]


# -- with the operator ----------------------------------------------------------------------------------------------
def test_errors_and_alerts_are_classified_by_the_operator(
    cluster: Cluster, model: Classifier, namespace: str, run_operator: OperatorFactory
) -> None:
    ops = Ops(cluster, namespace)
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=10)  # proposals only
    ops.deployment("web", 1, memory="128Mi")
    run_operator(namespace, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    w = make_world(cluster, namespace, namespace)
    web = make_client(cluster, model, wait_seconds=8.0)
    r = web.post("/errors", json=error_body(namespace), headers=w.auth("writer"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["classification"]["errorType"] == "oom" and out["remediation"], out
    assert w.get(api.REMEDIATIONS, namespace, out["remediation"])["spec"]["target"]["name"] == "web"

    # feedback through the API takes the annotations' path: the operator records the caller's judgment in status
    verdict = {"namespace": namespace, "name": out["remediation"], "verdict": "incorrect", "correctAction": "rollback"}
    r = web.post("/feedback", json=verdict, headers=w.auth("writer"))
    assert r.status_code == 200 and r.json()["recorded"] is True, r.text
    [judgment] = w.get(api.REMEDIATIONS, namespace, out["remediation"])["status"]["judgments"]
    assert judgment["by"] == w.users["writer"] and judgment["label"] == "incorrect"
    assert judgment.get("correctAction") == "rollback" and judgment.get("verified") is True, judgment

    body = payload("notready_and_mismatch.json", namespace)
    body["alerts"][1]["labels"]["deployment"] = "web"
    r = web.post("/alertmanager", json=body, headers=w.auth("writer"))
    assert r.status_code == 200, r.text
    name = next(c["name"] for c in r.json()["created"] if c["alertname"] == "KubeDeploymentReplicasMismatch")

    def classified() -> dict[str, Any] | None:
        ee = w.get(api.ERROREVENTS, namespace, name)
        return ee if ee.get("status", {}).get("classification") else None

    ee = wait_for(classified, 30, "the alert's ErrorEvent classified")
    assert ee["status"]["classification"]["errorType"] in {
        "app_crash",
        "probe_failure",
        "resource_exhaustion",
        "dependency_error",
        "timeout",
        "config_issue",
        "oom",
        "image_pull",
        "permission_denied",
    }


# -- `remediator api` as a process, over real HTTP -------------------------------------------------------------------
def test_remediator_api_runs_against_a_kubeconfig(cluster: Cluster, world: World, tmp_path: Path) -> None:
    import os
    import sys
    import urllib.error
    import urllib.request

    from tests.fixtures.procs import ManagedProcess, free_port, port_open

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATOR_")}
    proc = ManagedProcess(
        "remediator-api",
        [sys.executable, "-m", "remediator.cli", "api", "--kubeconfig", str(cluster.kubeconfig), "--port", str(port)],
        log_path=tmp_path / "api.log",
        env={**env, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[2],
    )
    proc.start(ready=lambda: port_open(port), timeout=60)
    try:
        base = f"http://127.0.0.1:{port}"

        def post(path: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            req = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as err:
                return err.code, json.loads(err.read())

        assert wait_for(lambda: urllib.request.urlopen(base + "/readyz", timeout=2).status == 200, 30, "ready")
        status, out = post("/predict", {"namespace": world.a, "reason": "ImagePullBackOff"}, world.tokens["writer"])
        assert status == 200 and out["prediction"]["errorType"] == "image_pull", out
        status, out = post("/errors", error_body(world.a, message="from the process"), world.tokens["writer"])
        assert status == 202 and world.get(api.ERROREVENTS, world.a, out["name"])["spec"]["source"] == "api"
        assert post("/predict", {"namespace": world.a, "message": "x"}, None)[0] == 401
        assert post("/predict", {"namespace": world.a, "message": "x"}, world.tokens["nobody"])[0] == 403
    finally:
        proc.stop()
