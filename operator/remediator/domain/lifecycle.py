"""A Remediation's standard conditions, computed from its phase in one place, so they describe the present.

Approved, Processing and Succeeded follow the medik8s remediation contract (Processing/Succeeded) plus
cert-manager's approval condition; a Succeeded Remediation never still says it is processing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from remediator.domain.conditions import get_condition, make_condition, set_condition

WAITING = "PendingApproval"
PROCESSING = frozenset({"Approved", "Applying", "Verifying", "Undoing"})
FINAL = frozenset({"Succeeded", "Failed", "Rejected", "Skipped", "Expired"})
NOT_APPROVED = frozenset({"Rejected", "Expired"})


def standard_conditions(
    conditions: Sequence[Mapping[str, Any]] | None,
    phase: str,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """`conditions` with Approved, Processing and Succeeded set for a Remediation entering `phase`."""

    def cond(type_: str, status: str, why: str = reason, text: str = message) -> dict[str, Any]:
        return make_condition(type_, status, why, text, now, generation)

    out = [dict(c) for c in conditions or []]
    approved = get_condition(out, "Approved")
    if phase == WAITING:
        out = set_condition(out, cond("Approved", "Unknown", "AwaitingApproval", "waiting for a human's approval"))
    elif phase in NOT_APPROVED:
        out = set_condition(out, cond("Approved", "False"))
    elif phase == "Approved" or (phase in PROCESSING and approved is None):
        out = set_condition(out, cond("Approved", "True"))
    elif phase == "Skipped" and (approved is None or approved.get("status") == "Unknown"):
        out = set_condition(out, cond("Approved", "False"))

    if phase in PROCESSING:
        out = set_condition(out, cond("Processing", "True"))
    elif phase == WAITING:
        out = set_condition(out, cond("Processing", "False", "AwaitingApproval", "nothing is changed before approval"))
    else:
        out = set_condition(out, cond("Processing", "False"))

    if phase in FINAL:
        out = set_condition(out, cond("Succeeded", "True" if phase == "Succeeded" else "False"))
    else:
        out = set_condition(out, cond("Succeeded", "Unknown", "InProgress", f"{phase}: not finished"))
    return out
