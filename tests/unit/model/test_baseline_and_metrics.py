import numpy as np

from remediator_model.baseline import KeywordBaseline
from remediator_model.calibrate import expected_calibration_error
from remediator_model.evaluate import LabelledEvent, compute_metrics
from remediator_model.fit_calibration import fit_isotonic
from remediator_model.predict import ErrorInput, Prediction


def test_keyword_baseline_applies_first_matching_rule() -> None:
    b = KeywordBaseline()
    assert b.predict(ErrorInput(reason="OOMKilled", exit_code=137)).error_type == "oom"
    assert b.predict(ErrorInput(message='Failed to pull image "x": manifest unknown')).error_type == "image_pull"
    assert b.predict(ErrorInput(message="all good")).confidence < 0.5


def test_auto_apply_precision_counts_type_and_action() -> None:
    data = [
        LabelledEvent(ErrorInput(message="m"), "oom", ("increase_memory",)),
        LabelledEvent(ErrorInput(message="m"), "timeout", ("scale_up",)),
        LabelledEvent(ErrorInput(message="m"), "timeout", ("scale_up",)),
    ]
    preds = [
        Prediction("oom", "increase_memory", 0.95, "timeout", 0.01, ""),
        Prediction("timeout", "notify", 0.92, "oom", 0.01, ""),  # type right, action wrong
        Prediction("timeout", "scale_up", 0.5, "oom", 0.01, ""),
    ]
    m = compute_metrics(data, preds, 0.9)
    assert m["auto_apply"]["coverage"] == round(2 / 3, 4)
    assert m["auto_apply"]["precision"] == 0.5
    assert m["action_accuracy"] == round(2 / 3, 4)


def test_ece_is_zero_for_perfect_calibration_and_isotonic_is_monotone() -> None:
    conf = np.array([0.95] * 20 + [0.05] * 20)
    ok = np.array([1] * 19 + [0] + [0] * 19 + [1])
    assert expected_calibration_error(conf, ok) < 1e-9
    rng = np.random.default_rng(0)
    raw = rng.random(500)
    iso = fit_isotonic(raw, rng.random(500) < raw)
    ys = iso(np.linspace(0, 1, 50))
    assert np.all(np.diff(ys) >= -1e-12)
