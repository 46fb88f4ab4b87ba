"""Property-based tests of `remediator api` from its own OpenAPI document (schemathesis): whatever the body,
path or query, against the real API server with a real token, the API answers no 5xx, only status codes it
documents, and bodies that match its response schemas. Bounded: at most 25 examples per operation."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from kubernetes import client
from schemathesis.specs.openapi.checks import ignored_auth

from remediator.web.app import Deps, create_app
from remediator_model.predict import Classifier
from tests.fixtures import hypothesis_compat
from tests.fixtures.cluster import Cluster
from tests.integration.test_web_api import World, make_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def schema_world(cluster: Cluster) -> Iterator[World]:
    core = client.CoreV1Api(cluster.api)
    ns = f"ws-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        yield make_world(cluster, ns, ns)
    finally:
        core.delete_namespace(ns)


@pytest.fixture(scope="module")
def api_schema(cluster: Cluster, schema_world: World) -> schemathesis.schemas.BaseSchema:
    from remediator.adapters.apiserver import ApiServer, load_configuration
    from remediator.web.app import Config

    kube = ApiServer(load_configuration(str(cluster.kubeconfig)))
    app = create_app(Deps(kube=kube, model=Classifier.load(), config=Config(wait_seconds=0.0, rate=0, burst=1)))
    return schemathesis.from_asgi("/openapi.json", app)


hypothesis_compat.install()
schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI writes OpenAPI 3.1
schema = schemathesis.from_pytest_fixture("api_schema")
SEEN: Counter[tuple[str, int]] = Counter()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_5xx_and_schema_valid_answers(case: schemathesis.Case, schema_world: World) -> None:
    if case.path == "/metrics":
        return  # Prometheus' text format; covered by test_web_api
    # the writer's real token, and the writer's namespace wherever a case names one, so cases get past the
    # authorization into validation, the API server's admission and the 2xx paths
    ns = schema_world.a
    if isinstance(case.body, dict) and isinstance(case.body.get("namespace"), str):
        case.body["namespace"] = ns
    for params in (case.path_parameters, case.query):
        if params and "namespace" in params:
            params["namespace"] = ns
    response = case.call(headers=schema_world.auth("writer"))
    SEEN[(case.path, response.status_code)] += 1
    assert response.status_code < 500, (case.method, case.path, response.text)
    # ignored_auth replays the case with a broken token but keeps our header: auth is tested on its own below
    case.validate_response(response, excluded_checks=(ignored_auth,))


@schema.parametrize(endpoint="^/(errors|predict|feedback|alertmanager)$")
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_without_a_token_every_answer_is_401(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": ""})
    # authentication comes before validation: no token learns nothing about the body (413: too big to read)
    assert response.status_code in (401, 413), (case.method, case.path, response.status_code, response.text)


def test_the_generated_cases_reached_the_routes() -> None:
    """Runs after the property test (file order): its cases got past authorization into both 2xx and 422."""
    if not SEEN:
        pytest.fail("the property test did not run first (run the whole file)")
    codes = {code for _, code in SEEN}
    print(sorted(SEEN.items()))
    assert codes & {200, 201, 202}, SEEN
    assert 422 in codes, SEEN
    assert any(path == "/errors" and code in (201, 202) for path, code in SEEN), SEEN
