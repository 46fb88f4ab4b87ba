"""LightGBM against the shipped linear action model, on the real corpus's source-grouped folds:

    .venv/bin/python bench/model/lightgbm_action.py [--folds 5]

Per fold (the same folds as real_eval.py): the linear type and action models are fitted on the synthetic
corpus plus the fit folds, as shipped. LightGBM is then fitted as the action model over what the linear type
model says (its 9 type probabilities) plus the structured fields (exit code, reason present, source length
buckets), on the real fit items only, and both are calibrated (isotonic) on the calibration fold and scored on
the test fold: action accuracy, ECE, and the share of confident (>= 0.9) changing actions that were right.

Writes bench/results/lightgbm_action.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "model"))

from remediator_model.calibrate import expected_calibration_error, softmax  # noqa: E402
from remediator_model.evaluate import AUTO_ACTIONS  # noqa: E402
from remediator_model.features import Featurizer  # noqa: E402
from remediator_model.fit_calibration import fit_isotonic  # noqa: E402
from remediator_model.predict import Classifier  # noqa: E402
from remediator_model.realdata import RealItem, load_real, source_folds  # noqa: E402
from remediator_model.taxonomy import ACTIONS  # noqa: E402
from remediator_model.train import (  # noqa: E402
    TrainConfig,
    balanced_real_weight,
    load_examples,
    real_examples,
    train,
)


def _design(model: object, items: list[RealItem]) -> np.ndarray:
    m = model  # a TrainedModel
    feat = Featurizer(m.features)  # type: ignore[attr-defined]
    x = feat.transform(real_examples(items, 1.0))
    pt = softmax(m.type_model.scores(x) / m.calibration.type_temperature)  # type: ignore[attr-defined]
    codes = np.array([[i.event.exit_code or 0] for i in items], dtype=np.float64)
    flags = np.array(
        [[bool(i.event.reason), bool(i.event.logs), min(len(i.event.message), 4000) / 4000] for i in items],
        dtype=np.float64,
    )
    return np.hstack([pt, codes, flags])


def _score(conf: np.ndarray, actions: list[str], items: list[RealItem]) -> dict[str, object]:
    ok = np.array([a in i.actions for a, i in zip(actions, items, strict=True)])
    auto = np.array([c >= 0.9 and a in AUTO_ACTIONS for c, a in zip(conf, actions, strict=True)])
    return {
        "action_accuracy": round(float(ok.mean()), 4),
        "ece": round(expected_calibration_error(conf, ok), 4),
        "auto_apply_n": int(auto.sum()),
        "auto_apply_precision": round(float(ok[auto].mean()), 4) if auto.any() else None,
    }


def main() -> int:
    import lightgbm as lgb  # bench only: serving never imports it

    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.time()
    items = load_real()
    synthetic = load_examples("builtin", TrainConfig(seed=args.seed))
    folds = source_folds(items, args.folds, args.seed)
    out: list[dict[str, object]] = []
    for k in range(args.folds):
        cal_k = (k + 1) % args.folds
        test = [i for i, f in zip(items, folds, strict=True) if f == k]
        cal = [i for i, f in zip(items, folds, strict=True) if f == cal_k]
        fit = [i for i, f in zip(items, folds, strict=True) if f not in (k, cal_k)]
        model = train(
            synthetic + real_examples(fit, balanced_real_weight(synthetic, len(fit))),
            TrainConfig(seed=args.seed),
            calibration=real_examples(cal, 1.0),
        )
        linear = Classifier.from_trained(model).predict_batch([i.event for i in test])
        gbm = lgb.LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=5,
            verbose=-1,
            n_jobs=1,
            random_state=args.seed,
        )
        gbm.fit(_design(model, fit), [i.actions[0] for i in fit])
        classes = list(gbm.classes_)

        def predict(
            part: list[RealItem], gbm: object = gbm, model: object = model, classes: list[str] = classes
        ) -> tuple[np.ndarray, list[str]]:
            proba = gbm.predict_proba(_design(model, part))  # type: ignore[attr-defined]
            return proba.max(1), [classes[j] for j in proba.argmax(1)]

        raw_cal, act_cal = predict(cal)
        iso = fit_isotonic(
            raw_cal, np.array([a in i.actions for a, i in zip(act_cal, cal, strict=True)]), np.ones(len(cal))
        )
        raw, acts = predict(test)
        row = {
            "fold": k + 1,
            "n": len(test),
            "linear": _score(np.array([p.confidence for p in linear]), [p.action for p in linear], test),
            "lightgbm": _score(np.asarray(iso(raw)), acts, test),
        }
        out.append(row)
        print(json.dumps(row), f"({time.time() - t0:.0f} s)", flush=True)
    summary = {
        name: {
            key: round(float(np.mean([r[name][key] for r in out])), 4)  # type: ignore[index]
            for key in ("action_accuracy", "ece")
        }
        for name in ("linear", "lightgbm")
    }
    assert all(a in ACTIONS for a in classes)
    result = {
        "command": "bench/model/lightgbm_action.py " + " ".join(sys.argv[1:]),
        "mean": summary,
        "folds": out,
        "seconds": round(time.time() - t0, 1),
    }
    (ROOT / "bench" / "results" / "lightgbm_action.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
