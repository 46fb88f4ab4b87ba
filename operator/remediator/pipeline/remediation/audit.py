"""The audit stream's TransitionObserver: each audited step of a Remediation becomes one record, enqueued.

StatusWriter calls it after the status write landed, so a record describes what the cluster holds; building
and enqueueing it is all that happens on the reconcile's path (the writer's thread does the sending)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from remediator.domain import audit, clock
from remediator.pipeline.remediation.transition import Transition


class RecordSink(Protocol):
    def write(self, message: str) -> None:
        """Take one encoded record without blocking."""


class AuditTrail:
    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink

    def transitioned(self, before: Mapping[str, Any], rem: Mapping[str, Any], t: Transition) -> None:
        if audit.is_audited(before, rem.get("status") or {}):
            self.sink.write(audit.encode(audit.decision_record(before, rem, clock.now())))

    def judged(self, rem: Mapping[str, Any], judgment: Mapping[str, Any]) -> None:
        """A person's verdict, once it is in status.judgments (FeedbackRecorder's on_judgment hook)."""
        self.sink.write(audit.encode(audit.judgment_record(rem, judgment, clock.now())))
