"""The audit stream's hooks: the TransitionObserver (one record per phase or reason change) and the verdicts
of people (FeedbackRecorder's on_judgment), each one JSON record handed to the sink."""

from __future__ import annotations

import copy
import json
from typing import Any

from remediator.learning import feedback as fb
from remediator.learning.recorder import FeedbackFlusher, FeedbackRecorder
from remediator.locks import KeyedLocks
from remediator.pipeline.remediation.audit import AuditTrail
from remediator.pipeline.remediation.transition import Transition
from tests.unit.operator.helpers import errorevent, remediation
from tests.unit.operator.test_judgments import KEY, Kube, Store


class Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, message: str) -> None:
        self.lines.append(message)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


def _written(phase: str, reason: str) -> dict[str, Any]:
    rem = remediation()
    rem["metadata"]["resourceVersion"] = "7"
    rem["status"] = {"phase": phase, "reason": reason, "message": f"{phase} because {reason}"}
    return rem


def test_each_phase_or_reason_change_is_one_record_and_condition_flips_none() -> None:
    sink = Sink()
    trail = AuditTrail(sink)
    step = Transition("Verifying", "Applied", "")
    trail.transitioned({"phase": "Applying", "reason": "Applying"}, _written("Verifying", "Applied"), step)
    trail.transitioned({"phase": "Verifying", "reason": "Applied"}, _written("Verifying", "Applied"), step)
    trail.transitioned({"phase": "Verifying", "reason": "Applied"}, _written("Succeeded", "Verified"), step)
    assert [(r["kind"], r["phase"]["to"]) for r in sink.records()] == [
        ("change", "Verifying"),
        ("outcome", "Succeeded"),
    ]


def test_a_persons_verdict_becomes_a_judgment_record() -> None:
    sink = Sink()
    trail = AuditTrail(sink)
    rem = remediation(feedback={"label": "correct", "source": "verification", "recorded": True})
    kube = Kube({KEY: rem, ("errorevents", "shop", "web-oom"): errorevent()})
    recorder = FeedbackRecorder(
        kube, KeyedLocks(), FeedbackFlusher(Store(), kube), guard_installed=lambda: True, on_judgment=trail.judged
    )
    kube.objects[KEY]["metadata"]["annotations"] = {
        fb.FEEDBACK_ANNOTATION: "incorrect",
        fb.CORRECT_ACTION_ANNOTATION: "notify",
        fb.FEEDBACK_BY_ANNOTATION: "alice",
    }
    recorder.human_feedback(copy.deepcopy(kube.objects[KEY]))
    [record] = sink.records()
    assert (record["kind"], record["actor"]) == ("judgment", "alice")
    assert record["judgment"] | {"at": None} == {
        "by": "alice",
        "verified": True,
        "label": "incorrect",
        "correctAction": "notify",
        "correctType": None,
        "at": None,
    }
    assert record["remediation"]["name"] == "web-oom"
    recorder.human_feedback(copy.deepcopy(kube.objects[KEY]))  # the same verdict again: nothing new
    assert len(sink.lines) == 1


def test_a_failing_hook_never_fails_the_verdict() -> None:
    rem = remediation(feedback={"label": "correct", "source": "verification", "recorded": True})
    kube = Kube({KEY: rem, ("errorevents", "shop", "web-oom"): errorevent()})

    def broken(rem: dict[str, Any], entry: dict[str, Any]) -> None:
        raise RuntimeError("sink broken")

    recorder = FeedbackRecorder(
        kube, KeyedLocks(), FeedbackFlusher(Store(), kube), guard_installed=lambda: True, on_judgment=broken
    )
    kube.objects[KEY]["metadata"]["annotations"] = {fb.FEEDBACK_ANNOTATION: "correct", fb.FEEDBACK_BY_ANNOTATION: "bob"}
    recorder.human_feedback(copy.deepcopy(kube.objects[KEY]))
    assert [j["by"] for j in kube.objects[KEY]["status"]["judgments"]] == ["bob"]
