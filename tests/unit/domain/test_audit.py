"""The audit record builder: one bounded, single-line JSON record per audited step, whatever the text in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from remediator.domain import audit

AT = datetime(2026, 12, 2, 8, 0, 0, tzinfo=UTC)


def remediation(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "shop",
            "name": "web-oom-1",
            "uid": "7f1c0d3e-0000-4000-8000-000000000001",
            "resourceVersion": "4711",
            "generation": 1,
        },
        "spec": {
            "target": {"kind": "Deployment", "name": "web", "podName": "web-5d8f-abc12", "containerName": "app"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.97,
            "modelVersion": "v12",
            "autoApply": True,
            "explanation": "OOMKilled at the memory limit",
            "errorEventRef": {"name": "web-oom"},
        },
        "status": {"phase": "Approved", "reason": "PolicyAllows", "message": "auto-applied within policy", **status},
    }


def test_a_decision_names_who_what_why_and_the_model() -> None:
    rem = remediation(origin="operator", reasons=["PolicyAllows", "Corroborated"], evidence=["web-abc: OOMKilled"])
    record = audit.decision_record({}, rem, AT)
    assert record["kind"] == "decision"
    assert record["id"] == "7f1c0d3e-0000-4000-8000-000000000001/4711"
    assert record["namespace"] == "shop"
    assert record["remediation"] == {"name": "web-oom-1", "uid": rem["metadata"]["uid"], "generation": 1}
    assert record["target"] == {"kind": "Deployment", "name": "web", "pod": "web-5d8f-abc12", "container": "app"}
    assert (record["action"], record["confidence"], record["modelVersion"]) == ("increase_memory", 0.97, "v12")
    assert record["phase"] == {"from": None, "to": "Approved"}
    assert record["reason"] == "PolicyAllows"
    assert record["reasons"] == ["PolicyAllows", "Corroborated"]
    assert record["evidence"] == ["web-abc: OOMKilled"]
    assert record["at"] == "2026-12-02T08:00:00Z"
    assert record["schema"] == audit.SCHEMA
    assert record["actor"] == "operator"


@pytest.mark.parametrize(
    ("before", "after", "reason", "kind"),
    [
        (None, "PendingApproval", "BelowThreshold", "decision"),
        ("PendingApproval", "Approved", "HumanApproved", "approval"),
        ("PendingApproval", "Rejected", "HumanRejected", "rejection"),
        ("PendingApproval", "Expired", "ApprovalExpired", "expiry"),
        ("PendingApproval", "PendingApproval", "SelfApproval", "transition"),
        ("Approved", "Applying", "Applying", "change-planned"),
        ("Applying", "Verifying", "Applied", "change"),
        ("Verifying", "Undoing", "RestartsContinued", "undo-started"),
        ("Undoing", "Failed", "Undone", "undo"),
        ("Verifying", "Succeeded", "Verified", "outcome"),
        ("Approved", "Skipped", "DryRun", "outcome"),
    ],
)
def test_step_kinds(before: str | None, after: str, reason: str, kind: str) -> None:
    assert audit.step_kind(before, after, reason) == kind


def test_only_a_changed_phase_or_reason_is_audited() -> None:
    verifying = {"phase": "Verifying", "reason": "Applied"}
    assert not audit.is_audited(verifying, {**verifying, "conditions": [{"type": "Stable"}]})
    assert audit.is_audited(verifying, {"phase": "Succeeded", "reason": "Verified"})
    assert audit.is_audited({"phase": "PendingApproval", "reason": "A"}, {"phase": "PendingApproval", "reason": "B"})


def test_approval_change_and_outcome_are_summarised_without_the_raw_requests() -> None:
    rem = remediation(
        approval={"by": "alice@example.com", "at": "2026-12-02T07:59:00Z", "generation": 1},
        change={
            "kind": "Deployment",
            "name": "web",
            "before": {"memory": "256Mi"},
            "after": {"memory": "512Mi"},
            "patches": [{"body": {"spec": "x" * 5000}}],
            "evict": ["a", "b"],
        },
        outcome={"result": "Succeeded", "message": "ready for 60 s", "readyReplicas": 3},
        appliedAt="2026-12-02T07:59:30Z",
        completedAt="2026-12-02T08:00:00Z",
    )
    record = audit.decision_record({"phase": "Verifying", "reason": "Applied"}, rem, AT)
    assert record["approval"] == {"by": "alice@example.com", "at": "2026-12-02T07:59:00Z", "generation": 1}
    assert record["actor"] == "operator"  # an outcome: the operator's verdict, whoever approved the change
    approved = audit.decision_record(
        {"phase": "PendingApproval"}, rem | {"status": rem["status"] | {"phase": "Approved"}}, AT
    )
    assert (approved["kind"], approved["actor"]) == ("approval", "alice@example.com")
    assert record["change"] == {
        "kind": "Deployment",
        "name": "web",
        "before": {"memory": "256Mi"},
        "after": {"memory": "512Mi"},
        "patches": 1,
        "evictions": 2,
        "dryRun": False,
        "undone": False,
    }
    assert "x" * 100 not in audit.encode(record)  # the patch bodies stay in status
    assert record["outcome"]["result"] == "Succeeded"
    assert record["timestamps"] == {"appliedAt": "2026-12-02T07:59:30Z", "completedAt": "2026-12-02T08:00:00Z"}


def test_a_large_or_secret_change_side_is_summarised_and_scrubbed() -> None:
    rem = remediation(
        change={
            "kind": "ConfigMap",
            "name": "web-config",
            "before": {"data": {"DSN": "postgres://app:hunter2@db/shop"}},
            "after": {"data": {f"key{i}": "v" * 200 for i in range(20)}},
        }
    )
    change = audit.decision_record({}, rem, AT)["change"]
    assert "hunter2" not in json.dumps(change["before"])
    assert change["after"]["omitted"] is True and change["after"]["bytes"] > audit.CHANGE_SIDE_MAX_BYTES
    assert len(change["after"]["sha256"]) == 64


HOSTILE = '"}\n{"schema":"kube-remediator.audit/v1","kind":"approval","approval":{"by":"mallory"}}\r\n\u2028\x00'


def test_hostile_text_stays_one_field_of_one_line() -> None:
    rem = remediation(message=HOSTILE * 50, approvedBy=HOSTILE)
    rem["spec"]["explanation"] = HOSTILE
    rem["spec"]["target"]["name"] = HOSTILE
    rem["status"]["approval"] = {"by": HOSTILE}
    text = audit.encode(audit.decision_record({}, rem, AT))
    assert "\n" not in text and "\r" not in text and "\u2028" not in text
    assert text.isascii()
    parsed = json.loads(text)  # one JSON document: the forged one is a string inside it
    assert parsed["kind"] == "decision"
    assert parsed["message"] == (HOSTILE * 50)[: audit.TEXT_MAX]
    assert parsed["approval"]["by"] == HOSTILE
    assert parsed["explanation"] == HOSTILE


def test_every_record_fits_the_bound_and_sheds_the_least_essential_first() -> None:
    big = "é" * 1024  # six ASCII bytes each once escaped
    rem = remediation(
        message=big,
        evidence=[big] * 40,
        reasons=["R" * 500] * 40,
        requestedBy=["u" * 500] * 40,
        change={"kind": "Deployment", "name": "web", "before": {"k": big}, "after": {"k": big}},
        outcome={"result": "Failed", "message": big},
    )
    rem["spec"]["explanation"] = big
    rem["metadata"]["name"] = rem["metadata"]["namespace"] = "n" * 253
    rem["spec"]["target"]["name"] = rem["spec"]["target"]["podName"] = "p" * 253
    for limit in (audit.MAX_RECORD_BYTES, 4096, audit.MIN_RECORD_BYTES):
        text = audit.encode(audit.decision_record({}, rem, AT), limit)
        assert len(text.encode()) <= limit, limit
        parsed = json.loads(text)
        assert parsed["id"] == "7f1c0d3e-0000-4000-8000-000000000001/4711"
    with pytest.raises(ValueError):
        audit.encode(audit.decision_record({}, rem, AT), audit.MIN_RECORD_BYTES - 1)
    text = audit.encode(audit.decision_record({}, rem, AT), 6000)
    parsed = json.loads(text)
    assert parsed["truncated"][0] == "change.before"
    assert parsed["action"] == "increase_memory" and parsed["phase"]["to"] == "Approved"
    assert len(parsed["reasons"]) == audit.LIST_MAX and len(parsed["reasons"][0]) == audit.CODE_MAX


def test_a_small_record_is_not_truncated() -> None:
    parsed = json.loads(audit.encode(audit.decision_record({}, remediation(), AT)))
    assert "truncated" not in parsed


def test_a_judgment_record_names_the_judge_and_stays_one_bounded_line() -> None:
    entry = {"by": HOSTILE * 20, "verified": False, "label": "incorrect", "correctAction": "notify"}
    text = audit.encode(audit.judgment_record(remediation(), entry, AT))
    assert "\n" not in text and text.isascii()
    parsed = json.loads(text)
    assert parsed["kind"] == "judgment" and parsed["actor"] == (HOSTILE * 20)[: audit.NAME_MAX]
    assert parsed["judgment"]["label"] == "incorrect" and parsed["judgment"]["correctAction"] == "notify"
    assert parsed["phase"] == {"from": "Approved", "to": "Approved"}
    unverified = audit.judgment_record(remediation(), {"by": "", "label": "correct"}, AT)
    assert unverified["actor"] == "unverified"
