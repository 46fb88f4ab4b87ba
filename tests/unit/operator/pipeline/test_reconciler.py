"""The Reconciler's dispatch, step by step, against an in-memory API: each phase leads where it should, the
status is written before the change is sent, and a finished Remediation reaches the learning hook."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from remediator import api
from remediator.domain import clock
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation import Reconciler
from remediator.pipeline.triage import DECISION_ANNOTATION
from remediator.settings import Settings
from tests.unit.domain.builders import NS, deployment
from tests.unit.operator.pipeline.fake_kube import FakeKube


def _remediation(decision: dict[str, Any] | None = None, **annotations: str) -> dict[str, Any]:
    ann = dict(annotations)
    if decision is not None:
        ann[DECISION_ANNOTATION] = json.dumps(decision)
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Remediation",
        "metadata": {"name": "web-timeout", "namespace": NS, "uid": "rem-1", "generation": 1, "annotations": ann},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "scale_up",
            "parameters": {},
            "errorType": "timeout",
            "confidence": 0.97,
            "modelVersion": "test",
        },
    }


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


def test_a_human_written_remediation_waits_for_approval_then_an_approval_applies_it() -> None:
    kube, reconciler, _ = _setup(_remediation())  # no decision annotation: decided now
    settings = Settings(threshold=1.0)  # nothing auto-applies
    reconciler = Reconciler(kube, PolicySource(None, settings))  # type: ignore[arg-type]

    assert reconciler.reconcile(_remediation()) == api.Phase.PENDING_APPROVAL
    assert kube.patches == [] and "expiresAt" in _status(kube)

    kube.objects[(api.REMEDIATIONS, NS, "web-timeout")]["metadata"]["annotations"] = {api.APPROVE: "true"}
    assert reconciler.reconcile(_remediation()) == api.Phase.VERIFYING
    assert _status(kube)["approvedAt"]
    assert [dry for _, _, _, dry in kube.patches] == [True, False]


def test_a_repeated_invalid_annotation_writes_status_once() -> None:
    kube, reconciler, _ = _setup(_remediation())
    reconciler = Reconciler(kube, PolicySource(None, Settings(threshold=1.0)))  # type: ignore[arg-type]
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
