"""The operator end to end: Pod failures in the cluster become ErrorEvents and Remediations, applied and verified."""

from __future__ import annotations

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}


def test_crashing_deployment_gets_errorevent_and_remediation(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace)
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")

    ee = wait_for(lambda: next(iter(ops.items("errorevents")), None), 30, "an ErrorEvent for the OOMing Deployment")
    check(ee["spec"]["source"] == "cluster", f"source: {ee['spec']}")
    check(ee["spec"]["target"]["kind"] == "Deployment" and ee["spec"]["target"]["name"] == "hungry", ee["spec"])
    classified = ops.wait_phase("errorevents", ee["metadata"]["name"], "Classified", "Remediating", "Resolved")
    classification = classified["status"]["classification"]
    check(classification["errorType"] == "oom", f"classification {classification}")

    rem_name = classified["status"]["remediationRef"]["name"]
    rem = ops.get("remediations", rem_name)
    assert rem is not None
    check(rem["spec"]["target"] == {**rem["spec"]["target"], "kind": "Deployment", "name": "hungry"}, rem["spec"])
    check(rem["spec"]["action"] == "increase_memory", f"action {rem['spec']['action']}")

    done = ops.wait_phase("remediations", rem_name, "Succeeded", "Failed", "Skipped", timeout=45)
    check(done["status"]["phase"] == "Succeeded", f"remediation ended {done['status']}")
    check(ops.memory_limit("hungry") == "96Mi", f"limit now {ops.memory_limit('hungry')}")
    pods = ops.running_pods("hungry", 1)
    check(pods[0]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "96Mi", pods[0]["spec"])
    check(done["status"]["change"]["before"]["limits"]["memory"] == "64Mi", done["status"]["change"])
    holds_for(lambda: len(ops.items("remediations")) == 1, 2, "a single Remediation")


def test_fifty_failing_pods_make_one_errorevent_and_one_remediation(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)  # proposals only: the Deployment stays as it is
    run_operator(namespace)
    ops.deployment("many", 50, fail="crashloop")

    def all_crashing() -> bool:
        pods = ops.pods("many")
        waiting = [
            p
            for p in pods
            if any((s.get("state") or {}).get("waiting") for s in p.get("status", {}).get("containerStatuses") or [])
        ]
        return len(waiting) == 50

    wait_for(all_crashing, 45, "50 Pods in CrashLoopBackOff")
    ee = wait_for(lambda: ops.items("errorevents"), 20, "an ErrorEvent")
    # Every Pod is seen (count grows), but all 50 land on one ErrorEvent and one Remediation.
    wait_for(lambda: ops.items("errorevents")[0]["spec"].get("count", 1) >= 10, 20, "the ErrorEvent counting Pods")
    holds_for(
        lambda: len(ops.items("errorevents")) == 1 and len(ops.items("remediations")) <= 1, 3, "a single ErrorEvent"
    )
    ee = ops.items("errorevents")
    rems = wait_for(lambda: ops.items("remediations"), 20, "a Remediation")
    check(len(ee) == 1, f"{len(ee)} ErrorEvents: {[e['metadata']['name'] for e in ee]}")
    check(len(rems) == 1, f"{len(rems)} Remediations: {[r['metadata']['name'] for r in rems]}")
    check(rems[0]["spec"]["target"]["name"] == "many", rems[0]["spec"])
    check(ee[0]["status"]["remediationRef"]["name"] == rems[0]["metadata"]["name"], ee[0]["status"])
