"""Every step is durable: SIGKILL right after each status write (failpoints, see remediator/failpoints.py), and a
fresh replica finishes the Remediation exactly as an uninterrupted one would; a standby takes over in seconds.

The scenario fails on purpose so that it runs through every step: an OOMKilled Deployment at 32Mi gets
increase_memory to 48Mi, which the simulated kubelet still OOM-kills (below 64Mi), so verification fails and the
change is undone back to 32Mi.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for

pytestmark = pytest.mark.integration

LOOSE = {"autoApplyThreshold": 0.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
TAKEOVER_SECONDS = 15.0


def _oom_claim(ops: Ops, name: str, target: str) -> None:
    ops.errorevent(
        name,
        {
            "target": {"kind": "Deployment", "name": target},
            "reason": "OOMKilled",
            "exitCode": 137,
            "message": "container app was OOMKilled (exit code 137)",
            "source": "user",
        },
    )


def _oom_deployment(ops: Ops, name: str) -> None:
    ops.deployment(name, 1, fail="oom", memory="32Mi")
    wait_for(lambda: any("OOMKilled" in str(p.get("status")) for p in ops.pods(name)), 30, "an OOMKilled Pod")


def _the_remediation(ops: Ops) -> dict[str, Any]:
    return wait_for(lambda: next(iter(ops.items("remediations")), None), 30, "a Remediation")


@pytest.mark.parametrize("step", ["Approved", "Applying", "Verifying", "Undoing"])
def test_sigkill_after_each_durable_step_is_finished_by_the_next_replica(
    run_operator: OperatorFactory, ops: Ops, namespace: str, step: str
) -> None:
    ops.policy(**LOOSE)
    _oom_deployment(ops, "hungry")
    dying = run_operator(namespace, env={**NO_WATCH, "REMEDIATOR_FAILPOINTS": f"after-status:{step}"})
    _oom_claim(ops, "oom", "hungry")
    code = dying.proc.wait_exit(60)
    check(code == -signal.SIGKILL, f"the operator exited with {code}, not by SIGKILL at {step}")
    rem = _the_remediation(ops)
    check(rem["status"]["phase"] == step, f"killed after {step}, but status says {rem['status'].get('phase')}")

    run_operator(namespace, peering=dying.peering, env=NO_WATCH)
    done = ops.wait_phase("remediations", rem["metadata"]["name"], *FINAL, timeout=90)
    status = done["status"]
    check(status["phase"] == "Failed" and status["reason"] == "Undone", status)
    change = status["change"]
    check(change.get("undone") is True, f"the undo was lost: {change}")
    after = str(change.get("after"))
    check("48Mi" in after and "72Mi" not in after, f"memory was planned more than once: {change}")
    check(ops.memory_limit("hungry") == "32Mi", f"not back to 32Mi: {ops.memory_limit('hungry')}")
    check(len(ops.items("remediations")) == 1, "a second Remediation was made for the same ErrorEvent")


def test_a_standby_takes_over_within_15_seconds_of_the_leader_dying(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**LOOSE)
    _oom_deployment(ops, "hungry")
    leader = run_operator(namespace, peering="shared", priority=200, env=NO_WATCH)
    standby = run_operator(namespace, peering="shared", priority=100, env=NO_WATCH)

    def both() -> bool:
        obj = ops.custom.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", "shared")
        return sorted(int(v.get("priority", 0)) for v in (obj.get("status") or {}).values()) == [100, 200]

    wait_for(both, 30, "both replicas in the KopfPeering")
    leader.kill()
    killed = time.monotonic()
    _oom_claim(ops, "after-kill", "hungry")
    ee = wait_for(
        lambda: (ops.get("errorevents", "after-kill") or {}).get("status", {}).get("phase"),
        60,
        "the standby to triage the ErrorEvent",
    )
    took = time.monotonic() - killed
    print(f"fail-over: the standby triaged an ErrorEvent {took:.1f} s after the leader's SIGKILL")
    check(took <= TAKEOVER_SECONDS, f"the standby took {took:.1f} s (> {TAKEOVER_SECONDS} s) to act: {ee}")
    check(f"Remediation {namespace}/after-kill" in standby.log(), "the standby did not act")
