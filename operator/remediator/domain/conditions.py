"""Build and replace kubebuilder-style status conditions (metav1.Condition) in plain lists of dicts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from remediator.domain.clock import format_time

MAX_CONDITIONS = 16  # crds: status.conditions maxItems
_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")  # metav1.Condition's reason pattern
_STATUSES = {True: "True", False: "False"}


def make_condition(
    type_: str, status: bool | str, reason: str, message: str, now: datetime,
    observed_generation: int | None = None,
) -> dict[str, Any]:
    """One condition dict; status may be a bool or "True"/"False"/"Unknown"; reason must be CamelCase."""
    text = _STATUSES[status] if isinstance(status, bool) else status
    if text not in ("True", "False", "Unknown"):
        raise ValueError(f"condition status {status!r} must be True, False or Unknown")
    if not type_ or len(type_) > 64:
        raise ValueError(f"condition type {type_!r} must be 1..64 characters")
    if not _REASON.match(reason) or len(reason) > 64:
        raise ValueError(f"condition reason {reason!r} must be CamelCase, at most 64 characters")
    condition: dict[str, Any] = {"type": type_, "status": text, "reason": reason, "message": message[:1024],
                                 "lastTransitionTime": format_time(now)}
    if observed_generation is not None:
        condition["observedGeneration"] = observed_generation
    return condition


def get_condition(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    """The condition of this type, or None."""
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_true(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> bool:
    """Whether the condition of this type exists with status "True"."""
    condition = get_condition(conditions, type_)
    return condition is not None and condition.get("status") == "True"


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None, new: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A new list with `new` replacing the condition of its type (order kept, new types appended).

    lastTransitionTime changes only when the status changes; reason, message and observedGeneration are
    always updated. Raises ValueError past the CRD's 16 conditions.
    """
    out = [dict(c) for c in conditions or []]
    for i, old in enumerate(out):
        if old.get("type") == new.get("type"):
            merged = dict(new)
            if old.get("status") == new.get("status") and old.get("lastTransitionTime"):
                merged["lastTransitionTime"] = old["lastTransitionTime"]
            out[i] = merged
            return out
    if len(out) >= MAX_CONDITIONS:
        raise ValueError(f"at most {MAX_CONDITIONS} conditions fit the status")
    out.append(dict(new))
    return out


def remove_condition(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> list[dict[str, Any]]:
    """A new list without the condition of this type."""
    return [dict(c) for c in conditions or [] if c.get("type") != type_]
