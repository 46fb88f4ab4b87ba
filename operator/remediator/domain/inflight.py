"""What the Remediations not yet final say about the operator right now: how many are in each phase, how long
the oldest approval has waited, and which ones have outstayed the window their phase allows.

Each phase has a deadline by which the operator itself moves a Remediation on (it expires an approval at
expiresAt, judges a verification at verifyUntil, fails a step after STEP_DEADLINE); one still in its phase
well past that deadline means the operator is not doing its job, which is what the stuck alert asks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from remediator.domain.clock import parse_time
from remediator.domain.lifecycle import FINAL, WAITING

PROPOSED = "Proposed"  # created, not decided yet (no status.phase)
# Every phase a Remediation can be in before it is final, in lifecycle order (gauges export each, zeros too).
ACTIVE = (PROPOSED, WAITING, "Approved", "Applying", "Verifying", "Undoing")
# A step that talks to the API server fails itself after this long (the Reconciler's STEP_DEADLINE); an
# undecided Remediation is decided on its first pass, which this also bounds.
STEP_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class InFlight:
    """One Remediation not yet final: its phase, since when it waits for a human (PendingApproval), and the
    time by which its phase should have ended (None: unknown, never counted as overdue)."""

    phase: str
    waiting_since: datetime | None
    deadline: datetime | None


def in_flight(rem: Mapping[str, Any]) -> InFlight | None:
    """The in-flight record of a Remediation as the watch delivers it; None once it is final."""
    status = rem.get("status") or {}
    phase = str(status.get("phase") or PROPOSED)
    if phase in FINAL or phase not in ACTIVE:
        return None

    def at(key: str) -> datetime | None:
        try:
            return parse_time(status.get(key))
        except ValueError:  # status is ours, but a bad value must not break a scrape
            return None

    def after(key: str) -> datetime | None:
        began = at(key)
        return began + STEP_WINDOW if began is not None else None

    if phase == WAITING:
        return InFlight(phase, at("proposedAt"), at("expiresAt"))
    if phase == "Verifying":
        return InFlight(phase, None, at("verifyUntil"))
    if phase == "Undoing":
        return InFlight(phase, None, after("completedAt"))
    if phase in ("Approved", "Applying"):
        return InFlight(phase, None, after("approvedAt"))
    created = (rem.get("metadata") or {}).get("creationTimestamp")
    began = parse_time(created) if isinstance(created, str) else None
    return InFlight(phase, None, began + STEP_WINDOW if began is not None else None)


@dataclass(frozen=True)
class Summary:
    in_phase: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    approvals_pending: int = 0
    oldest_approval_seconds: float = 0.0  # 0 when none waits


def summarize(items: Iterable[InFlight], now: datetime) -> Summary:
    """Counts per phase (every active phase present, zeros too), the overdue ones per phase, and the age of the
    oldest approval waiting."""
    in_phase = dict.fromkeys(ACTIVE, 0)
    overdue = dict.fromkeys(ACTIVE, 0)
    oldest: datetime | None = None
    for item in items:
        in_phase[item.phase] = in_phase.get(item.phase, 0) + 1
        if item.deadline is not None and now > item.deadline:
            overdue[item.phase] = overdue.get(item.phase, 0) + 1
        if item.phase == WAITING and item.waiting_since is not None:
            oldest = item.waiting_since if oldest is None else min(oldest, item.waiting_since)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Summary(in_phase, overdue, in_phase[WAITING], age)
