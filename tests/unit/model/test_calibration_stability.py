"""Calibration that feedback cannot bend: it is fitted on the real corpus's calibration part, which feedback
never enters, so consistent corrections of one family leave the confidence of unrelated classes alone."""

from __future__ import annotations

import numpy as np

from remediator_model.predict import Classifier, ErrorInput
from remediator_model.realdata import load_real, split
from remediator_model.train import TrainConfig, TrainExample, balanced_real_weight, load_examples, real_examples, train

CFG = TrainConfig(builtin_n=4000, epochs=6)


def _classifier(feedback: list[TrainExample]) -> Classifier:
    seed = load_examples("builtin", CFG)
    real = split(load_real(), seed=0)
    fit = real_examples(real.fit, balanced_real_weight(seed, len(real.fit)))
    model = train([*seed, *fit, *feedback], CFG, calibration=real_examples(real.calibrate, 1.0))
    return Classifier(model, "test")


def test_consistent_feedback_on_one_family_does_not_deflate_unrelated_classes() -> None:
    corrections = [
        TrainExample(
            reason="Error",
            message=f"context deadline exceeded while calling payments-{i}.prod.svc:8443",
            error_type="timeout",
            action="notify",
            actions=("notify",),
            weight=20.0,
        )
        for i in range(30)  # the same correction 30 times: what once drove one global temperature to 15
    ]
    before, after = _classifier([]), _classifier(corrections)
    unrelated = [i for i in split(load_real(), seed=0).test if i.error_class not in ("timeout", "dependency_error")]
    events = [i.event for i in unrelated]
    conf_before = np.array([p.confidence for p in before.predict_batch(events)])
    conf_after = np.array([p.confidence for p in after.predict_batch(events)])
    assert len(unrelated) > 100
    assert conf_after.mean() >= conf_before.mean() - 0.02, (conf_before.mean(), conf_after.mean())
    probe = ErrorInput(reason="Error", message="context deadline exceeded while calling ledger.prod.svc:9443")
    assert after.predict(probe).action == "notify"  # and the family did learn
