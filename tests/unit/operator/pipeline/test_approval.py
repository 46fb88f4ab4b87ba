"""The approval step is pure: annotations and a deadline in, the next transition out."""

from __future__ import annotations

import datetime as dt

from remediator import api
from remediator.pipeline.remediation.approval import ApprovalInputs
from remediator.pipeline.remediation.approval import approval as _approval

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


def approval(annotations: dict[str, str] | None, expires: dt.datetime | None, now: dt.datetime, **kw: object):  # type: ignore[no-untyped-def]
    """The pure step with a named approver added to an approve/reject (the admission policy requires one)."""
    ann = dict(annotations or {})
    if "true" in (ann.get(api.APPROVE), ann.get(api.REJECT)):
        ann.setdefault(api.APPROVER, "alice")
    return _approval(ApprovalInputs(ann, 1, 1, (), expires, now, **kw))  # type: ignore[arg-type]


def test_nothing_to_do_while_no_annotation_and_not_expired() -> None:
    assert approval({}, LATER, NOW) is None
    assert approval(None, None, NOW) is None


def test_approve_true_approves_and_records_when() -> None:
    t = approval({api.APPROVE: "true"}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.APPROVED and t.reason == "HumanApproved"
    assert t.fields["approvedAt"] == "2026-12-01T12:00:00Z" and t.fields["approvedBy"] == "alice"
    assert t.fields["approval"] == {"by": "alice", "at": "2026-12-01T12:00:00Z", "generation": 1}


def test_reject_true_rejects_with_negative_feedback() -> None:
    t = approval({api.REJECT: "true"}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.REJECTED
    assert t.fields["feedback"] == {"label": "incorrect", "source": "rejection", "recorded": False}


def test_a_value_other_than_true_or_false_is_refused_and_changes_nothing() -> None:
    t = approval({api.APPROVE: "TRUE"}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.PENDING_APPROVAL and t.reason == "InvalidAnnotation"
    assert t.conditions[0][:2] == (api.Condition.ANNOTATIONS_VALID, "False")


def test_approve_and_reject_together_conflict() -> None:
    t = approval({api.APPROVE: "true", api.REJECT: "true"}, LATER, NOW)
    assert t is not None and t.reason == "ConflictingAnnotations" and t.phase == api.Phase.PENDING_APPROVAL


def test_expiry_wins_over_a_late_approval() -> None:
    t = approval({api.APPROVE: "true"}, NOW - dt.timedelta(seconds=1), NOW)
    assert t is not None and t.phase == api.Phase.EXPIRED and t.reason == "ApprovalExpired"


def test_false_values_keep_waiting() -> None:
    assert approval({api.APPROVE: "false", api.REJECT: "false"}, LATER, NOW) is None


def test_an_approval_of_a_spec_edited_since_the_proposal_must_name_the_reviewed_generation() -> None:
    ann = {api.APPROVE: "true", api.APPROVER: "alice"}
    t = _approval(ApprovalInputs(ann, 2, 1, (), LATER, NOW))
    assert t is not None and t.reason == "SpecChangedSinceProposal"
    t = _approval(ApprovalInputs({**ann, api.APPROVED_GENERATION: "1"}, 2, 1, (), LATER, NOW))
    assert t is not None and t.reason == "StaleApproval"
    t = _approval(ApprovalInputs({**ann, api.APPROVED_GENERATION: "2"}, 2, 1, (), LATER, NOW))
    assert t is not None and t.phase == api.Phase.APPROVED and t.fields["approval"]["generation"] == 2


def test_separation_of_duties_unless_the_policy_allows_self_approval() -> None:
    ann = {api.APPROVE: "true", api.APPROVER: "mallory"}
    t = _approval(ApprovalInputs(ann, 1, 1, ("mallory",), LATER, NOW))
    assert t is not None and t.reason == "SelfApproval"
    t = _approval(ApprovalInputs(ann, 1, 1, ("mallory",), LATER, NOW, allow_self_approval=True))
    assert t is not None and t.phase == api.Phase.APPROVED


def test_without_the_admission_guard_no_approval_counts() -> None:
    t = _approval(
        ApprovalInputs({api.APPROVE: "true", api.APPROVER: "alice"}, 1, 1, (), LATER, NOW, guard_installed=False)
    )
    assert t is not None and t.reason == "ApprovalGuardMissing" and t.phase == api.Phase.PENDING_APPROVAL


def test_a_hostile_approver_value_is_bounded_to_what_status_can_hold() -> None:
    ann = {api.APPROVE: "true", api.APPROVER: "  " + "x" * 5000 + "\n"}
    t = _approval(ApprovalInputs(ann, 1, 1, (), LATER, NOW))
    assert t is not None and t.phase == api.Phase.APPROVED
    assert t.fields["approvedBy"] == "x" * 253 and t.fields["approval"]["by"] == "x" * 253


def test_a_blank_approver_counts_as_none() -> None:
    t = _approval(ApprovalInputs({api.APPROVE: "true", api.APPROVER: "   "}, 1, 1, (), LATER, NOW))
    assert t is not None and t.reason == "ApproverMissing"


def test_a_rejection_quotes_its_reason() -> None:
    t = approval({api.REJECT: "true", api.REJECT_REASON: "wrong container: the sidecar OOMs"}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.REJECTED
    assert t.message == "rejected by alice: wrong container: the sidecar OOMs"


def test_a_rejection_reason_is_made_inert_and_bounded() -> None:
    """The reason reaches status.message and every `kubectl describe`: no escape sequence, no line break, no
    bidi override survives, and no length can make the status write fail."""
    hostile = "ok\x1b[2J\x1b[1;1Happroved by root\r\nsecond line\u202edesrever" + "x" * 5000
    t = approval({api.REJECT: "true", api.REJECT_REASON: hostile}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.REJECTED
    assert not any(c in t.message for c in "\x1b\r\n\u202e")
    assert len(t.message) <= len("rejected by alice: ") + api.REJECT_REASON_MAX
    assert t.message.startswith("rejected by alice: ok [2J [1;1Happroved by root second line")


def test_a_reason_without_a_rejection_does_nothing_and_an_approval_ignores_it() -> None:
    assert approval({api.REJECT_REASON: "because"}, LATER, NOW) is None
    t = approval({api.APPROVE: "true", api.REJECT_REASON: "stale"}, LATER, NOW)
    assert t is not None and t.phase == api.Phase.APPROVED and "stale" not in t.message
