"""Standard conditions describe the present: a finished Remediation is no longer processing."""

from __future__ import annotations

import datetime as dt

from remediator.domain.conditions import get_condition
from remediator.domain.lifecycle import standard_conditions

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _status(conditions: list[dict], type_: str) -> str | None:
    c = get_condition(conditions, type_)
    return None if c is None else str(c["status"])


def _walk(*phases: str) -> list[dict]:
    conditions: list[dict] = []
    for phase in phases:
        conditions = standard_conditions(conditions, phase, f"{phase}Reason", f"now {phase}", NOW)
    return conditions


def test_pending_approval_is_unknown_approval_and_not_processing() -> None:
    c = _walk("PendingApproval")
    assert (_status(c, "Approved"), _status(c, "Processing"), _status(c, "Succeeded")) == (
        "Unknown",
        "False",
        "Unknown",
    )


def test_applying_and_verifying_are_processing() -> None:
    for phase in ("Applying", "Verifying"):
        c = _walk("PendingApproval", "Approved", phase)
        assert _status(c, "Processing") == "True" and _status(c, "Approved") == "True"


def test_succeeded_clears_processing() -> None:
    c = _walk("PendingApproval", "Approved", "Applying", "Verifying", "Succeeded")
    assert (_status(c, "Approved"), _status(c, "Processing"), _status(c, "Succeeded")) == ("True", "False", "True")
    assert {x["type"] for x in c} == {"Approved", "Processing", "Succeeded"}, "no condition named after a phase"


def test_rejected_and_expired_are_not_approved() -> None:
    for final in ("Rejected", "Expired"):
        c = _walk("PendingApproval", final)
        assert (_status(c, "Approved"), _status(c, "Succeeded")) == ("False", "False")


def test_skipped_before_any_approval_is_not_approved_but_a_dry_run_after_approval_stays_approved() -> None:
    assert _status(_walk("Skipped"), "Approved") == "False"
    assert _status(_walk("Approved", "Skipped"), "Approved") == "True"


def test_failed_after_applying_keeps_the_approval_and_fails() -> None:
    c = _walk("Approved", "Applying", "Verifying", "Failed")
    assert (_status(c, "Approved"), _status(c, "Processing"), _status(c, "Succeeded")) == ("True", "False", "False")
