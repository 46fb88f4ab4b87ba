"""One trace per incident, pure: its context (kept in both custom resources' status.trace) and which spans
each step of the incident completes, with their times and attributes.

    incident (root: failure first seen -> final)
    ├── detection        failure first seen -> the operator picks the ErrorEvent up
    ├── classification   the model's prediction
    ├── decision         policy and history -> a Remediation (or none)
    ├── approval wait    proposed -> approved, rejected or expired (zero length when the policy approves)
    ├── apply            approved -> applied
    │   ├── dry run      plan and server-side dry run -> the requests recorded
    │   └── patch        the recorded requests sent
    ├── verify           applied -> the verdict
    ├── undo             the verdict -> the change reversed
    └── feedback         the verdict the model learns from (the operator's own, then each person's)

Every span id is derived from the trace id and the span's key, and every start time comes from status, so
whichever process (or replica, or restarted operator) completes a step emits the same span of the same tree.
The ErrorEvent's trace continues into its Remediation: both carry the same traceparent (the root's span id).

A `remediator.dev/traceparent` annotation is a user's word: at most it makes the incident join that trace
(the root becomes a child of the annotation's span). It is validated strictly and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from remediator.domain import clock, trace_context
from remediator.domain.trace_context import InvalidTraceparent, TraceParent

ANNOTATION = "remediator.dev/traceparent"
# An annotation value longer than this is refused before it is looked at (a traceparent has 55 characters).
ANNOTATION_MAX = 256

INCIDENT, DETECTION, CLASSIFICATION, DECISION = "incident", "detection", "classification", "decision"
APPROVAL, APPLY, DRY_RUN, PATCH = "approval wait", "apply", "dry run", "patch"
VERIFY, UNDO, FEEDBACK = "verify", "undo", "feedback"

_FINAL = frozenset({"Succeeded", "Failed", "Rejected", "Skipped", "Expired"})
_APPROVAL_ENDS = frozenset({"Approved", "Rejected", "Expired"})


@dataclass(frozen=True)
class IncidentTrace:
    """The trace of one incident: its id, the root span's id, and the span it continues (if any)."""

    trace_id: str
    root_span_id: str
    parent_span_id: str | None = None
    flags: int = trace_context.SAMPLED
    refused: str | None = None  # why a traceparent annotation was not joined

    @property
    def traceparent(self) -> TraceParent:
        return TraceParent(self.trace_id, self.root_span_id, self.flags)

    def to_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"traceparent": self.traceparent.format(), "traceId": self.trace_id}
        if self.parent_span_id:
            out["parentSpanId"] = self.parent_span_id
        if self.refused:
            out["refused"] = self.refused[:128]
        return out

    def span_id(self, *key: str) -> str:
        return trace_context.derive_span_id(self.trace_id, *key)


def from_status(value: object) -> IncidentTrace | None:
    """status.trace as the operator wrote it, or None when it is missing or not well-formed."""
    if not isinstance(value, Mapping):
        return None
    parent = trace_context.parse_or_none(value.get("traceparent"))
    if parent is None or value.get("traceId") != parent.trace_id:
        return None
    upstream = value.get("parentSpanId")
    return IncidentTrace(
        parent.trace_id,
        parent.span_id,
        upstream if trace_context.valid_span_id(upstream) else None,
        parent.flags,
        str(value["refused"])[:128] if value.get("refused") else None,
    )


def _new(seed_uid: str, joined: TraceParent | None, refused: str | None) -> IncidentTrace:
    trace_id = joined.trace_id if joined is not None else trace_context.derive_trace_id(seed_uid)
    root = trace_context.derive_span_id(trace_id, INCIDENT, seed_uid)
    # The flags are ours: a caller may name a trace to join, not switch tracing of an incident off.
    return IncidentTrace(trace_id, root, joined.span_id if joined is not None else None, trace_context.SAMPLED, refused)


def joined_parent(annotations: object) -> tuple[TraceParent | None, str | None]:
    """(the traceparent of the annotation, why it was refused): at most one of them is not None."""
    if not isinstance(annotations, Mapping) or ANNOTATION not in annotations:
        return None, None
    raw = annotations.get(ANNOTATION)
    if not isinstance(raw, str):
        return None, f"{ANNOTATION} is not a string"
    if len(raw) > ANNOTATION_MAX:
        return None, f"{ANNOTATION} is longer than {ANNOTATION_MAX} characters"
    try:
        return trace_context.parse(raw), None
    except InvalidTraceparent as err:
        return None, f"{ANNOTATION}: {err}"


def for_errorevent(ee: Mapping[str, Any]) -> IncidentTrace:
    """The ErrorEvent's trace: the one its status already names (a retry, a restart), else one joining its
    traceparent annotation, else one derived from its uid."""
    meta = ee.get("metadata") or {}
    kept = from_status((ee.get("status") or {}).get("trace"))
    if kept is not None:
        return kept
    joined, refused = joined_parent(meta.get("annotations"))
    return _new(str(meta.get("uid") or meta.get("name") or ""), joined, refused)


def for_remediation(rem: Mapping[str, Any], errorevent: Mapping[str, Any] | None) -> IncidentTrace:
    """A Remediation's trace: its own status.trace, else its ErrorEvent's, else one derived from its uid
    (a user's proposal without an ErrorEvent). A Remediation's annotations are never read for it."""
    kept = from_status((rem.get("status") or {}).get("trace"))
    if kept is not None:
        return kept
    if errorevent is not None:
        inherited = from_status((errorevent.get("status") or {}).get("trace"))
        if inherited is not None:
            return inherited
    return _new(str((rem.get("metadata") or {}).get("uid") or ""), None, None)


# -- spans ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpanRecord:
    """A finished span: ids, name, times (UTC) and attributes; `error` marks a failed step."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start: dt.datetime
    end: dt.datetime
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)
    error: bool = False
    flags: int = trace_context.SAMPLED
    upstream_span_id: str | None = None  # the span the incident continues: a sampler decides by it


def _span(
    trace: IncidentTrace,
    name: str,
    key: tuple[str, ...],
    start: dt.datetime | None,
    end: dt.datetime,
    attributes: Mapping[str, Any],
    *,
    parent: str | None = None,
    error: bool = False,
) -> SpanRecord:
    begin = start if start is not None and start <= end else end
    attrs = {k: v for k, v in attributes.items() if isinstance(v, str | int | float | bool) and v != ""}
    return SpanRecord(
        trace.trace_id,
        trace.span_id(*key),
        parent or trace.root_span_id,
        name,
        begin,
        end,
        attrs,
        error,
        trace.flags,
        trace.parent_span_id,
    )


def root_span(
    trace: IncidentTrace, start: dt.datetime | None, end: dt.datetime, attributes: Mapping[str, Any], error: bool
) -> SpanRecord:
    begin = start if start is not None and start <= end else end
    attrs = {k: v for k, v in attributes.items() if isinstance(v, str | int | float | bool) and v != ""}
    return SpanRecord(
        trace.trace_id,
        trace.root_span_id,
        trace.parent_span_id,
        INCIDENT,
        begin,
        end,
        attrs,
        error,
        trace.flags,
        trace.parent_span_id,
    )


def _time(value: object) -> dt.datetime | None:
    try:
        return clock.parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def errorevent_attributes(ee: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    meta, spec = ee.get("metadata") or {}, ee.get("spec") or {}
    target = spec.get("target") or {}
    classification = status.get("classification") or {}
    return {
        "k8s.namespace.name": str(meta.get("namespace") or ""),
        "remediator.workload.kind": str(target.get("kind") or ""),
        "remediator.workload.name": str(target.get("name") or ""),
        "remediator.errorevent": str(meta.get("name") or ""),
        "remediator.source": str(spec.get("source") or ""),
        "remediator.error_type": str(classification.get("errorType") or ""),
        "remediator.action": str(classification.get("action") or ""),
        "remediator.confidence": classification.get("confidence"),
        "remediator.model_version": str(classification.get("modelVersion") or ""),
    }


def triage_spans(
    ee: Mapping[str, Any],
    status: Mapping[str, Any],
    trace: IncidentTrace,
    seen: dt.datetime | None,
    started: dt.datetime,
    classified: dt.datetime | None,
    now: dt.datetime,
) -> list[SpanRecord]:
    """What one triage of an ErrorEvent completed: detection, classification, decision; and the whole
    incident when no Remediation of its own follows (ignored, invalid, or another Remediation is active)."""
    common = errorevent_attributes(ee, status)
    phase = str(status.get("phase") or "")
    spec = ee.get("spec") or {}
    name = str((ee.get("metadata") or {}).get("name") or "")
    own = (status.get("remediationRef") or {}).get("name") == name and phase == "Remediating"
    outcome = {**common, "remediator.outcome": phase, "remediator.reason": _reason(status)}
    detected = {**common, "remediator.failure_reason": spec.get("reason")}
    spans = [_span(trace, DETECTION, (DETECTION,), seen, started, detected)]
    if classified is not None:
        spans.append(_span(trace, CLASSIFICATION, (CLASSIFICATION,), started, classified, common))
    decided = {**outcome, "remediator.remediation": name if own else ""}
    spans.append(_span(trace, DECISION, (DECISION,), classified or started, now, decided, error=phase == "Invalid"))
    if not own:
        spans.append(root_span(trace, seen or started, now, outcome, phase == "Invalid"))
    return spans


def _reason(status: Mapping[str, Any]) -> str:
    for cond in reversed(list(status.get("conditions") or [])):
        if isinstance(cond, Mapping) and cond.get("reason"):
            return str(cond["reason"])[:64]
    return str(status.get("reason") or "")


def remediation_attributes(rem: Mapping[str, Any]) -> dict[str, Any]:
    meta, spec = rem.get("metadata") or {}, rem.get("spec") or {}
    target = spec.get("target") or {}
    return {
        "k8s.namespace.name": str(meta.get("namespace") or ""),
        "remediator.workload.kind": str(target.get("kind") or ""),
        "remediator.workload.name": str(target.get("name") or ""),
        "remediator.remediation": str(meta.get("name") or ""),
        "remediator.error_type": str(spec.get("errorType") or ""),
        "remediator.action": str(spec.get("action") or ""),
        "remediator.confidence": spec.get("confidence"),
        "remediator.model_version": str(spec.get("modelVersion") or ""),
        "remediator.origin": str((rem.get("status") or {}).get("origin") or ""),
    }


def transition_spans(
    before: Mapping[str, Any], rem: Mapping[str, Any], trace: IncidentTrace, now: dt.datetime
) -> list[SpanRecord]:
    """The spans a Remediation status write completes (`before`: the status the step read). A write that
    keeps the phase completes none."""
    status = rem.get("status") or {}
    was, phase = before.get("phase"), str(status.get("phase") or "")
    if was == phase or not phase:
        return []
    common = remediation_attributes(rem)
    out = {**common, "remediator.outcome": phase, "remediator.reason": str(status.get("reason") or "")}
    failed = phase == "Failed"
    completed = _time(status.get("completedAt"))
    spans: list[SpanRecord] = []

    if not was and status.get("origin") == "user":  # a user's proposal: the operator's decision is this write
        created = _time((rem.get("metadata") or {}).get("creationTimestamp"))
        spans.append(_span(trace, DECISION, (DECISION,), created, now, out))
    if phase in _APPROVAL_ENDS and was in (None, "", "PendingApproval"):
        waited = {**out, "remediator.approved_by": str(status.get("approvedBy") or "")}
        start = _time(status.get("proposedAt")) if was else now
        spans.append(_span(trace, APPROVAL, (APPROVAL,), start, now, waited))
    apply_id = trace.span_id(APPLY)
    approved = _time(status.get("approvedAt"))
    if was == "Approved":
        change = status.get("change") or {}
        if phase == "Applying" or change.get("dryRun") or status.get("reason") == "DryRunRejected":
            spans.append(_span(trace, DRY_RUN, (DRY_RUN,), approved, now, out, parent=apply_id, error=failed))
        if phase != "Applying":  # ended before anything was sent: the apply step ends here
            spans.append(_span(trace, APPLY, (APPLY,), approved, now, out, error=failed))
    if was == "Applying":
        prepared = _time(status.get("preparedAt")) or approved
        spans.append(_span(trace, PATCH, (PATCH,), prepared, now, out, parent=apply_id, error=failed))
        spans.append(_span(trace, APPLY, (APPLY,), approved, now, out, error=failed))
    if was == "Verifying":
        applied = _time(status.get("appliedAt"))
        verdict = {**out, "remediator.outcome": "Failed" if phase == "Undoing" else phase}
        spans.append(_span(trace, VERIFY, (VERIFY,), applied, now, verdict, error=phase in ("Failed", "Undoing")))
    if was == "Undoing":
        undone = {**out, "remediator.undone": bool((status.get("change") or {}).get("undone"))}
        spans.append(_span(trace, UNDO, (UNDO,), completed, now, undone, error=status.get("reason") != "Undone"))
    if phase in _FINAL:
        feedback = status.get("feedback") or {}
        if feedback.get("label"):
            judged = {
                **out,
                "remediator.feedback.label": str(feedback["label"]),
                "remediator.feedback.source": str(feedback.get("source") or ""),
            }
            spans.append(_span(trace, FEEDBACK, (FEEDBACK, "operator"), now, now, judged))
        seen = _time(status.get("failureSeenAt")) or _time((rem.get("metadata") or {}).get("creationTimestamp"))
        spans.append(root_span(trace, seen, now, out, failed))
    return spans


def judgment_span(
    rem: Mapping[str, Any], judgment: Mapping[str, Any], trace: IncidentTrace, now: dt.datetime
) -> SpanRecord:
    """A person's verdict (status.judgments entry) as a feedback span; people are not named in spans."""
    at = _time(judgment.get("at")) or now
    attrs = {
        **remediation_attributes(rem),
        "remediator.feedback.label": str(judgment.get("label") or ""),
        "remediator.feedback.source": "human",
        "remediator.feedback.verified": bool(judgment.get("verified")),
        "remediator.feedback.correct_action": str(judgment.get("correctAction") or ""),
    }
    key = (FEEDBACK, "judgment", str(judgment.get("by") or ""), str(judgment.get("at") or ""))
    return _span(trace, FEEDBACK, key, at, max(at, now), attrs)
