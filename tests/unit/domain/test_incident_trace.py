"""One trace per incident: its context from status (or a validated annotation), and each step's spans."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediator.domain import incident_trace as it
from remediator.domain import trace_context

T0 = dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
JOIN = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def errorevent(annotations: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-oom", "namespace": "shop", "uid": "ee-uid-1", "creationTimestamp": iso(1)}
    if annotations is not None:
        meta["annotations"] = annotations
    return {
        "metadata": meta,
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "reason": "OOMKilled", "source": "cluster"},
        "status": status or {},
    }


# -- context ---------------------------------------------------------------------------------------------------
def test_without_annotation_the_trace_is_derived_from_the_uid_and_stable() -> None:
    a, b = it.for_errorevent(errorevent()), it.for_errorevent(errorevent())
    assert a == b
    assert a.trace_id == trace_context.derive_trace_id("ee-uid-1")
    assert a.parent_span_id is None and a.refused is None
    status = a.to_status()
    assert status["traceparent"] == f"00-{a.trace_id}-{a.root_span_id}-01"
    assert it.from_status(status) == a


def test_a_valid_annotation_joins_its_trace_under_its_span() -> None:
    trace = it.for_errorevent(errorevent({it.ANNOTATION: JOIN}))
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.parent_span_id == "00f067aa0ba902b7"
    assert trace.root_span_id != trace.parent_span_id
    assert it.from_status(trace.to_status()) == trace


def test_an_unsampled_annotation_cannot_switch_tracing_off() -> None:
    trace = it.for_errorevent(errorevent({it.ANNOTATION: JOIN[:-2] + "00"}))
    assert trace.flags == trace_context.SAMPLED
    assert trace.to_status()["traceparent"].endswith("-01")


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        JOIN.upper(),
        JOIN + ",00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "x" * 10_000,
        JOIN + "\n",
        "",
        17,
        None,
    ],
)
def test_an_invalid_annotation_is_refused_and_the_trace_is_our_own(value: object) -> None:
    trace = it.for_errorevent(errorevent({it.ANNOTATION: value}))
    own = it.for_errorevent(errorevent())
    assert (trace.trace_id, trace.root_span_id, trace.parent_span_id) == (own.trace_id, own.root_span_id, None)
    assert trace.refused and len(trace.to_status()["refused"]) <= 128
    assert "x" * 20 not in trace.refused  # the value is not echoed
    assert it.from_status(trace.to_status()) == trace


def test_status_trace_wins_over_an_annotation_changed_later() -> None:
    first = it.for_errorevent(errorevent())
    later = errorevent({it.ANNOTATION: JOIN}, status={"trace": first.to_status()})
    assert it.for_errorevent(later) == first


def test_a_forged_status_trace_is_not_trusted_when_malformed() -> None:
    forged = {"traceparent": "00-zz", "traceId": "zz"}
    assert it.from_status(forged) is None
    mismatched = {"traceparent": JOIN, "traceId": "1" * 32}
    assert it.from_status(mismatched) is None
    assert it.for_errorevent(errorevent(status={"trace": forged})) == it.for_errorevent(errorevent())


def test_a_remediation_continues_its_errorevents_trace_and_ignores_its_own_annotations() -> None:
    ee_trace = it.for_errorevent(errorevent({it.ANNOTATION: JOIN}))
    ee = errorevent(status={"trace": ee_trace.to_status()})
    rem = {"metadata": {"name": "web-oom", "uid": "rem-uid", "annotations": {it.ANNOTATION: JOIN}}, "status": {}}
    assert it.for_remediation(rem, ee) == ee_trace
    alone = it.for_remediation(rem, None)
    assert alone.trace_id == trace_context.derive_trace_id("rem-uid") and alone.parent_span_id is None


# -- spans -----------------------------------------------------------------------------------------------------
def remediation(trace: it.IncidentTrace, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-oom", "namespace": "shop", "uid": "rem-uid", "creationTimestamp": iso(2)},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.97,
            "modelVersion": "m-1",
        },
        "status": {"trace": trace.to_status(), "origin": "operator", "failureSeenAt": iso(0), **status},
    }


def lifecycle(trace: it.IncidentTrace) -> list[it.SpanRecord]:
    """PendingApproval -> Approved -> Applying -> Verifying -> Undoing -> Failed, as StatusWriter writes it."""
    s: dict[str, Any] = {}
    steps = [
        (3, {"phase": "PendingApproval", "proposedAt": iso(3)}),
        (10, {"phase": "Approved", "approvedAt": iso(10), "approvedBy": "alice"}),
        (11, {"phase": "Applying", "preparedAt": iso(11)}),
        (12, {"phase": "Verifying", "appliedAt": iso(12)}),
        (40, {"phase": "Undoing", "reason": "FailureRecurred", "completedAt": iso(40)}),
        (
            41,
            {
                "phase": "Failed",
                "reason": "Undone",
                "change": {"undone": True},
                "feedback": {"label": "incorrect", "source": "verification"},
            },
        ),
    ]
    spans: list[it.SpanRecord] = []
    for now, update in steps:
        before = dict(s)
        s = {**s, **update}
        spans += it.transition_spans(before, remediation(trace, **s), trace, at(now))
    return spans


def test_a_remediation_lifecycle_gives_one_tree() -> None:
    trace = it.for_errorevent(errorevent())
    spans = lifecycle(trace)
    by_name = {s.name: s for s in spans}
    assert sorted(by_name) == sorted(
        [it.APPROVAL, it.DRY_RUN, it.PATCH, it.APPLY, it.VERIFY, it.UNDO, it.FEEDBACK, it.INCIDENT]
    )
    assert len(spans) == len(by_name)
    assert {s.trace_id for s in spans} == {trace.trace_id}
    root = by_name[it.INCIDENT]
    assert root.span_id == trace.root_span_id and root.parent_span_id is None and root.error
    apply_ = by_name[it.APPLY]
    assert by_name[it.DRY_RUN].parent_span_id == apply_.span_id == by_name[it.PATCH].parent_span_id
    for name in (it.APPROVAL, it.APPLY, it.VERIFY, it.UNDO, it.FEEDBACK):
        assert by_name[name].parent_span_id == root.span_id
    # times come from status, so each span covers its step
    assert (by_name[it.APPROVAL].start, by_name[it.APPROVAL].end) == (at(3), at(10))
    assert (by_name[it.DRY_RUN].start, by_name[it.DRY_RUN].end) == (at(10), at(11))
    assert (by_name[it.PATCH].start, by_name[it.PATCH].end) == (at(11), at(12))
    assert (apply_.start, apply_.end) == (at(10), at(12))
    assert (by_name[it.VERIFY].start, by_name[it.VERIFY].end) == (at(12), at(40))
    assert (by_name[it.UNDO].start, by_name[it.UNDO].end) == (at(40), at(41))
    assert (root.start, root.end) == (at(0), at(41))
    assert by_name[it.VERIFY].error and by_name[it.VERIFY].attributes["remediator.outcome"] == "Failed"
    assert by_name[it.FEEDBACK].attributes["remediator.feedback.label"] == "incorrect"
    attrs = root.attributes
    assert attrs["k8s.namespace.name"] == "shop"
    assert (attrs["remediator.workload.kind"], attrs["remediator.workload.name"]) == ("Deployment", "web")
    assert (attrs["remediator.error_type"], attrs["remediator.action"]) == ("oom", "increase_memory")
    assert (attrs["remediator.confidence"], attrs["remediator.model_version"]) == (0.97, "m-1")
    assert attrs["remediator.outcome"] == "Failed"


def test_the_same_step_gives_the_same_span_in_any_process() -> None:
    trace = it.for_errorevent(errorevent())
    assert [s.span_id for s in lifecycle(trace)] == [s.span_id for s in lifecycle(it.from_status(trace.to_status()))]


def test_a_write_that_keeps_the_phase_completes_no_span() -> None:
    trace = it.for_errorevent(errorevent())
    rem = remediation(trace, phase="Verifying", appliedAt=iso(1))
    assert it.transition_spans({"phase": "Verifying"}, rem, trace, at(5)) == []


def test_auto_approval_is_a_zero_length_approval_span() -> None:
    trace = it.for_errorevent(errorevent())
    rem = remediation(trace, phase="Approved", approvedAt=iso(3), approvedBy="policy", proposedAt=iso(3))
    [span] = it.transition_spans({}, rem, trace, at(3))
    assert span.name == it.APPROVAL and span.start == span.end
    assert span.attributes["remediator.approved_by"] == "policy"


def test_a_joined_incident_hangs_under_the_callers_span() -> None:
    trace = it.for_errorevent(errorevent({it.ANNOTATION: JOIN}))
    root = next(s for s in lifecycle(trace) if s.name == it.INCIDENT)
    assert root.parent_span_id == "00f067aa0ba902b7" and root.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert all(s.upstream_span_id == "00f067aa0ba902b7" for s in lifecycle(trace))


def test_triage_spans_and_the_incident_of_an_ignored_errorevent() -> None:
    ee = errorevent()
    trace = it.for_errorevent(ee)
    classified = {"errorType": "oom", "action": "notify", "confidence": 0.4, "modelVersion": "m-1"}
    ignored = {"phase": "Ignored", "classification": classified, "conditions": [{"reason": "BelowThreshold"}]}
    spans = it.triage_spans(ee, ignored, trace, at(0), at(2), at(2.5), at(3))
    assert [s.name for s in spans] == [it.DETECTION, it.CLASSIFICATION, it.DECISION, it.INCIDENT]
    root = spans[-1]
    assert (root.start, root.end) == (at(0), at(3))
    assert root.attributes["remediator.outcome"] == "Ignored"
    assert root.attributes["remediator.reason"] == "BelowThreshold"
    assert spans[1].attributes["remediator.confidence"] == 0.4
    # its own Remediation follows: the incident stays open (the Remediation ends it)
    remediating = {"phase": "Remediating", "classification": classified, "remediationRef": {"name": "web-oom"}}
    spans = it.triage_spans(ee, remediating, trace, at(0), at(2), at(2.5), at(3))
    assert [s.name for s in spans] == [it.DETECTION, it.CLASSIFICATION, it.DECISION]


def test_a_judgment_is_a_feedback_span_without_the_persons_name() -> None:
    trace = it.for_errorevent(errorevent())
    rem = remediation(trace, phase="Succeeded")
    span = it.judgment_span(rem, {"by": "alice", "label": "correct", "at": iso(50), "verified": True}, trace, at(51))
    assert span.name == it.FEEDBACK and span.parent_span_id == trace.root_span_id
    assert "alice" not in repr(span.attributes)
    assert span.attributes["remediator.feedback.source"] == "human"
