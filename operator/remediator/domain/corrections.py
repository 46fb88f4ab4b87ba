"""What humans said about earlier errors of the same family, applied to a new one (pure).

A family is one (namespace, error template) pair (``remediator_model.template``: the error's shape with its
values masked). Every human verdict on a Remediation of that family is a ``Judgment``: a "correct" says the
proposed action was right, an "incorrect" with ``correctAction`` says which one is, a rejection or a bare
"incorrect" says only that the proposed one was wrong. Two Remediations of the same error are two judgments.

``adjust`` turns a family's judgments and the model's classification into what the decision starts from:

- consistent corrections to action A (nobody said A is wrong, nobody named another action): A is proposed,
  with confidence (prior * p_model(A) + k) / (prior + k) for k judgments, ``PRIOR_WEIGHT`` = 2 (the model
  counts as two judgments), and a gate ``CorrectedByFeedback``: a human approves it;
- confirmations of the model's own action: its confidence is shown the same way, as evidence only;
- judgments against the model's action only: its confidence falls to prior * p / (prior + n);
- judgments that name different actions, or say one is both right and wrong: the gate
  ``FeedbackDisagrees`` names the votes; nothing is averaged.

Serving-time feedback only ever makes a decision more careful: it changes what is proposed, never what is
applied without a human. Autonomy for a family is earned by the next model (trained on the template) after
the retraining gate has measured it; a tenant who may annotate Remediations must not thereby gain the right
to have changes auto-applied. Judgments never cross namespaces for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from remediator.domain.types import ACTIONS, ERROR_TYPES, Classification, Reason

PRIOR_WEIGHT = 2.0  # the model's probability counts as this many judgments


@dataclass(frozen=True)
class Judgment:
    """One human verdict on one Remediation of a family."""

    remediation: str  # <ns>/<name>/<uid>
    judge: str  # who ("" when not recorded)
    label: str  # correct | incorrect
    proposed: str  # the action the Remediation proposed
    correct_action: str | None = None
    correct_type: str | None = None

    @property
    def right_action(self) -> str | None:
        """The action this verdict says is right, when it says one."""
        if self.label == "correct":
            return self.proposed
        return self.correct_action

    @property
    def wrong_action(self) -> str | None:
        """The action this verdict says is wrong, when it says one."""
        return self.proposed if self.label == "incorrect" else None


@dataclass(frozen=True)
class FamilyFeedback:
    """The judgments of one family, counted: action -> judgments saying it is right / wrong."""

    template: str
    right: tuple[tuple[str, int], ...]
    wrong: tuple[tuple[str, int], ...]
    judgments: int
    people: int
    error_types: tuple[str, ...]  # corrected types named, distinct

    def votes_text(self) -> str:
        right = ", ".join(f"{n} say {a}" for a, n in self.right)
        wrong = ", ".join(f"{n} say not {a}" for a, n in self.wrong)
        return "; ".join(t for t in (right, wrong) if t)


def family_feedback(template: str, judgments: Sequence[Judgment]) -> FamilyFeedback | None:
    """Count a family's judgments (None when there are none)."""
    valid = [j for j in judgments if j.label in ("correct", "incorrect") and j.proposed in ACTIONS]
    if not valid:
        return None
    right: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for j in valid:
        if j.right_action in ACTIONS:
            right[str(j.right_action)] = right.get(str(j.right_action), 0) + 1
        if j.wrong_action is not None:
            wrong[j.wrong_action] = wrong.get(j.wrong_action, 0) + 1
    judges = {j.judge for j in valid if j.judge}
    anonymous = sum(1 for j in valid if not j.judge)
    types = sorted({str(j.correct_type) for j in valid if j.correct_type in ERROR_TYPES})
    return FamilyFeedback(
        template,
        tuple(sorted(right.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple(sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))),
        len(valid),
        len(judges) + anonymous,
        tuple(types),
    )


@dataclass(frozen=True)
class Adjusted:
    """The classification a decision starts from, what feedback changed, and the line for status.evidence."""

    classification: Classification
    evidence: str
    gate: Reason | None = None  # a reason a human must approve (CorrectedByFeedback, FeedbackDisagrees)
    code: str = ""  # CorrectedByFeedback | ConfirmedByFeedback | FeedbackAgainst | FeedbackDisagrees


def _p(classification: Classification, action: str) -> float:
    if action == classification.action:
        return classification.confidence
    return dict(classification.alternatives).get(action, 0.0)


def _blend(p: float, agree: int, total: int) -> float:
    return round((PRIOR_WEIGHT * p + agree) / (PRIOR_WEIGHT + total), 4)


def adjust(classification: Classification, family: FamilyFeedback | None) -> Adjusted | None:
    """The classification as the family's judgments leave it (None: no judgments, nothing changes)."""
    if family is None:
        return None
    c = classification
    right, wrong = dict(family.right), dict(family.wrong)
    similar = f"feedback on {family.judgments} similar error{'s' if family.judgments != 1 else ''}"
    where = f"({family.people} {'person' if family.people == 1 else 'people'}; template {family.template!r})"
    contested = [a for a in right if a in wrong]
    if len(right) > 1 or contested or len(family.error_types) > 1:
        message = f"{similar} disagrees: {family.votes_text()} {where}; a human decides"
        return Adjusted(c, message, Reason("FeedbackDisagrees", message), "FeedbackDisagrees")
    if right:
        ((action, k),) = right.items()
        confidence = _blend(_p(c, action), k, k)
        if action == c.action:
            message = f"confirmed by {similar}: {family.votes_text()} {where}; confidence {confidence:.2f}"
            return Adjusted(c, message, None, "ConfirmedByFeedback")
        error_type = family.error_types[0] if family.error_types else c.error_type
        message = (
            f"corrected by {similar}: {family.votes_text()} {where}; proposing {action} instead of the model's "
            f"{c.action} (confidence {confidence:.2f}); a human approves a change that feedback chose"
        )
        corrected = replace(c, action=action, error_type=error_type, confidence=confidence)
        return Adjusted(corrected, message, Reason("CorrectedByFeedback", message), "CorrectedByFeedback")
    n = wrong.get(c.action, 0)
    if not n:
        return None  # the judgments were about other actions: nothing said about this one
    confidence = _blend(c.confidence, 0, n)
    message = f"{similar}: {family.votes_text()} {where}; confidence of {c.action} lowered to {confidence:.2f}"
    return Adjusted(replace(c, confidence=confidence), message, None, "FeedbackAgainst")
