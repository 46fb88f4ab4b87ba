"""In-flight records of Remediations and their summary (the scrape-time gauges), from status alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from remediator.domain.inflight import ACTIVE, STEP_WINDOW, InFlight, in_flight, summarize

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rem(status: dict[str, Any] | None = None, created: str | None = None) -> dict[str, Any]:
    return {"metadata": {"creationTimestamp": created or at(-1)}, "status": status or {}}


def test_final_remediations_are_not_in_flight() -> None:
    for phase in ("Succeeded", "Failed", "Rejected", "Skipped", "Expired"):
        assert in_flight(rem({"phase": phase})) is None


def test_an_unknown_phase_is_not_counted() -> None:
    assert in_flight(rem({"phase": "Bogus"})) is None


def test_each_phase_takes_the_deadline_the_operator_keeps_for_it() -> None:
    waiting = in_flight(rem({"phase": "PendingApproval", "proposedAt": at(-30), "expiresAt": at(30)}))
    assert waiting == InFlight("PendingApproval", NOW - timedelta(minutes=30), NOW + timedelta(minutes=30))
    verifying = in_flight(rem({"phase": "Verifying", "appliedAt": at(-5), "verifyUntil": at(5)}))
    assert verifying == InFlight("Verifying", None, NOW + timedelta(minutes=5))
    applying = in_flight(rem({"phase": "Applying", "approvedAt": at(-2)}))
    assert applying == InFlight("Applying", None, NOW - timedelta(minutes=2) + STEP_WINDOW)
    undoing = in_flight(rem({"phase": "Undoing", "completedAt": at(-1)}))
    assert undoing == InFlight("Undoing", None, NOW - timedelta(minutes=1) + STEP_WINDOW)
    undecided = in_flight(rem(None, created=at(-3)))
    assert undecided == InFlight("Proposed", None, NOW - timedelta(minutes=3) + STEP_WINDOW)


def test_a_malformed_time_in_status_gives_no_deadline_rather_than_an_error() -> None:
    item = in_flight(rem({"phase": "Verifying", "verifyUntil": "not a time"}))
    assert item == InFlight("Verifying", None, None)
    assert summarize([item], NOW).overdue["Verifying"] == 0  # type: ignore[list-item]


def test_summary_counts_every_active_phase_with_zeros_and_the_overdue_ones() -> None:
    items = [
        InFlight("PendingApproval", NOW - timedelta(minutes=40), NOW + timedelta(minutes=20)),
        InFlight("PendingApproval", NOW - timedelta(minutes=90), NOW - timedelta(minutes=30)),  # past expiresAt
        InFlight("Verifying", None, NOW + timedelta(seconds=10)),
        InFlight("Applying", None, None),
    ]
    s = summarize(items, NOW)
    assert set(s.in_phase) == set(ACTIVE)
    expected = {"Proposed": 0, "PendingApproval": 2, "Approved": 0, "Applying": 1, "Verifying": 1, "Undoing": 0}
    assert s.in_phase == expected
    assert s.overdue["PendingApproval"] == 1 and sum(s.overdue.values()) == 1
    assert s.approvals_pending == 2
    assert s.oldest_approval_seconds == 90 * 60


def test_nothing_waiting_is_an_oldest_age_of_zero() -> None:
    s = summarize([], NOW)
    assert s.approvals_pending == 0 and s.oldest_approval_seconds == 0.0
    assert sum(s.in_phase.values()) == 0
