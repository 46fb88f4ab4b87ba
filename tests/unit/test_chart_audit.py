"""`helm template` of the audit stream's values: off by default, each value one REMEDIATOR_AUDIT_* setting of
the operator, the stream named after the Pod unless set, and bad values refused by the schema."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.helm import helm_template, rendered_objects


def _operator_env(*sets: str) -> dict[str, Any]:
    [deployment] = [o for o in rendered_objects(*sets) if o["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_off_by_default() -> None:
    assert not [name for name in _operator_env() if name.startswith("REMEDIATOR_AUDIT_")]


def test_values_reach_the_operator_as_its_settings() -> None:
    from remediator.settings import load

    env = _operator_env("audit.logGroup=/kube-remediator/operator", "audit.region=eu-west-1", "audit.bufferRecords=500")
    assert env["REMEDIATOR_AUDIT_LOG_GROUP"] == "/kube-remediator/operator"
    assert env["REMEDIATOR_AUDIT_LOG_STREAM"] == {"fieldRef": {"fieldPath": "metadata.name"}}  # one per Pod
    assert env["REMEDIATOR_AUDIT_REGION"] == "eu-west-1"
    strings = {k: v for k, v in env.items() if k.startswith("REMEDIATOR_AUDIT_") and isinstance(v, str)}
    settings = load(environ=strings)  # every rendered name is a setting the operator reads, and valid
    assert (settings.audit_log_group, settings.audit_region, settings.audit_buffer_records) == (
        "/kube-remediator/operator",
        "eu-west-1",
        500,
    )


def test_a_stream_name_replaces_the_pod_name() -> None:
    env = _operator_env("audit.logGroup=/g", "audit.streamName=operator-audit")
    assert env["REMEDIATOR_AUDIT_LOG_STREAM"] == "operator-audit"


def test_the_default_buffer_is_the_operators_default() -> None:
    from remediator.settings import Settings

    assert int(_operator_env("audit.logGroup=/g")["REMEDIATOR_AUDIT_BUFFER_RECORDS"]) == Settings().audit_buffer_records


@pytest.mark.parametrize(
    "bad",
    ["audit.logGroup=a group", "audit.streamName=a:b", "audit.region=Europe", "audit.bufferRecords=10", "audit.x=1"],
)
def test_the_schema_refuses_bad_audit_values(bad: str) -> None:
    assert helm_template(bad, check=False).returncode != 0
