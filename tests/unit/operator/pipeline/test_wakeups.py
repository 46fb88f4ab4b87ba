"""The wake-up scheduler: one entry per waiting Remediation, due at its status' deadline or soon after a poke,
each deadline reconciled once, failures retried with backoff, nothing done by a replica that does not act."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remediator.domain import clock
from remediator.pipeline.remediation import wakeups
from remediator.pipeline.remediation.wakeups import POKE_SECONDS, RETRY_SECONDS, Wakeups

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()
KEY = ("shop", "r1")


def at(seconds: float) -> str:
    return clock.format_time(datetime.fromtimestamp(T0 + seconds, UTC))


def pending(expires: float, uid: str = "u1", **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": "r1", "uid": uid, "creationTimestamp": at(-10)},
        "spec": {"target": {"kind": "Deployment", "name": "web"}},
        "status": {"phase": "PendingApproval", "expiresAt": at(expires), **extra},
    }


def verifying(until: float, stable_since: float | None = None) -> dict[str, Any]:
    conditions = []
    if stable_since is not None:
        conditions = [{"type": "Stable", "status": "True", "lastTransitionTime": at(stable_since)}]
    rem = pending(0)
    rem["status"] = {
        "phase": "Verifying",
        "appliedAt": at(until - 10),
        "verifyUntil": at(until),
        "conditions": conditions,
    }
    return rem


def scheduler() -> Wakeups:
    return Wakeups(lambda rem: None, clock=lambda: T0)


def keys(items: list[tuple[tuple[str, str], dict[str, Any]]]) -> list[tuple[str, str]]:
    return [k for k, _ in items]


def test_a_pending_approval_is_due_at_its_expiry_and_not_before() -> None:
    w = scheduler()
    w.track(pending(60))
    assert w.take_due(T0 + 59) == []
    due = w.take_due(T0 + 60)
    assert due == [(KEY, {"metadata": {"namespace": "shop", "name": "r1", "uid": "u1"}})]


def test_a_reached_deadline_is_reconciled_once_even_when_the_same_status_is_seen_again() -> None:
    w = scheduler()
    w.track(pending(60))
    assert keys(w.take_due(T0 + 61)) == [KEY]
    w.finished(KEY, T0 + 61)
    w.track(pending(60))  # e.g. a later watch event that did not change the deadline
    assert w.take_due(T0 + 1000) == []
    w.track(pending(2000))  # a status naming a new deadline schedules it
    assert keys(w.take_due(T0 + 2000)) == [KEY]


def test_final_and_deleted_remediations_are_forgotten() -> None:
    w = scheduler()
    w.track(pending(60))
    done = pending(60)
    done["status"]["phase"] = "Expired"
    w.track(done)
    assert len(w) == 0 and w.take_due(T0 + 100) == []
    w.track(pending(60))
    w.track(pending(60), gone=True)
    assert len(w) == 0 and w.take_due(T0 + 100) == []


def test_rescheduling_leaves_one_entry_due_at_the_new_time() -> None:
    w = scheduler()
    w.track(pending(60))
    w.track(pending(30))
    w.track(pending(90))
    assert w.take_due(T0 + 89) == []
    assert keys(w.take_due(T0 + 90)) == [KEY]
    assert w.take_due(T0 + 10_000) == []


def test_pokes_coalesce_and_wake_before_the_deadline() -> None:
    w = scheduler()
    w.track(verifying(300))
    w.poke(KEY)
    w.poke(KEY)
    w.poke(("shop", "unknown"))  # not tracked: nothing to wake
    assert w.take_due(T0 + POKE_SECONDS - 0.01) == []
    assert keys(w.take_due(T0 + POKE_SECONDS)) == [KEY]
    w.finished(KEY, T0 + 1)
    # The next wake (a look 5 s after the change at 290, then the window's end) is still ahead, not consumed
    # by the poke; both reached by 300 make one pass.
    assert w.take_due(T0 + 294) == []
    assert keys(w.take_due(T0 + 300)) == [KEY]


def test_a_poke_during_a_pass_runs_another_pass_after_it() -> None:
    w = scheduler()
    w.track(verifying(300))
    w.poke(KEY, delay=0)
    assert keys(w.take_due(T0)) == [KEY]
    w.poke(KEY, delay=0)  # the workload changed again while the pass ran
    assert w.take_due(T0 + 10) == []  # never two passes at once
    w.finished(KEY, T0 + 1)
    assert keys(w.take_due(T0 + 1 + POKE_SECONDS)) == [KEY]


def test_an_early_success_check_that_finds_it_pending_still_wakes_at_the_window_end() -> None:
    w = scheduler()
    w.track(verifying(until=300, stable_since=0))  # window 10 s -> early check at 5 s
    assert keys(w.take_due(T0 + 5)) == [KEY]
    w.finished(KEY, T0 + 5)  # judged Pending (e.g. restarts), status unchanged, no new event
    assert w.take_due(T0 + 299) == []
    assert keys(w.take_due(T0 + 300)) == [KEY]


def test_a_failed_pass_retries_with_growing_delays() -> None:
    w = scheduler()
    w.track(pending(0))
    assert keys(w.take_due(T0)) == [KEY]
    w.finished(KEY, T0, ok=False)
    assert w.take_due(T0 + RETRY_SECONDS - 0.1) == []
    assert keys(w.take_due(T0 + RETRY_SECONDS)) == [KEY]
    w.finished(KEY, T0 + RETRY_SECONDS, ok=False)
    assert w.take_due(T0 + 3 * RETRY_SECONDS - 0.1) == []
    assert keys(w.take_due(T0 + 3 * RETRY_SECONDS)) == [KEY]
    w.finished(KEY, T0 + 3 * RETRY_SECONDS)
    assert w.take_due(T0 + 10_000) == []


def test_a_new_object_of_the_same_name_gets_its_own_deadline() -> None:
    w = scheduler()
    w.track(pending(60, uid="old"))
    assert keys(w.take_due(T0 + 60)) == [KEY]
    w.finished(KEY, T0 + 60)
    w.track(pending(60, uid="new"))  # deleted and created again (the old one's DELETED event missed)
    assert w.take_due(T0 + 60) == [(KEY, {"metadata": {"namespace": "shop", "name": "r1", "uid": "new"}})]


def test_many_reschedules_do_not_grow_the_heap_without_bound() -> None:
    w = scheduler()
    for i in range(5000):
        w.track(pending(100_000 + i))
    assert len(w._heap) <= 2 * len(w) + 65


# -- the thread --------------------------------------------------------------------------------------------
def _now_plus(seconds: float) -> str:
    return clock.format_time(datetime.now(UTC) + timedelta(seconds=seconds))


def test_the_thread_reconciles_at_the_deadline_and_only_a_replica_that_acts() -> None:
    calls: list[float] = []
    fired = threading.Event()

    def reconcile(rem: dict[str, Any]) -> None:
        calls.append(time.time())
        fired.set()

    acting = Wakeups(reconcile)
    acting.start(lambda: True)
    standby_calls: list[dict[str, Any]] = []
    standby = Wakeups(standby_calls.append)
    standby.start(lambda: False)
    try:
        rem = pending(0)
        rem["status"]["expiresAt"] = _now_plus(1)
        deadline = datetime.fromisoformat(rem["status"]["expiresAt"].replace("Z", "+00:00")).timestamp()
        acting.track(rem)
        standby.track(rem)
        assert fired.wait(5), "not reconciled at the deadline"
        assert calls[0] >= deadline
        time.sleep(0.5)
        assert len(calls) == 1 and standby_calls == []
    finally:
        acting.stop()
        standby.stop()


def test_the_thread_retries_a_pass_that_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wakeups, "RETRY_SECONDS", 0.3)
    attempts: list[float] = []
    again = threading.Event()

    def flaky(rem: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RuntimeError("API server down")
        again.set()

    w = Wakeups(flaky)
    w.start()
    try:
        rem = pending(0)
        rem["status"]["expiresAt"] = _now_plus(-5)  # already past: at once
        w.track(rem)
        assert again.wait(3), f"no retry: {attempts}"
        assert attempts[1] - attempts[0] >= 0.25
    finally:
        w.stop()
