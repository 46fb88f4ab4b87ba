"""What one step of a Remediation decided: the phase it leads to, why, and the status fields to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Transition:
    """A step's result, applied by StatusWriter (the only writer of a Remediation's status).

    `conditions` are extra (type, status, reason, message) conditions beyond the standard ones the phase
    implies; `event=False` writes status without posting an Event (e.g. a Stable condition flipping)."""

    phase: str
    reason: str
    message: str
    warning: bool = False
    event: bool = True
    fields: dict[str, Any] = field(default_factory=dict)
    conditions: tuple[tuple[str, str, str, str], ...] = ()
