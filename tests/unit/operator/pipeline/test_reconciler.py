"""The Reconciler's dispatch, step by step, against an in-memory API: each phase leads where it should, the
status is written before the change is sent, and a finished Remediation reaches the learning hook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediator import api
from remediator.domain import clock
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation import Reconciler
from remediator.settings import Settings
from tests.unit.domain.builders import NS, deployment
from tests.unit.operator.pipeline.fake_kube import FakeKube


def _remediation(decision: dict[str, Any] | None = None, **annotations: str) -> dict[str, Any]:
    """A Remediation; with `decision`, as triage leaves it: its decision already in status (origin operator)."""
    body: dict[str, Any] = {
        "apiVersion": api.API_VERSION,
        "kind": "Remediation",
        "metadata": {
            "name": "web-timeout",
            "namespace": NS,
            "uid": "rem-1",
            "generation": 1,
            "annotations": dict(annotations),
        },
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "scale_up",
            "parameters": {},
            "errorType": "timeout",
            "confidence": 0.97,
            "modelVersion": "test",
        },
    }
    if decision is not None:
        body["status"] = {**decision, "origin": "operator", "proposedGeneration": 1}
    return body


def _setup(rem: dict[str, Any]) -> tuple[FakeKube, Reconciler, list[str]]:
    kube = FakeKube()
    kube.add(deployment(replicas=2))
    kube.put_cr(api.REMEDIATIONS, rem)
    finals: list[str] = []
    reconciler = Reconciler(
        kube,  # type: ignore[arg-type]
        PolicySource(None, Settings()),
        on_final=lambda r: finals.append(r["status"]["phase"]),
    )
    return kube, reconciler, finals


def _status(kube: FakeKube) -> dict[str, Any]:
    return kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["status"]


def test_an_auto_applied_decision_runs_through_dry_run_apply_and_into_verifying() -> None:
    approved = {"phase": "Approved", "reason": "AutoApply", "message": "policy allows"}
    kube, reconciler, finals = _setup(_remediation(approved))

    assert reconciler.reconcile(_remediation()) == api.Phase.VERIFYING

    assert [dry for _, _, _, dry in kube.patches] == [True, False], "a server-side dry run before the change"
    assert kube.patches[1][1] == {"spec": {"replicas": 3}}
    status = _status(kube)
    assert status["change"]["patches"][0]["body"] == {"spec": {"replicas": 3}}, "the exact request is recorded"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"Approved": "True", "Processing": "True", "Succeeded": "Unknown"}
    assert finals == []


def test_a_user_written_remediation_never_auto_applies_whatever_its_confidence() -> None:
    rem = _remediation()
    rem["spec"]["confidence"] = 1.0
    kube, reconciler, _ = _setup(rem)  # no status: not the operator's own decision
    reconciler = Reconciler(kube, PolicySource(None, Settings(threshold=0.0)))  # type: ignore[arg-type]

    assert reconciler.reconcile(_remediation()) == api.Phase.PENDING_APPROVAL
    status = _status(kube)
    assert kube.patches == [] and status["origin"] == "user" and status["reason"] == "UserProposal"


def test_an_approval_names_its_approver_and_applies_the_reviewed_spec() -> None:
    kube, reconciler, _ = _setup(_remediation())
    reconciler.reconcile(_remediation())
    meta = kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]

    meta["annotations"] = {api.APPROVE: "true"}
    reconciler.reconcile(_remediation())
    assert _status(kube)["reason"] == "ApproverMissing" and kube.patches == []

    meta["annotations"] = {api.APPROVE: "true", api.APPROVER: "alice"}
    assert reconciler.reconcile(_remediation()) == api.Phase.VERIFYING
    assert _status(kube)["approval"] == {"by": "alice", "at": _status(kube)["approvedAt"], "generation": 1}
    assert [dry for _, _, _, dry in kube.patches] == [True, False]


def test_the_requester_cannot_approve_their_own_proposal() -> None:
    rem = _remediation()
    rem["metadata"]["annotations"] = {api.REQUESTED_BY: "mallory"}
    kube, reconciler, _ = _setup(rem)
    reconciler.reconcile(_remediation())
    assert _status(kube)["requestedBy"] == ["mallory"]
    kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]["annotations"].update(
        {api.APPROVE: "true", api.APPROVER: "mallory"}
    )
    assert reconciler.reconcile(_remediation()) == api.Phase.PENDING_APPROVAL
    assert _status(kube)["reason"] == "SelfApproval" and kube.patches == []


def test_no_approval_is_trusted_without_the_admission_guard() -> None:
    kube, reconciler, _ = _setup(_remediation())
    kube.guard = False
    reconciler.reconcile(_remediation())
    kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]["annotations"] = {
        api.APPROVE: "true",
        api.APPROVER: "alice",
    }
    assert reconciler.reconcile(_remediation()) == api.Phase.PENDING_APPROVAL
    assert _status(kube)["reason"] == "ApprovalGuardMissing" and kube.patches == []


def test_a_spec_edited_after_the_approval_voids_it_and_drops_the_annotations() -> None:
    approved = {
        "phase": "Approved",
        "reason": "HumanApproved",
        "message": "ok",
        "approval": {"by": "a", "generation": 1},
    }
    kube, reconciler, _ = _setup(_remediation(approved, **{api.APPROVE: "true", api.APPROVER: "a"}))
    kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]["generation"] = 2
    assert reconciler.reconcile(_remediation()) == api.Phase.PENDING_APPROVAL
    assert _status(kube)["reason"] == "SpecChangedAfterApproval" and kube.patches == []
    assert kube.removed_annotations and api.APPROVE in kube.removed_annotations[0]


def test_an_opt_out_added_after_the_approval_stops_the_change() -> None:
    kube, reconciler, _ = _setup(_remediation({"phase": "Approved", "reason": "AutoApply", "message": "ok"}))
    kube.objects[("Deployment", NS, "web")]["metadata"]["annotations"][api.IGNORE] = "true"
    assert reconciler.reconcile(_remediation()) == api.Phase.SKIPPED
    assert _status(kube)["reason"] == "OptedOut" and kube.patches == []


def test_a_repeated_invalid_annotation_writes_status_once() -> None:
    kube, reconciler, _ = _setup(_remediation())
    reconciler.reconcile(_remediation())
    kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]["annotations"] = {api.APPROVE: "yes"}
    reconciler.reconcile(_remediation())
    writes = kube.status_writes
    reconciler.reconcile(_remediation())
    assert kube.status_writes == writes and _status(kube)["reason"] == "InvalidAnnotation"


def test_verified_healthy_after_the_window_succeeds_and_reaches_the_learning_hook() -> None:
    kube, reconciler, finals = _setup(_remediation({"phase": "Approved", "reason": "AutoApply", "message": "ok"}))
    reconciler.reconcile(_remediation())
    past = clock.format_time(clock.now() - dt.timedelta(minutes=10))
    status = _status(kube)
    status["verifyUntil"] = past
    status["appliedAt"] = past
    for c in status["conditions"]:
        c["lastTransitionTime"] = past
    status["conditions"].append(
        {"type": "Stable", "status": "True", "reason": "AllReady", "message": "2/2", "lastTransitionTime": past}
    )

    assert reconciler.reconcile(_remediation()) == api.Phase.SUCCEEDED
    assert finals == ["Succeeded"]
    assert _status(kube)["feedback"] == {"label": "correct", "source": "verification", "recorded": False}
    assert {c["type"]: c["status"] for c in _status(kube)["conditions"]}["Processing"] == "False"


def test_a_remediation_that_is_gone_is_left_alone() -> None:
    kube, reconciler, _ = _setup(_remediation())
    del kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]
    assert reconciler.reconcile(_remediation()) is None and kube.patches == []


def test_a_target_that_disappeared_before_apply_skips() -> None:
    kube, reconciler, finals = _setup(_remediation({"phase": "Approved", "reason": "AutoApply", "message": "ok"}))
    del kube.objects[("Deployment", NS, "web")]
    assert reconciler.reconcile(_remediation()) == api.Phase.SKIPPED
    assert _status(kube)["reason"] == "TargetNotFound" and finals == ["Skipped"]


def test_a_step_that_keeps_failing_ends_after_the_deadline_instead_of_retrying_forever() -> None:
    long_ago = clock.format_time(clock.now() - dt.timedelta(minutes=11))
    applying = {
        "phase": "Applying",
        "reason": "Applying",
        "message": "scale",
        "approvedAt": long_ago,
        "change": {
            "patches": [{"kind": "Deployment", "name": "web", "patchType": "merge", "body": {"spec": {"replicas": 3}}}]
        },
    }
    kube, reconciler, finals = _setup(_remediation(applying))

    assert reconciler.reconcile(_remediation()) == api.Phase.FAILED
    status = _status(kube)
    assert status["reason"] == "StepTimedOut" and "some of which may have been sent" in status["message"]
    assert kube.patches == [] and finals == ["Failed"]


def test_a_recent_step_is_not_cut_short() -> None:
    recent = clock.format_time(clock.now() - dt.timedelta(minutes=2))
    kube, reconciler, _ = _setup(
        _remediation({"phase": "Approved", "reason": "AutoApply", "message": "ok", "approvedAt": recent})
    )
    assert reconciler.reconcile(_remediation()) == api.Phase.VERIFYING
    assert [dry for *_, dry in kube.patches] == [True, False]


def test_a_decision_taken_on_a_stale_read_is_not_written() -> None:
    from remediator.adapters.kubeapi import ApiException
    from remediator.pipeline.remediation.status import StatusWriter
    from remediator.pipeline.remediation.transition import Transition

    kube, _, _ = _setup(_remediation({"phase": "Approved", "reason": "PolicyAllows", "message": "ok"}))
    stale = _remediation()  # read before triage wrote its decision: no status, an older resourceVersion
    stale["metadata"]["resourceVersion"] = "0"
    with pytest.raises(ApiException) as refused:
        StatusWriter(kube).write(stale, Transition(api.Phase.PENDING_APPROVAL, "UserProposal", "a proposal"))  # type: ignore[arg-type]
    assert refused.value.status == 409 and _status(kube)["phase"] == "Approved"


def test_observers_see_each_written_step_and_cannot_fail_it() -> None:
    from remediator.pipeline.remediation.status import StatusWriter
    from remediator.pipeline.remediation.transition import Transition

    seen: list[tuple[Any, Any, str]] = []

    class Recording:
        def transitioned(self, before: Any, rem: Any, t: Transition) -> None:
            seen.append((before.get("phase"), rem["status"]["phase"], t.reason))

    class Broken:
        def transitioned(self, before: Any, rem: Any, t: Transition) -> None:
            raise RuntimeError("collector down")

    kube, _, _ = _setup(_remediation({"phase": "PendingApproval", "reason": "BelowThreshold", "message": "wait"}))
    rem = kube.get_cr(api.REMEDIATIONS, NS, "web-timeout")
    writer = StatusWriter(kube, [Broken(), Recording()])  # type: ignore[arg-type]
    written = writer.write(rem, Transition(api.Phase.APPROVED, "ApprovedByHuman", "approved"))  # type: ignore[arg-type]
    assert written["status"]["phase"] == "Approved" and _status(kube)["phase"] == "Approved"
    assert seen == [("PendingApproval", "Approved", "ApprovedByHuman")]
