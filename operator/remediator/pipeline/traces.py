"""Incident traces from the pipeline's steps: a TransitionObserver of Remediation status writes, a hook of
triage (detection, classification, decision) and one of people's verdicts, each handing the spans the step
completed (domain/incident_trace) to the span sink without waiting for it.

The trace context is read from the custom resources' status.trace, never from this process's memory, so a
step finished after an operator restart or by another replica lands in the same trace."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from remediator.domain import clock, incident_trace
from remediator.domain.incident_trace import SpanRecord
from remediator.pipeline.remediation.decision import failure_seen_at
from remediator.pipeline.remediation.transition import Transition

log = logging.getLogger(__name__)


class SpanSink(Protocol):
    def emit(self, records: Iterable[SpanRecord]) -> None:
        """Take finished spans without blocking (queue or drop)."""


class IncidentTraces:
    def __init__(self, sink: SpanSink) -> None:
        self.sink = sink

    def transitioned(self, before: Mapping[str, Any], rem: Mapping[str, Any], t: Transition) -> None:
        trace = incident_trace.from_status((rem.get("status") or {}).get("trace"))
        if trace is None:  # written before tracing existed: nothing to join
            return
        self.sink.emit(incident_trace.transition_spans(before, rem, trace, clock.now()))

    def triaged(
        self, ee: Mapping[str, Any], status: Mapping[str, Any], started: dt.datetime, classified: dt.datetime | None
    ) -> None:
        """An ErrorEvent's triage finished with `status` (about to be written by its handler)."""
        trace = incident_trace.from_status(status.get("trace"))
        if trace is None:
            return
        seen = failure_seen_at(dict(ee))
        spans = incident_trace.triage_spans(ee, status, trace, seen, started, classified, clock.now())
        self.sink.emit(spans)

    def judged(self, rem: Mapping[str, Any], judgment: Mapping[str, Any]) -> None:
        trace = incident_trace.from_status((rem.get("status") or {}).get("trace"))
        if trace is not None:
            self.sink.emit([incident_trace.judgment_span(rem, judgment, trace, clock.now())])
