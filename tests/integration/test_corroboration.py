"""Claims the cluster does not show change nothing by themselves: the operator checks the target's Pods (their
states, termination reasons, readiness, restarts) before any automatic change, and says what it checked."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

LOOSE = {"autoApplyThreshold": 0.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
SETTLED = ("Classified", "Remediating", "Ignored", "Invalid")


def _claim(target: str, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "target": {"kind": "Deployment", "name": target},
        "reason": reason,
        "message": message,
        "source": "user",
        **extra,
    }


def _remediation_of(ops: Ops, errorevent: str) -> dict[str, Any]:
    ee = ops.wait_phase("errorevents", errorevent, *SETTLED)
    name = (ee["status"].get("remediationRef") or {}).get("name")
    check(name, f"no Remediation for {errorevent}: {ee['status']}")
    return ops.wait_phase("remediations", name, "PendingApproval", "Approved", "Applying", "Verifying", *FINAL)


def test_a_made_up_image_pull_about_a_healthy_deployment_is_only_proposed(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**LOOSE)
    run_operator(namespace, env=NO_WATCH)
    # A revision to go back to: the made-up claim's rollback is a proposal to check, not a notify.
    ops.deployment("app", 1, earlier_revision=True)
    ops.running_pods("app", 1)
    revision = ops.get_deployment("app")["metadata"]["annotations"].get("deployment.kubernetes.io/revision")
    ops.errorevent(
        "madeup", _claim("app", "ImagePullBackOff", 'Back-off pulling image "registry.example/app:1.1": ErrImagePull')
    )
    rem = _remediation_of(ops, "madeup")
    status = rem["status"]
    check(status["phase"] == "PendingApproval" and status["reason"] == "NotCorroborated", status)
    evidence = " ".join(status.get("evidence") or [])
    check("1/1 Pods ready" in evidence and "image" in evidence, f"the check is not shown: {status}")
    holds_for(
        lambda: (
            ops.get_deployment("app")["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == revision
        ),
        3,
        "the healthy Deployment untouched",
    )


def test_the_same_claim_is_acted_on_when_the_pods_show_it(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**LOOSE)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    wait_for(lambda: any("OOMKilled" in str(p.get("status")) for p in ops.pods("hungry")), 30, "an OOMKilled Pod")
    ops.errorevent("real", _claim("hungry", "OOMKilled", "container app was OOMKilled (exit code 137)", exitCode=137))
    rem = _remediation_of(ops, "real")
    status = rem["status"]
    check(status.get("approvedBy") == "policy", f"a corroborated claim was not auto-applied: {status}")
    check(any("Pod " in e and "OOMKilled" in e for e in status.get("evidence") or []), status)


def test_a_forged_readiness_event_about_a_ready_pod_evicts_nothing(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**LOOSE)
    run_operator(namespace)  # watching Warning Events, as installed
    ops.deployment("web", 2)
    pods = ops.running_pods("web", 2)
    victim = pods[0]["metadata"]["name"]
    ops.core.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": f"forged-{uuid.uuid4().hex[:8]}"},
            "type": "Warning",
            "reason": "Unhealthy",
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "involvedObject": {
                "kind": "Pod",
                "name": victim,
                "namespace": namespace,
                "uid": pods[0]["metadata"]["uid"],
                "apiVersion": "v1",
                "fieldPath": "spec.containers{app}",
            },
            "source": {"component": "kubelet"},
            "count": 5,
        },
    )
    rem = wait_for(lambda: next(iter(ops.items("remediations")), None), 30, "a Remediation")
    name = rem["metadata"]["name"]
    rem = ops.wait_phase("remediations", name, "PendingApproval", "Approved", *FINAL)
    status = rem["status"]
    if rem["spec"]["action"] != "notify":
        check(status["phase"] == "PendingApproval" and status["reason"] == "NotCorroborated", status)
        ops.approve(name)  # even a human's approval cannot make the operator evict a ready Pod
        done = ops.wait_phase("remediations", name, *FINAL)
        check(
            done["status"]["reason"] in ("NoFailingPods", "NotRestartable") or done["spec"]["action"] != "restart_pod",
            done["status"],
        )
    names = sorted(p["metadata"]["name"] for p in ops.pods("web"))
    check(names == sorted(p["metadata"]["name"] for p in pods), f"a ready Pod was evicted: {names}")


def test_the_outcome_of_a_users_proposal_is_not_training_data(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**LOOSE)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    ops.remediation("grow", "hungry", "increase_memory", error_type="oom", approve=True)
    done = ops.wait_phase("remediations", "grow", *FINAL, timeout=60)
    status = done["status"]
    check(status["phase"] == "Succeeded" and status["origin"] == "user", status)
    check("feedback" not in status, f"a user's proposal became a training label: {status.get('feedback')}")
