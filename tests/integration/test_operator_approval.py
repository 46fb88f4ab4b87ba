"""Approval by annotation: approve, reject, edited parameters, invalid values, expiry."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")


@pytest.fixture
def pending(run_operator: OperatorFactory, ops: Ops, namespace: str) -> str:
    """A healthy Deployment `app` (64Mi) and a Remediation `grow` to raise its memory, waiting for approval."""
    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    ops.remediation("grow", "app", "increase_memory", error_type="oom", confidence=0.8)
    rem = ops.wait_phase("remediations", "grow", "PendingApproval")
    check("BelowThreshold" in rem["status"]["reasons"], rem["status"])
    check(rem["status"].get("expiresAt"), f"no expiresAt: {rem['status']}")
    return "grow"


def test_below_threshold_waits_and_approval_applies(ops: Ops, namespace: str, pending: str) -> None:
    holds_for(
        lambda: ops.memory_limit("app") == "64Mi" and ops.phase("remediations", pending) == "PendingApproval",
        3,
        "nothing applied without approval",
    )
    ops.approve(pending)
    done = ops.wait_phase("remediations", pending, *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(done["status"]["reason"] in ("StableEarly", "Verified"), done["status"])
    check(done["status"]["approvedBy"] == ops.whoami(), done["status"])
    check(done["status"]["approval"]["by"] == ops.whoami() and done["status"]["approval"]["generation"], done["status"])
    check(ops.memory_limit("app") == "96Mi", f"limit {ops.memory_limit('app')}")


def test_rejection_records_feedback_and_changes_nothing(ops: Ops, namespace: str, pending: str) -> None:
    ops.reject(pending)
    done = ops.wait_phase("remediations", pending, *FINAL)
    check(done["status"]["phase"] == "Rejected", f"ended {done['status']}")
    check(
        done["status"]["feedback"] == {"label": "incorrect", "source": "rejection", "recorded": False},
        done["status"].get("feedback"),
    )
    holds_for(lambda: ops.memory_limit("app") == "64Mi", 2, "the Deployment unchanged")


def test_parameters_edited_before_approval_are_honoured(ops: Ops, namespace: str, pending: str) -> None:
    ops.cluster.kubectl(
        "patch",
        "-n",
        namespace,
        "remediation",
        pending,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"parameters": {"memoryLimit": "200Mi"}}}),
    )
    # The spec changed since it was proposed: the approver names the generation they reviewed.
    generation = ops.get("remediations", pending)["metadata"]["generation"]
    ops.approve(pending, f"remediator.dev/approved-generation={generation}")
    done = ops.wait_phase("remediations", pending, *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.memory_limit("app") == "200Mi", f"limit {ops.memory_limit('app')} (the edit was ignored)")
    check(done["status"]["change"]["after"]["limits"]["memory"] == "200Mi", done["status"]["change"])


def test_invalid_annotation_value_is_visible_and_changes_nothing(ops: Ops, namespace: str, pending: str) -> None:
    ops.cluster.kubectl("annotate", "-n", namespace, "remediation", pending, "remediator.dev/approve=yes")

    def flagged() -> dict[str, str] | None:
        rem = ops.get("remediations", pending) or {}
        conditions = (rem.get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "AnnotationsValid" and c["status"] == "False"), None)

    from tests.fixtures.operator import wait_for

    condition = wait_for(flagged, 15, "an AnnotationsValid=False condition")
    check(condition["reason"] == "InvalidAnnotation" and '"yes"' in condition["message"], condition)
    holds_for(
        lambda: ops.memory_limit("app") == "64Mi" and ops.phase("remediations", pending) == "PendingApproval",
        3,
        "nothing applied for an invalid value",
    )
    warnings = [e for e in ops.events_for(pending, "Remediation") if e["type"] == "Warning"]
    check(any(e["reason"] == "InvalidAnnotation" for e in warnings), f"no InvalidAnnotation Warning: {warnings}")


def test_proposal_expires(ops: Ops, pending: str) -> None:
    # approvalTTLSeconds cannot go below 60 s (CRD minimum): move the deadline into the past instead.
    ops.patch_status("remediations", pending, {"expiresAt": "2020-01-01T00:00:00Z"})
    done = ops.wait_phase("remediations", pending, *FINAL)
    check(done["status"]["phase"] == "Expired" and done["status"]["reason"] == "ApprovalExpired", done["status"])
    holds_for(lambda: ops.memory_limit("app") == "64Mi", 2, "the Deployment unchanged")
