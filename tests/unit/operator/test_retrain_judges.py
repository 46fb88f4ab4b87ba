"""Retraining counts people: agreeing judges raise the weight, disagreeing ones are flagged, humans win."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.learning import feedback as fb
from remediator.learning.retrain import dedupe_feedback, examples_from_feedback
from tests.unit.operator.helpers import errorevent, remediation

HUMAN = fb.WEIGHTS["human"]


def _judged(
    by: str, label: str, action: str | None = None, etype: str | None = None, *, uid: str = "r1", at: str = "01"
) -> dict[str, Any]:
    judgment = fb.FeedbackLabel(label, "human", action, etype, by).to_judgment(by, f"2026-01-02T03:04:{at}Z")
    return fb.judgment_document(remediation(uid=uid), judgment, errorevent())


def _verification(label: str = "correct", uid: str = "r1") -> dict[str, Any]:
    rem = remediation(uid=uid, feedback={"label": label, "source": "verification", "recorded": False})
    return fb.feedback_document(rem, errorevent())


@pytest.mark.parametrize(("people", "factor"), [(1, 1.0), (2, 1.5), (3, 2.0), (5, 2.0)])
def test_agreeing_people_raise_the_weight_up_to_twice(people: int, factor: float) -> None:
    docs = [_judged(f"user-{i}", "incorrect", "notify") for i in range(people)]
    examples, counts = examples_from_feedback(docs)
    assert len(examples) == 1 and counts == {"used_human": 1}
    assert examples[0].action == "notify"
    assert examples[0].weight == pytest.approx(HUMAN * factor)


def test_the_unverified_judge_never_raises_the_weight() -> None:
    docs = [_judged("", "correct"), _judged("alice", "correct")]
    (kept,) = dedupe_feedback(docs)
    assert kept["weight"] == HUMAN and kept["judges"] == ["", "alice"]
    (alone,) = dedupe_feedback([_judged("", "correct")])
    assert alone["weight"] == HUMAN


def test_disagreement_is_flagged_and_trains_nothing() -> None:
    docs = [_judged("alice", "incorrect", "notify"), _judged("bob", "correct"), _verification("correct")]
    (kept,) = dedupe_feedback(docs)
    assert kept["flagged"] == "disagreement" and kept["label"] is None
    assert {j["judge"] for j in kept["judgments"]} == {"alice", "bob"}
    examples, counts = examples_from_feedback([*docs, _judged("carol", "correct", uid="r2")])
    assert len(examples) == 1, "only r2; neither r1's judges nor its verification"
    assert counts["flagged_disagreement"] == 1
    assert counts["flagged_disagreement:shop/web-oom/r1"] == 1
    assert all(isinstance(v, int) for v in counts.values()), "counts stay counts (reports add them up)"


def test_different_corrections_disagree_and_an_uncorrected_incorrect_does_not() -> None:
    _, counts = examples_from_feedback(
        [_judged("alice", "incorrect", "notify"), _judged("bob", "incorrect", "rollback")]
    )
    assert counts.get("flagged_disagreement") == 1
    examples, counts = examples_from_feedback(
        [_judged("alice", "incorrect", "notify"), _judged("bob", "incorrect"), _judged("carol", "incorrect", "notify")]
    )
    assert "flagged_disagreement" not in counts and len(examples) == 1
    assert examples[0].action == "notify"
    assert examples[0].weight == pytest.approx(HUMAN * 1.5), "two people gave the correction, bob only agreed"


def test_a_human_verdict_outranks_verification() -> None:
    examples, counts = examples_from_feedback([_verification("correct"), _judged("alice", "incorrect", "rollback")])
    assert counts == {"used_human": 1} and examples[0].action == "rollback"


def test_a_person_who_changed_their_mind_counts_once_with_the_newest_verdict() -> None:
    older = _judged("alice", "correct", at="01")
    newer = _judged("alice", "incorrect", "notify", at="09")
    (kept,) = dedupe_feedback([newer, older, _judged("bob", "incorrect", "notify")])
    assert kept.get("flagged") is None and kept["judges"] == ["alice", "bob"]


def test_two_remediations_of_the_same_error_are_two_judgments() -> None:
    docs = [_judged("alice", "incorrect", "notify", uid="r1"), _judged("alice", "incorrect", "notify", uid="r2")]
    examples, counts = examples_from_feedback(docs)
    assert len(examples) == 2 and counts == {"used_human": 2}
    assert all(e.weight == HUMAN for e in examples), "one person on each: no agreement bonus across Remediations"


def test_a_legacy_human_document_is_the_unverified_judge() -> None:
    legacy = fb.feedback_document(
        remediation(uid="r1", feedback={"label": "incorrect", "source": "human", "correctAction": "notify"}),
        errorevent(),
    )
    assert "judge" not in legacy
    (kept,) = dedupe_feedback([legacy, _judged("alice", "incorrect", "notify")])
    assert kept["judges"] == ["", "alice"] and kept["weight"] == HUMAN
