"""Pure parts of remediator.learning.retrain: feedback -> training examples, deduplication, the publish decision."""

from __future__ import annotations

from typing import Any

import numpy as np

from remediator.learning import feedback as fb
from remediator.learning.retrain import (
    compare_outcomes,
    dedupe_feedback,
    drop_contradicted,
    example_from_feedback,
    examples_from_feedback,
    newest_slice,
)
from remediator_model.compare import Outcomes
from remediator_model.train import TrainExample
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


# ---------------------------------------------------------------------------- the gate on per-event outcomes
def _o(right: int, wrong: int, auto_right: int = 0, auto_wrong: int = 0, conf: float | None = None) -> Outcomes:
    """Outcomes of right+wrong events; the first auto_right of the right ones and the first auto_wrong of the
    wrong ones are auto-applied (confidence 0.95), the rest sit at `conf` (default: their accuracy)."""
    ok = np.array([True] * right + [False] * wrong)
    auto = np.array([i < auto_right for i in range(right)] + [i < auto_wrong for i in range(wrong)])
    base = right / (right + wrong) if conf is None else conf
    return Outcomes(ok, np.where(auto, 0.95, base), auto)


def test_one_or_two_events_never_decide() -> None:
    champ, chal = {"realworld": _o(60, 40, 50)}, {"realworld": _o(58, 42, 49)}
    ok, reasons, table = compare_outcomes(champ, chal)
    assert ok, reasons
    assert any("action accuracy 0.6 -> 0.58" in r and "unchanged within noise" in r for r in reasons)
    interval = table["realworld"]["bootstrap"]["action_accuracy"]
    assert interval["low"] < 0 <= interval["high"]  # a loss on 2 events of 100: resampling often misses both


def test_a_clear_gain_is_reported_and_a_clear_loss_refused() -> None:
    ok, reasons, _ = compare_outcomes({"feedback_newest": _o(30, 30)}, {"feedback_newest": _o(50, 10)})
    assert ok and any("feedback_newest: action accuracy" in r and "improved" in r for r in reasons)
    ok, reasons, _ = compare_outcomes({"realworld": _o(80, 20)}, {"realworld": _o(60, 40)})
    assert not ok and any("refused: the whole interval lies below -0.01" in r for r in reasons)


def test_a_challenger_that_halves_coverage_is_refused() -> None:
    ok, reasons, _ = compare_outcomes({"realworld": _o(90, 10, 80)}, {"realworld": _o(90, 10, 35)})
    assert not ok and any("less than half the champion's" in r for r in reasons)


def test_losing_the_auto_applies_of_an_overconfident_champion_is_no_loss() -> None:
    reckless = {"realworld": _o(90, 10, 40, 10)}  # 40 right and 10 wrong auto-applies: precision 0.8
    ok, reasons, _ = compare_outcomes(reckless, {"realworld": _o(90, 10)})
    assert ok, reasons
    assert any("precision 0.8 is below the floor: not a loss" in r for r in reasons)


def test_auto_apply_precision_below_the_floor_is_refused_unless_it_is_the_champions_level() -> None:
    careful = {"realworld": _o(60, 40)}
    ok, reasons, _ = compare_outcomes(careful, {"realworld": _o(60, 40, 20, 10)})
    assert not ok and any("below the floor 0.95" in r for r in reasons)
    ok, _, _ = compare_outcomes({"realworld": _o(60, 40, 20, 10)}, {"realworld": _o(60, 40, 20, 10)})
    assert ok  # the champion's own level: not a regression


def test_calibration_that_worsens_is_refused() -> None:
    ok, reasons, _ = compare_outcomes({"realworld": _o(60, 40, conf=0.6)}, {"realworld": _o(60, 40, conf=0.95)})
    assert not ok and any("ECE 0.000 -> 0.350 exceeds 0.070" in r for r in reasons)


def test_a_small_set_is_reported_but_decides_nothing() -> None:
    ok, reasons, _ = compare_outcomes({"feedback_newest": _o(10, 0)}, {"feedback_newest": _o(0, 10)})
    assert ok and reasons == ["feedback_newest: 10 events, fewer than 20: reported, not decisive"]


def test_the_newest_judged_remediations_are_held_out() -> None:
    docs = [{"remediation": f"r{i}", "created_at": f"2026-12-01T00:{i:02d}:00"} for i in range(20)]
    docs.append({"remediation": "r3", "created_at": "2026-12-01T01:00:00"})  # r3 judged again, latest of all
    train, held = newest_slice(docs)
    assert sorted({d["remediation"] for d in held}) == ["r17", "r18", "r19", "r3"]
    assert not {d["remediation"] for d in train} & {d["remediation"] for d in held}
    assert newest_slice(docs[:9]) == (docs[:9], [])  # too few to judge anything: all of it is learned


def test_feedback_drops_only_the_seed_examples_of_its_own_family_that_it_contradicts() -> None:
    family = "dial tcp {}:5432: i/o timeout"
    seed = [
        TrainExample(reason="Error", message=family.format("10.0.0.1"), error_type="timeout", action="scale_up"),
        TrainExample(reason="Error", message=family.format("db.svc.local"), error_type="timeout", action="notify"),
        TrainExample(reason="Error", message="read tcp: connection reset by peer", action="scale_up"),
    ]
    human = TrainExample(
        reason="Error", message=family.format("redis"), action="notify", actions=("notify",), weight=20
    )
    kept, dropped = drop_contradicted(seed, [human])
    assert dropped == 1 and [e.message for e in kept] == [seed[1].message, seed[2].message]
    automatic = TrainExample(reason="Error", message=family.format("redis"), action="notify", weight=5)
    assert drop_contradicted(seed, [automatic]) == (seed, 0)  # a verification outcome contradicts nothing


def test_on_the_synthetic_hold_out_coverage_and_calibration_are_reported_not_decisive() -> None:
    seed_calibrated, real_calibrated = _o(95, 5, 90, conf=0.95), _o(95, 5, 10, conf=0.6)
    ok, reasons, _ = compare_outcomes({"seed_holdout": seed_calibrated}, {"seed_holdout": real_calibrated})
    assert ok, reasons
    assert any("synthetic set: coverage is reported" in r for r in reasons)
    assert any("ECE" in r and "synthetic set: reported, not decisive" in r for r in reasons)
    ok, _, _ = compare_outcomes({"realworld": seed_calibrated}, {"realworld": real_calibrated})
    assert not ok  # the same loss on a real set decides


def test_the_type_macro_f1_is_judged_with_its_interval_not_two_events() -> None:
    true = np.array([i % 9 for i in range(210)])
    pred_old = true.copy()
    pred_new = true.copy()
    pred_new[:2] = (true[:2] + 1) % 9  # two type predictions lost: the refused challenger
    ok_all = np.ones(210, bool)
    conf, auto = np.full(210, 0.5), np.zeros(210, bool)
    old, new = Outcomes(ok_all, conf, auto, true, pred_old), Outcomes(ok_all, conf, auto, true, pred_new)
    ok, reasons, table = compare_outcomes({"realworld": old}, {"realworld": new})
    assert ok, reasons
    assert table["realworld"]["challenger"]["macro_f1"] < table["realworld"]["champion"]["macro_f1"] == 1.0
    pred_bad = np.where(np.arange(210) < 60, (true + 1) % 9, true)  # 60 of 210 lost: a real regression
    ok, reasons, _ = compare_outcomes({"realworld": old}, {"realworld": Outcomes(ok_all, conf, auto, true, pred_bad)})
    assert not ok and any("realworld: macro f1" in r and "refused" in r for r in reasons)
