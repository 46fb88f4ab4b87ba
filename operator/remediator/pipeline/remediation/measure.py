"""Metrics of a Remediation's steps, taken from its status writes (a TransitionObserver): the first decision,
and the time from the failure first seen to the Remediation, to the change applied, to the fix verified.

Every time comes from status (failureSeenAt, creationTimestamp, appliedAt, completedAt), never from this
process's memory, so a step finished by another replica or after a restart measures the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator import api, metrics
from remediator.domain import clock
from remediator.pipeline.remediation.transition import Transition

REMEDIATION, APPLIED, VERIFIED = "remediation", "applied", "verified"


def step_latencies(before: Mapping[str, Any], rem: Mapping[str, Any], phase: str) -> dict[str, float]:
    """The failure-to-step latencies (seconds) that this write completes: none when the phase did not change,
    the failure time is unknown, or a step's own time is missing; never negative."""
    if before.get("phase") == phase:
        return {}
    status = rem.get("status") or {}
    seen = clock.parse_time(status.get("failureSeenAt"))
    if seen is None:
        return {}
    out: dict[str, float] = {}

    def since(step: str, value: Any) -> None:
        at = clock.parse_time(value) if isinstance(value, str) else None
        if at is not None:
            out[step] = max(0.0, (at - seen).total_seconds())

    if not before.get("phase"):
        since(REMEDIATION, (rem.get("metadata") or {}).get("creationTimestamp"))
    change = status.get("change") or {}
    if phase == api.Phase.VERIFYING and not change.get("dryRun"):
        since(APPLIED, status.get("appliedAt"))
    if phase == api.Phase.SUCCEEDED and (status.get("outcome") or {}).get("result") == api.Phase.SUCCEEDED:
        since(VERIFIED, status.get("completedAt"))
    return out


_HISTOGRAMS = {
    REMEDIATION: metrics.FAILURE_TO_REMEDIATION,
    APPLIED: metrics.FAILURE_TO_APPLIED,
    VERIFIED: metrics.FAILURE_TO_VERIFIED,
}


class TransitionMetrics:
    """Observes every Remediation status write (StatusWriter) and records decisions and latencies."""

    def transitioned(self, before: Mapping[str, Any], rem: Mapping[str, Any], t: Transition) -> None:
        action = str((rem.get("spec") or {}).get("action") or "unknown")
        if not before.get("phase") and t.phase != before.get("phase"):
            metrics.DECISIONS.labels(action=action, phase=t.phase, reason=t.reason).inc()
        for step, seconds in step_latencies(before, rem, t.phase).items():
            _HISTOGRAMS[step].labels(action=action).observe(seconds)
