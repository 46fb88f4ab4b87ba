"""`helm template` of the tracing values: off by default, on as the operator's setting plus the standard OTEL_*
variables the SDK reads, and bad values refused by the schema."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.helm import helm_template, rendered_objects


def _operator_env(*sets: str) -> dict[str, Any]:
    [deployment] = [o for o in rendered_objects(*sets) if o["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_off_by_default() -> None:
    env = _operator_env()
    assert "REMEDIATOR_TRACING_ENABLED" not in env
    assert not [name for name in env if name.startswith("OTEL_")]


def test_on_with_an_endpoint_reaches_the_operator_and_the_sdk() -> None:
    from remediator.settings import load

    env = _operator_env("tracing.enabled=true", "tracing.endpoint=http://otel-collector.observability:4318")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert env["OTEL_SERVICE_NAME"] == "kube-remediator"
    assert load(environ={"REMEDIATOR_TRACING_ENABLED": env["REMEDIATOR_TRACING_ENABLED"]}).tracing_enabled is True


def test_without_an_endpoint_the_sdk_default_applies() -> None:
    env = _operator_env("tracing.enabled=true", "tracing.serviceName=remediator-prod")
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    assert env["OTEL_SERVICE_NAME"] == "remediator-prod"


@pytest.mark.parametrize(
    "bad", ["tracing.enabled=maybe", "tracing.endpoint=collector:4318", "tracing.serviceName=", "tracing.x=1"]
)
def test_the_schema_refuses_bad_tracing_values(bad: str) -> None:
    assert helm_template(bad, check=False).returncode != 0
