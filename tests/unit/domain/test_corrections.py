"""domain/corrections.py: human judgments on an error's family adjust what is proposed, never what is applied."""

from __future__ import annotations

from dataclasses import replace

from remediator.domain.corrections import Judgment, adjust, family_feedback
from remediator.domain.decide import DecisionInputs, decide
from remediator.domain.evidence import Saturation
from remediator.domain.policy import Policy
from remediator.domain.types import Classification
from tests.unit.domain.builders import T0
from tests.unit.domain.test_decide import FACTS

TPL = "CrashLoopBackOff: dial tcp <host> : i/o timeout"
MODEL = Classification(
    "timeout",
    "restart_pod",
    0.95,
    "dependency_error",
    0.03,
    "i/o timeout",
    (),
    "m1",
    alternatives=(("restart_pod", 0.95), ("notify", 0.03), ("scale_up", 0.02)),
)


def corrected(n: int, action: str = "notify", judge: str = "alice") -> list[Judgment]:
    return [Judgment(f"ns/r{i}/u{i}", judge, "incorrect", "restart_pod", action) for i in range(n)]


def test_consistent_corrections_propose_the_corrected_action_with_a_blended_confidence() -> None:
    fam = family_feedback(TPL, corrected(3))
    got = adjust(MODEL, fam)
    assert got is not None and got.code == "CorrectedByFeedback"
    assert got.classification.action == "notify"
    # (2 * 0.03 + 3) / (2 + 3)
    assert abs(got.classification.confidence - 0.612) < 1e-3
    assert "corrected by feedback on 3 similar errors" in got.evidence and TPL in got.evidence
    assert got.gate is not None and got.gate.code == "CorrectedByFeedback"


def test_a_corrected_changing_action_always_waits_for_a_human_even_with_many_corrections() -> None:
    got = adjust(MODEL, family_feedback(TPL, corrected(40, "scale_up")))
    assert got is not None and got.classification.confidence > 0.95
    hot = replace(FACTS, saturation=Saturation(3, 3, "web-1 app cpu 990m of 1000m"))
    policy = Policy(auto_apply_actions=("scale_up", "restart_pod"))
    d = decide(DecisionInputs(got.classification, policy, hot, T0, feedback=got))
    assert d.action == "scale_up" and d.mode == "approval" and d.codes() == ["CorrectedByFeedback"]
    # the same decision without the feedback gate would have been applied: the gate is what stops it
    assert decide(DecisionInputs(got.classification, policy, hot, T0)).mode == "auto"
    assert any("corrected by feedback on 40 similar errors" in line for line in d.evidence)


def test_a_correction_to_notify_is_acted_on_at_once() -> None:
    got = adjust(MODEL, family_feedback(TPL, corrected(2)))
    assert got is not None
    d = decide(DecisionInputs(got.classification, Policy(), FACTS, T0, feedback=got))
    assert d.action == "notify" and d.mode == "auto" and d.codes()[0] == "CorrectedByFeedback"


def test_people_who_disagree_are_flagged_not_averaged() -> None:
    votes = [*corrected(2, "notify", "alice"), *corrected(1, "scale_up", "bob")]
    got = adjust(MODEL, family_feedback(TPL, votes))
    assert got is not None and got.code == "FeedbackDisagrees"
    assert got.classification == MODEL  # nothing changed silently
    assert "2 say notify, 1 say scale_up" in got.evidence and "(2 people;" in got.evidence
    d = decide(DecisionInputs(got.classification, Policy(), FACTS, T0, feedback=got))
    assert d.mode == "approval" and "FeedbackDisagrees" in d.codes()


def test_right_and_wrong_for_the_same_action_is_a_disagreement() -> None:
    votes = [
        Judgment("ns/a/1", "alice", "correct", "restart_pod"),
        Judgment("ns/b/2", "bob", "incorrect", "restart_pod"),
    ]
    got = adjust(MODEL, family_feedback(TPL, votes))
    assert got is not None and got.code == "FeedbackDisagrees"


def test_confirmations_raise_the_shown_confidence_but_gate_nothing() -> None:
    low = replace(MODEL, confidence=0.6, alternatives=(("restart_pod", 0.6),))
    votes = [Judgment(f"ns/r{i}/u", f"p{i}", "correct", "restart_pod") for i in range(4)]
    got = adjust(low, family_feedback(TPL, votes))
    assert got is not None and got.code == "ConfirmedByFeedback" and got.gate is None
    assert got.classification == low  # the threshold still sees the model's own confidence
    assert "confidence 0.87" in got.evidence and "(4 people;" in got.evidence


def test_rejections_lower_the_models_confidence() -> None:
    votes = [
        Judgment("ns/r1/u", "alice", "incorrect", "restart_pod"),
        Judgment("ns/r2/u", "", "incorrect", "restart_pod"),
    ]
    got = adjust(MODEL, family_feedback(TPL, votes))
    assert got is not None and got.code == "FeedbackAgainst"
    assert got.classification.action == "restart_pod" and got.classification.confidence == 0.475
    d = decide(DecisionInputs(got.classification, Policy(), FACTS, T0, feedback=got))
    assert d.mode == "approval" and "BelowThreshold" in d.codes()


def test_judgments_about_another_action_say_nothing_about_this_one() -> None:
    votes = [Judgment("ns/r1/u", "alice", "incorrect", "rollback")]
    assert adjust(MODEL, family_feedback(TPL, votes)) is None
    assert family_feedback(TPL, []) is None and adjust(MODEL, None) is None


def test_anonymous_judgments_count_as_one_person_each_and_judges_once() -> None:
    votes = [*corrected(3, judge="alice"), Judgment("ns/x/1", "", "incorrect", "restart_pod", "notify")]
    fam = family_feedback(TPL, votes)
    assert fam is not None and fam.judgments == 4 and fam.people == 2
