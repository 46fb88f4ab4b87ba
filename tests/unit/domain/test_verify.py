"""verify.py: Succeeded / Failed / Pending from snapshots after a change."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from remediator.domain.verify import VerifySnapshot, judge, next_ready_since
from tests.unit.domain.builders import T0

DEADLINE = T0 + timedelta(seconds=120)
BASE = VerifySnapshot(
    now=T0 + timedelta(seconds=20),
    deadline=DEADLINE,
    desired_replicas=3,
    ready_replicas=3,
    restarts_at_apply={"web-1": 5, "web-2": 0},
    restarts_now={"web-1": 5, "web-2": 0},
)


def test_same_failure_again_fails_verification() -> None:
    outcome = judge(replace(BASE, same_failure_seen=True))
    assert (outcome.result, outcome.reason) == ("Failed", "FailureRecurred")
    assert outcome.to_status() is not None and outcome.to_status()["result"] == "Failed"


def test_healthy_but_not_yet_stable_is_pending() -> None:
    outcome = judge(replace(BASE, ready_since=T0 + timedelta(seconds=10)))
    assert (outcome.result, outcome.reason) == ("Pending", "Stabilizing")
    assert outcome.to_status() is None


def test_stable_for_the_minimum_period_succeeds_early() -> None:
    outcome = judge(replace(BASE, now=T0 + timedelta(seconds=75), ready_since=T0 + timedelta(seconds=15)))
    assert (outcome.result, outcome.reason) == ("Succeeded", "StableEarly")
    assert outcome.to_status() == {
        "result": "Succeeded",
        "message": outcome.message,
        "readyReplicas": 3,
        "restartsDuringWindow": 0,
    }


def test_restart_of_a_surviving_pod_blocks_success_and_fails_at_deadline() -> None:
    restarted = replace(BASE, restarts_now={"web-1": 6, "web-2": 0}, ready_since=T0)
    assert judge(replace(restarted, now=T0 + timedelta(seconds=100))).result == "Pending"
    outcome = judge(replace(restarted, now=DEADLINE))
    assert (outcome.result, outcome.reason, outcome.restarts_during_window) == (
        "Failed",
        "RestartedDuringWindow",
        1,
    )


def test_replaced_pods_count_restarts_from_zero() -> None:
    replaced = replace(BASE, restarts_now={"web-9": 2, "web-2": 0}, now=DEADLINE)
    assert judge(replaced).restarts_during_window == 2
    clean = replace(BASE, restarts_now={"web-9": 0, "web-2": 0}, now=DEADLINE)
    assert judge(clean).result == "Succeeded"


def test_deadline_without_readiness_fails() -> None:
    outcome = judge(replace(BASE, ready_replicas=1, now=DEADLINE + timedelta(seconds=1)))
    assert (outcome.result, outcome.reason) == ("Failed", "NotReadyInTime")
    assert "1/3 ready" in outcome.message


def test_rollout_in_progress_is_not_success() -> None:
    outcome = judge(replace(BASE, updated_replicas=1, now=T0 + timedelta(seconds=100), ready_since=T0))
    assert outcome.result == "Pending"


def test_ready_since_is_kept_while_healthy_and_cleared_otherwise() -> None:
    assert next_ready_since(BASE) == BASE.now
    assert next_ready_since(replace(BASE, ready_since=T0)) == T0
    assert next_ready_since(replace(BASE, ready_replicas=2, ready_since=T0)) is None


def test_old_pods_still_failing_during_rollout_do_not_count_as_recurrence() -> None:
    from remediator.domain.verify import failure_recurred
    from tests.unit.domain.builders import crashloop_status, pod

    old = pod("web-old", [crashloop_status(restarts=5, exit_code=137, reason="OOMKilled")], ready=False)
    at_apply = {"web-old": 5}
    assert not failure_recurred([old], "oom", T0, at_apply)
    # The old Pod OOMs again after the change: recurrence.
    again = pod("web-old", [crashloop_status(restarts=6, exit_code=137, reason="OOMKilled")], ready=False)
    assert failure_recurred([again], "oom", T0 - timedelta(minutes=5), at_apply)
    # A Pod created by the rollout shows the same family: recurrence.
    new = pod("web-new", [crashloop_status(restarts=1, exit_code=137, reason="OOMKilled")], ready=False)
    assert failure_recurred([old, new], "oom", T0 - timedelta(minutes=5), at_apply)
    assert not failure_recurred([old, new], "crash", T0 - timedelta(minutes=5), at_apply)
