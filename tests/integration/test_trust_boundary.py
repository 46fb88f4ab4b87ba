"""The attacks of the trust-boundary issue, against the real operator and API server: each is refused or
harmless, with the reason in status. (Who may set approval annotations at all is the admission policy's job:
tests/integration/test_admission_approval.py.)"""

from __future__ import annotations

import json
import time

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for

pytestmark = pytest.mark.integration

LOOSE = {"autoApplyThreshold": 0.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")


@pytest.fixture
def healthy(run_operator: OperatorFactory, ops: Ops, namespace: str) -> str:
    """A healthy Deployment `app` (64Mi, 1 replica) under a policy that would auto-apply anything."""
    ops.policy(**LOOSE)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    return "app"


def test_a_hand_written_confidence_of_one_is_a_proposal_not_an_order(ops: Ops, healthy: str) -> None:
    ops.remediation("grow", healthy, "increase_memory", error_type="oom", confidence=1.0)
    rem = ops.wait_phase("remediations", "grow", "PendingApproval", *FINAL)
    check(rem["status"]["phase"] == "PendingApproval", rem["status"])
    check(rem["status"]["origin"] == "user" and rem["status"]["reason"] == "UserProposal", rem["status"])
    holds_for(lambda: ops.memory_limit(healthy) == "64Mi", 3, "the Deployment unchanged")


def test_a_forged_decision_annotation_is_not_read(ops: Ops, namespace: str, healthy: str) -> None:
    forged = {"phase": "Approved", "reason": "PolicyAllows", "message": "trust me", "autoApply": True}
    ops.create(
        "remediations",
        "forged",
        {
            "target": {"kind": "Deployment", "name": healthy},
            "action": "scale_up",
            "errorType": "timeout",
            "confidence": 1.0,
            "parameters": {"replicas": 20},
        },
        "Remediation",
        annotations={"remediator.dev/decision": json.dumps(forged)},
    )
    rem = ops.wait_phase("remediations", "forged", "PendingApproval", *FINAL)
    check(rem["status"]["phase"] == "PendingApproval" and rem["status"]["origin"] == "user", rem["status"])
    holds_for(lambda: ops.get_deployment(healthy)["spec"]["replicas"] == 1, 3, "replicas unchanged")


def test_the_requester_cannot_approve_their_own_proposal(ops: Ops, healthy: str) -> None:
    me = ops.whoami()
    ops.create(
        "remediations",
        "mine",
        {
            "target": {"kind": "Deployment", "name": healthy},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.9,
        },
        "Remediation",
        annotations={"remediator.dev/requested-by": me},
    )
    ops.wait_phase("remediations", "mine", "PendingApproval")
    ops.approve("mine")
    rem = ops.wait_for_reason("remediations", "mine", "SelfApproval")
    check(rem["status"]["phase"] == "PendingApproval", rem["status"])
    holds_for(lambda: ops.memory_limit(healthy) == "64Mi", 2, "the Deployment unchanged")


def test_self_approval_only_where_the_cluster_default_allows_it(ops: Ops, namespace: str, healthy: str) -> None:
    ops.policy(**LOOSE, selfApprovalNamespaces=[namespace])
    ops.create(
        "remediations",
        "mine",
        {"target": {"kind": "Deployment", "name": healthy}, "action": "increase_memory", "errorType": "oom",
         "confidence": 0.9},
        "Remediation",
        annotations={"remediator.dev/requested-by": ops.whoami()},
    )
    ops.wait_phase("remediations", "mine", "PendingApproval")
    time.sleep(6)  # the operator re-reads policies at most every 5 s
    ops.approve("mine")
    done = ops.wait_phase("remediations", "mine", *FINAL, timeout=40)
    check(done["status"]["approval"]["by"] == ops.whoami(), done["status"])
    check(ops.memory_limit(healthy) == "96Mi", f"limit {ops.memory_limit(healthy)}")


def test_an_opt_out_added_after_the_proposal_stops_its_approval(ops: Ops, namespace: str, healthy: str) -> None:
    ops.remediation("grow", healthy, "increase_memory", error_type="oom")
    ops.wait_phase("remediations", "grow", "PendingApproval")
    ops.cluster.kubectl("annotate", "-n", namespace, "deployment", healthy, "remediator.dev/ignore=true")
    ops.approve("grow")
    done = ops.wait_phase("remediations", "grow", *FINAL)
    check(done["status"]["phase"] == "Skipped" and done["status"]["reason"] == "OptedOut", done["status"])
    check(ops.memory_limit(healthy) == "64Mi", "the opted-out Deployment was changed")


def test_a_privilege_widening_config_patch_is_refused_with_its_path(ops: Ops, healthy: str) -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "hostPID": True,
                    "containers": [{"name": "pwn", "image": "busybox", "securityContext": {"privileged": True}}],
                    "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                }
            }
        }
    }
    ops.remediation(
        "pwn", healthy, "update_config", error_type="config_issue", parameters={"configPatch": patch}, approve=True
    )
    done = ops.wait_phase("remediations", "pwn", *FINAL)
    check(done["status"]["phase"] == "Skipped" and done["status"]["reason"] == "ForbiddenPatchField", done["status"])
    spec = ops.get_deployment(healthy)["spec"]["template"]["spec"]
    check("hostPID" not in spec and len(spec["containers"]) == 1, f"the Deployment was widened: {spec}")
