"""Pure parts of remediator.learning.retrain: feedback -> training examples, deduplication, the publish decision."""

from __future__ import annotations

from typing import Any

from remediator.learning import feedback as fb
from remediator.learning.retrain import (
    Tolerance,
    compare,
    dedupe_feedback,
    example_from_feedback,
    examples_from_feedback,
)
from tests.unit.operator.helpers import errorevent, remediation


def _doc(feedback: dict[str, Any], *, with_text: bool = True, uid: str = "r1", **spec: Any) -> dict[str, Any]:
    rem = remediation(uid=uid, feedback={**feedback, "recorded": False}, **spec)
    return fb.feedback_document(rem, errorevent() if with_text else None)


def test_correct_feedback_is_an_example_of_the_remediation_itself() -> None:
    ex = example_from_feedback(_doc({"label": "correct", "source": "verification"}))
    assert not isinstance(ex, str)
    assert (ex.error_type, ex.action, ex.actions) == ("oom", "increase_memory", ("increase_memory",))
    assert (ex.reason, ex.exit_code, ex.source) == ("OOMKilled", 137, "cluster")
    assert ex.weight == fb.WEIGHTS["verification"] and ex.group.startswith("feedback-")


def test_incorrect_feedback_becomes_the_corrected_label() -> None:
    both = example_from_feedback(
        _doc({"label": "incorrect", "source": "human", "correctAction": "rollback", "correctType": "config_issue"})
    )
    assert not isinstance(both, str)
    assert (both.error_type, both.action, both.weight) == ("config_issue", "rollback", fb.WEIGHTS["human"])
    action_only = example_from_feedback(_doc({"label": "incorrect", "source": "human", "correctAction": "notify"}))
    assert not isinstance(action_only, str)
    assert (action_only.error_type, action_only.action) == (None, "notify"), "the type head learns nothing"
    type_only = example_from_feedback(_doc({"label": "incorrect", "source": "human", "correctType": "timeout"}))
    assert not isinstance(type_only, str)
    assert (type_only.error_type, type_only.action, type_only.actions) == (
        "timeout",
        "scale_up",
        ("scale_up", "notify", "restart_pod"),
    )


def test_uncorrected_and_textless_feedback_is_skipped() -> None:
    assert example_from_feedback(_doc({"label": "incorrect", "source": "rejection"})) == "uncorrected"
    assert example_from_feedback(_doc({"label": "incorrect", "source": "verification"})) == "uncorrected"
    textless = _doc({"label": "correct", "source": "verification"}, with_text=False)
    assert example_from_feedback(textless) == "no_text"
    texts = {"shop/web-oom": fb.errorevent_document(errorevent(message="from the archive"))}
    ex = example_from_feedback(textless, texts)
    assert not isinstance(ex, str) and ex.message == "from the archive"


def test_dedupe_keeps_the_strongest_source_per_remediation() -> None:
    docs = [
        _doc({"label": "correct", "source": "verification"}),
        _doc({"label": "incorrect", "source": "human", "correctAction": "notify"}),
        _doc({"label": "correct", "source": "verification"}, uid="r2"),
    ]
    kept = dedupe_feedback(docs)
    assert sorted(d["source"] for d in kept) == ["human", "verification"]
    examples, counts = examples_from_feedback([*docs, _doc({"label": "incorrect", "source": "rejection"}, uid="r3")])
    assert len(examples) == 2
    assert counts == {"used_human": 1, "used_verification": 1, "skipped_uncorrected": 1}


def _m(f1: float, precision: float | None) -> dict[str, Any]:
    return {"macro_f1": f1, "auto_apply": {"precision": precision}}


def test_compare_within_tolerance_publishes() -> None:
    champ = {"seed_holdout": _m(0.95, 0.99), "realworld": _m(0.80, 0.97)}
    ok, reasons = compare(champ, {"seed_holdout": _m(0.945, 0.985), "realworld": _m(0.82, 0.99)})
    assert ok, reasons


def test_compare_refuses_a_worse_guarded_metric_on_any_set() -> None:
    champ = {"seed_holdout": _m(0.95, 0.99), "realworld": _m(0.80, 0.97)}
    ok, reasons = compare(champ, {"seed_holdout": _m(0.95, 0.99), "realworld": _m(0.78, 0.99)})
    assert not ok and any("realworld: macro-F1" in r and "<" in r for r in reasons)
    ok, reasons = compare(champ, {"seed_holdout": _m(0.96, 0.97), "realworld": _m(0.80, 0.97)})
    assert not ok and any("seed_holdout: auto-apply precision" in r and "<" in r for r in reasons)
    ok, _ = compare(champ, {"seed_holdout": _m(0.96, 0.97), "realworld": _m(0.80, 0.97)}, Tolerance(0.01, 0.05))
    assert ok


def test_compare_without_champion_or_auto_apply() -> None:
    assert compare(None, {"realworld": _m(0.5, 0.5)})[0]
    ok, reasons = compare({"realworld": _m(0.8, 0.99)}, {"realworld": _m(0.8, None)})
    assert ok and any("auto-apply precision None vs champion 0.99: ok" in r for r in reasons)


def test_a_challenger_that_auto_applies_where_the_champion_is_careful_needs_the_floor() -> None:
    careful = {"realworld": _m(0.86, None)}
    ok, reasons = compare(careful, {"realworld": _m(0.86, 0.15)})
    assert not ok and any("champion auto-applies nothing" in r for r in reasons)
    assert compare(careful, {"realworld": _m(0.86, 0.97)})[0]
    assert compare(careful, {"realworld": _m(0.86, None)})[0]
