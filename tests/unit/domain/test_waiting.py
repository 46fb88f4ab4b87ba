"""When a waiting Remediation is next looked at, and which workload events concern it, from status alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from remediator.domain.inflight import STEP_WINDOW
from remediator.domain.waiting import stable_seconds, verified_workload, wake_times, workloads_changed

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (NOW + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rem(status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": "r1", "creationTimestamp": at(-60)},
        "spec": {"target": {"kind": "Deployment", "name": "web"}},
        "status": status or {},
    }


def stable(status: str, since: float) -> dict[str, Any]:
    return {"type": "Stable", "status": status, "reason": "AllReady", "message": "", "lastTransitionTime": at(since)}


def next_wake(r: dict[str, Any]) -> datetime | None:
    times = wake_times(r)
    return times[0] if times else None


def test_a_pending_approval_wakes_at_its_expiry() -> None:
    assert wake_times(rem({"phase": "PendingApproval", "expiresAt": at(3600)})) == [NOW + timedelta(hours=1)]


def test_final_remediations_never_wake() -> None:
    for phase in ("Succeeded", "Failed", "Rejected", "Skipped", "Expired"):
        assert next_wake(rem({"phase": phase, "expiresAt": at(10), "verifyUntil": at(10)})) is None


def test_a_verification_not_yet_stable_is_looked_at_a_few_times_then_at_the_end_of_its_window() -> None:
    # Its workload's events may have come before the index knew it verifies: six looks, 5 s apart after
    # the change, then the window's end (the past ones collapse into one pass in the scheduler).
    status = {"phase": "Verifying", "appliedAt": at(-10), "verifyUntil": at(290), "conditions": [stable("False", -5)]}
    looks = [NOW + timedelta(seconds=-10 + 5 * k) for k in range(1, 7)]
    assert wake_times(rem(status)) == [*looks, NOW + timedelta(seconds=290)]


def test_the_looks_never_pass_the_window_end_and_stop_once_stable() -> None:
    short = {"phase": "Verifying", "appliedAt": at(0), "verifyUntil": at(12)}
    assert wake_times(rem(short)) == [
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=10),
        NOW + timedelta(seconds=12),
    ]
    steady = {"phase": "Verifying", "appliedAt": at(-20), "verifyUntil": at(280), "conditions": [stable("True", -10)]}
    assert len(wake_times(rem(steady))) == 2  # early success and the window's end, no looks


def test_a_stable_verification_wakes_when_it_may_succeed_early() -> None:
    # Window 300 s -> stable for min(60, 150) = 60 s; Stable since 10 s ago -> 50 s from now.
    status = {"phase": "Verifying", "appliedAt": at(-20), "verifyUntil": at(280), "conditions": [stable("True", -10)]}
    # Early success first; the end of the window stays (the early check may find restarts and wait on).
    assert wake_times(rem(status)) == [NOW + timedelta(seconds=50), NOW + timedelta(seconds=280)]
    # A short window (10 s) needs half of it: stable since 2 s ago -> 3 s from now, before the window ends.
    short = {"phase": "Verifying", "appliedAt": at(-4), "verifyUntil": at(6), "conditions": [stable("True", -2)]}
    assert next_wake(rem(short)) == NOW + timedelta(seconds=3)


def test_the_early_success_time_never_postpones_the_window_end() -> None:
    status = {"phase": "Verifying", "appliedAt": at(-299), "verifyUntil": at(1), "conditions": [stable("True", 0)]}
    assert next_wake(rem(status)) == NOW + timedelta(seconds=1)


def test_stable_seconds_is_half_the_recorded_window_at_most_sixty() -> None:
    assert stable_seconds({"appliedAt": at(0), "verifyUntil": at(10)}) == 5
    assert stable_seconds({"appliedAt": at(0), "verifyUntil": at(600)}) == 60
    assert stable_seconds({"appliedAt": at(0)}) is None
    assert stable_seconds({"appliedAt": "garbage", "verifyUntil": at(10)}) is None


def test_steps_and_undecided_remediations_wake_at_their_step_window() -> None:
    assert next_wake(rem({"phase": "Applying", "approvedAt": at(0)})) == NOW + STEP_WINDOW
    assert next_wake(rem(None)) == NOW - timedelta(seconds=60) + STEP_WINDOW


def test_a_malformed_stable_time_falls_back_to_the_window_end() -> None:
    bad = {**stable("True", 0), "lastTransitionTime": "not a time"}
    status = {"phase": "Verifying", "appliedAt": at(-20), "verifyUntil": at(280), "conditions": [bad]}
    assert next_wake(rem(status)) == NOW + timedelta(seconds=280)


def test_the_verified_workload_is_the_target_in_the_remediations_namespace() -> None:
    assert verified_workload(rem()) == ("shop", "Deployment", "web")


def test_a_workload_event_concerns_the_workload_itself() -> None:
    sts = {"kind": "StatefulSet", "metadata": {"namespace": "shop", "name": "db"}}
    assert workloads_changed(sts) == [("shop", "StatefulSet", "db")]


def test_a_pod_event_concerns_the_pod_and_its_deployment_found_from_the_replicaset_name() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {
            "namespace": "shop",
            "name": "web-7d9f8-abcde",
            "labels": {"pod-template-hash": "7d9f8"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9f8", "controller": True}],
        },
    }
    assert workloads_changed(pod) == [("shop", "Pod", "web-7d9f8-abcde"), ("shop", "Deployment", "web")]


def test_a_pod_of_a_statefulset_concerns_the_statefulset_and_an_odd_owner_only_the_pod() -> None:
    sts_pod = {
        "metadata": {
            "namespace": "shop",
            "name": "db-0",
            "ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": True}],
        }
    }
    assert workloads_changed(sts_pod) == [("shop", "Pod", "db-0"), ("shop", "StatefulSet", "db")]
    # A ReplicaSet not named <deployment>-<hash> (no Deployment owns it) and a non-controller owner: the Pod only.
    odd = {
        "metadata": {
            "namespace": "shop",
            "name": "p",
            "labels": {"pod-template-hash": "zz"},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": "standalone", "controller": True},
                {"kind": "StatefulSet", "name": "x"},
            ],
        }
    }
    assert workloads_changed(odd) == [("shop", "Pod", "p")]


def test_a_pod_names_workloads_of_its_own_namespace_only() -> None:
    # Pod metadata is a tenant's to write: whatever owner it claims, it can only wake (never act on) the
    # Remediations verifying workloads in its own namespace, and a wake is a re-read, not a change.
    forged = {
        "metadata": {
            "namespace": "tenant",
            "name": "web-abc-x",
            "labels": {"pod-template-hash": "abc"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True, "namespace": "shop"}],
        }
    }
    assert {ns for ns, _, _ in workloads_changed(forged)} == {"tenant"}
