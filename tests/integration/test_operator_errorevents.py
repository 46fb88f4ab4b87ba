"""ErrorEvents written by users or tools that the operator must refuse, or survive, without side effects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for

pytestmark = pytest.mark.integration

SETTLED = ("Classified", "Remediating", "Resolved", "Ignored", "Invalid")


def _spec(target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "target": target,
        "message": "container app exited with code 1",
        "reason": "CrashLoopBackOff",
        "exitCode": 1,
        "source": "api",
        **extra,
    }


@pytest.fixture
def operator_on(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=10)  # proposals only
    run_operator(namespace, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    ops.deployment("web", 1, memory="128Mi")


@pytest.mark.usefixtures("operator_on")
def test_target_in_another_namespace_is_invalid(ops: Ops) -> None:
    ops.errorevent("elsewhere", _spec({"kind": "Deployment", "name": "web", "namespace": "kube-system"}))
    ee = ops.wait_phase("errorevents", "elsewhere", *SETTLED)
    status = ee["status"]
    check(status["phase"] == "Invalid", status)
    check("kube-system" in status["message"] and "own namespace" in status["message"], status["message"])
    valid = next(c for c in status["conditions"] if c["type"] == "Valid")
    check(valid["status"] == "False" and valid["reason"] == "CrossNamespaceTarget", valid)
    check("classification" not in status, f"an invalid ErrorEvent was classified: {status}")
    holds_for(lambda: not ops.items("remediations"), 2, "no Remediation")


@pytest.mark.usefixtures("operator_on")
def test_target_that_does_not_exist_is_invalid(ops: Ops) -> None:
    ops.errorevent("ghost", _spec({"kind": "Deployment", "name": "no-such-deployment"}))
    ee = ops.wait_phase("errorevents", "ghost", *SETTLED)
    status = ee["status"]
    check(status["phase"] == "Invalid", status)
    reasons = {c["type"]: c.get("reason") for c in status["conditions"]}
    check(reasons.get("Remediated") == "TargetNotFound", f"conditions {status['conditions']}")
    check("no-such-deployment" in status["message"], status["message"])
    holds_for(lambda: not ops.items("remediations"), 2, "no Remediation")


@pytest.mark.usefixtures("operator_on")
def test_control_characters_and_16k_logs_are_classified_normally(ops: Ops) -> None:
    message = "OOMKilled\x00\x07 container app\x1b[31m exceeded its memory limit\x7f (exit code 137)"
    logs = ("java.lang.OutOfMemoryError: Java heap space\x00\x1b[0m\n" * 400)[:16384]
    assert len(logs) == 16384
    ops.errorevent(
        "noisy",
        _spec({"kind": "Deployment", "name": "web"}, message=message, reason="OOMKilled", exitCode=137, logs=logs),
    )
    ee = ops.wait_phase("errorevents", "noisy", *SETTLED)
    status = ee["status"]
    check(status["phase"] in ("Classified", "Remediating"), status)
    check(status["classification"]["errorType"] == "oom", status["classification"])
    rem = ops.get("remediations", status["remediationRef"]["name"])
    check(rem is not None and rem["spec"]["target"]["name"] == "web", rem)
