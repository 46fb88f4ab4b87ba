"""Restarts and replicas: an approval made while the operator is down, a restart mid-verification, and two
replicas sharing one peering name, each applying a change exactly once."""

from __future__ import annotations

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}


def test_approval_while_stopped_is_applied_exactly_once_after_restart(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=10, cooldownSeconds=0, maxCooldownSeconds=0)
    op = run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    ops.remediation("grow", "app", "increase_memory", error_type="oom")
    ops.wait_phase("remediations", "grow", "PendingApproval")

    op.stop()
    ops.approve("grow")
    holds_for(lambda: ops.phase("remediations", "grow") == "PendingApproval", 1, "nothing acting while stopped")
    op.start()

    done = ops.wait_phase("remediations", "grow", *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.memory_limit("app") == "96Mi", f"memory grown more than once: {ops.memory_limit('app')}")
    check(done["status"]["change"]["before"]["limits"]["memory"] == "64Mi", done["status"]["change"])
    # One rollout: revision 2, the template changed once.
    dep = ops.get_deployment("app")
    check(dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2", dep["metadata"])


def test_restart_while_verifying_reaches_a_final_phase(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=0.0, verifyWindowSeconds=20, cooldownSeconds=0, maxCooldownSeconds=0)
    op = run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 2, memory="128Mi")
    ops.running_pods("app", 2)
    ops.remediation(
        "scale", "app", "scale_up", error_type="resource_exhaustion", parameters={"replicas": 3}, approve=True
    )
    ops.wait_phase("remediations", "scale", "Verifying", *FINAL)
    op.stop()
    check(ops.phase("remediations", "scale") == "Verifying", "the Remediation finished before the restart")
    op.start()
    done = ops.wait_phase("remediations", "scale", *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.get_deployment("app")["spec"]["replicas"] == 3, "replicas changed again after the restart")


def test_two_replicas_sharing_a_peering_apply_once(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=0.0, verifyWindowSeconds=10, cooldownSeconds=0, maxCooldownSeconds=0)
    high = run_operator(namespace, peering="shared", priority=200)
    low = run_operator(namespace, peering="shared", priority=100, start=False)
    low.start()

    def peers() -> dict[str, int] | None:
        obj = ops.custom.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", "shared")
        found = {k: int(v.get("priority", 0)) for k, v in (obj.get("status") or {}).items()}
        return found if sorted(found.values()) == [100, 200] else None

    # Both replicas announce themselves in the shared KopfPeering; the one with priority 100 stays paused
    # (kopf starts paused when peering is mandatory and resumes only if no peer outranks it).
    wait_for(peers, 30, "both replicas in the KopfPeering")

    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    rem = wait_for(lambda: next(iter(ops.items("remediations")), None), 30, "a Remediation")
    done = ops.wait_phase("remediations", rem["metadata"]["name"], *FINAL, timeout=45)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.memory_limit("hungry") == "96Mi", f"memory grown more than once: {ops.memory_limit('hungry')}")
    holds_for(
        lambda: len(ops.items("remediations")) == 1 and len(ops.items("errorevents")) == 1,
        2,
        "one ErrorEvent and one Remediation",
    )
    check("new ErrorEvent" in high.log(), "the high-priority replica did not act")
    check("new ErrorEvent" not in low.log() and "remediation " not in low.log(), "the paused replica acted")
