"""What keeps the operator from acting: opt-out annotations, global dry-run, rate limits and cooldowns."""

from __future__ import annotations

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
IGNORE = {"remediator.dev/ignore": "true"}


def _crashing(ops: Ops, app: str) -> bool:
    return any(
        (s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
        for p in ops.pods(app)
        for s in p.get("status", {}).get("containerStatuses") or []
    )


def _targets(ops: Ops, plural: str) -> set[str]:
    return {o["spec"]["target"]["name"] for o in ops.items(plural)}


def test_workload_opted_out_gets_no_errorevent(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace)
    ops.deployment("quiet", 1, fail="crashloop", annotations=IGNORE)
    ops.deployment("loud", 1, fail="crashloop")  # the control: proves the operator is watching
    wait_for(lambda: _crashing(ops, "quiet") and _crashing(ops, "loud"), 30, "both Deployments crashing")
    wait_for(lambda: "loud" in _targets(ops, "remediations"), 30, "a Remediation for the control Deployment")
    holds_for(
        lambda: "quiet" not in _targets(ops, "errorevents") | _targets(ops, "remediations"),
        4,
        "no ErrorEvent or Remediation for the opted-out Deployment",
    )


def test_namespace_opted_out_gets_no_errorevent(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)
    ops.core.patch_namespace(namespace, {"metadata": {"annotations": IGNORE}})
    op = run_operator(namespace)
    ops.deployment("quiet", 1, fail="crashloop")
    wait_for(lambda: _crashing(ops, "quiet"), 30, "the Deployment crashing")
    wait_for(lambda: "Handler 'warning_event' succeeded" in op.log(), 20, "the operator seeing the BackOff Event")
    holds_for(
        lambda: not ops.items("errorevents") and not ops.items("remediations"),
        4,
        "no ErrorEvent or Remediation in an opted-out namespace",
    )


def test_global_dry_run_never_changes_the_workload(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=0.0, dryRun=False, **FAST)  # a namespace policy cannot lift global dry-run
    run_operator(namespace, dry_run=True, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    generation = ops.get_deployment("app")["metadata"]["generation"]

    ops.remediation("grow", "app", "increase_memory", error_type="oom")
    rem = ops.wait_phase("remediations", "grow", "PendingApproval", *FINAL)
    check(rem["status"]["phase"] == "PendingApproval" and "DryRun" in rem["status"]["reasons"], rem["status"])
    ops.approve("grow")
    done = ops.wait_phase("remediations", "grow", *FINAL)
    check(done["status"]["phase"] == "Skipped" and done["status"]["reason"] == "DryRun", done["status"])
    check(done["status"]["change"]["dryRun"] is True, done["status"]["change"])
    check(done["status"]["change"]["after"]["limits"]["memory"] == "96Mi", done["status"]["change"])
    dep = ops.get_deployment("app")
    check(
        ops.memory_limit("app") == "64Mi" and dep["metadata"]["generation"] == generation,
        "dry-run changed the Deployment",
    )


def _first_scale_succeeds(ops: Ops) -> None:
    ops.deployment("app", 1, memory="128Mi")
    ops.running_pods("app", 1)
    ops.remediation(
        "first", "app", "scale_up", error_type="resource_exhaustion", parameters={"replicas": 2}, approve=True
    )
    done = ops.wait_phase("remediations", "first", *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"first ended {done['status']}")


def test_rate_limit_sends_the_second_remediation_to_approval(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, rateLimit={"perWorkloadPerHour": 1}, **FAST)
    run_operator(namespace, env=NO_WATCH)
    _first_scale_succeeds(ops)
    ops.remediation("second", "app", "scale_up", error_type="resource_exhaustion", parameters={"replicas": 3})
    rem = ops.wait_phase("remediations", "second", "PendingApproval", *FINAL)
    check(rem["status"]["phase"] == "PendingApproval", rem["status"])
    check("RateLimitedWorkload" in rem["status"]["reasons"], rem["status"])
    check("limit 1" in rem["status"]["message"], rem["status"]["message"])
    holds_for(lambda: ops.get_deployment("app")["spec"]["replicas"] == 2, 3, "replicas left at 2")


def test_cooldown_sends_the_second_remediation_to_approval(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, verifyWindowSeconds=10, cooldownSeconds=600, maxCooldownSeconds=600)
    run_operator(namespace, env=NO_WATCH)
    _first_scale_succeeds(ops)
    ops.remediation("second", "app", "scale_up", error_type="resource_exhaustion", parameters={"replicas": 3})
    rem = ops.wait_phase("remediations", "second", "PendingApproval", *FINAL)
    check(rem["status"]["phase"] == "PendingApproval" and "CoolingDown" in rem["status"]["reasons"], rem["status"])
    check("s remaining" in rem["status"]["message"], rem["status"]["message"])
    holds_for(lambda: ops.get_deployment("app")["spec"]["replicas"] == 2, 3, "replicas left at 2")
