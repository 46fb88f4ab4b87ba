"""Model-family comparison on the real-world validation set (type prediction), same seed corpus:

    /work/.venv/bin/python bench/model/compare_models.py [--n 12000]

  * sgd-logistic  : the shipped model family (hashed word+char n-grams + structured tokens, SGD log-loss)
  * logreg-lbfgs  : multinomial LogisticRegression on the same features
  * lightgbm      : LGBMClassifier on the same hashed features (smaller hash space, LightGBM needs dense bins)
  * keyword rules : the baseline

Writes bench/model/compare_results.json. Never trains on the validation set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "model"))

from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from remediator_model.baseline import KeywordBaseline  # noqa: E402
from remediator_model.evaluate import load_labelled  # noqa: E402
from remediator_model.features import FeatureConfig, Featurizer  # noqa: E402
from remediator_model.train import TrainConfig, load_examples  # noqa: E402

VAL = HERE.parents[1] / "model" / "remediator_model" / "data" / "validation_realworld.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12000)
    args = ap.parse_args()
    ex = load_examples("builtin", TrainConfig(builtin_n=args.n))
    y = [str(e.error_type) for e in ex]
    val = load_labelled(VAL)
    yv = [d.error_class for d in val]
    res: dict[str, dict[str, float]] = {}

    def record(name: str, pred: list[str], secs: float, lat_ms: float | None = None) -> None:
        res[name] = {
            "type_accuracy": round(accuracy_score(yv, pred), 4),
            "macro_f1": round(f1_score(yv, pred, average="macro"), 4),
            "train_seconds": round(secs, 1),
        }
        if lat_ms is not None:
            res[name]["predict_ms_per_event"] = round(lat_ms, 3)
        print(name, res[name], flush=True)

    for label, fcfg in (("full", FeatureConfig()), ("small", FeatureConfig(word_features=2**14, char_features=2**13))):
        feat = Featurizer(fcfg)
        x, xv = feat.transform(ex), feat.transform([d.event for d in val])
        models = {
            "sgd-logistic": lambda: SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=12, tol=None, random_state=0),
            "logreg-lbfgs": lambda: LogisticRegression(C=20.0, max_iter=300),
        }
        for name, mk in models.items():
            t = time.time()
            clf = mk().fit(x, y)
            secs = time.time() - t
            t = time.perf_counter()
            pred = list(clf.predict(xv))
            record(f"{name}/{label}", pred, secs, (time.perf_counter() - t) / len(val) * 1000)
        if label == "small":
            import lightgbm as lgb  # only this benchmark uses LightGBM: keep it out of the library's imports

            t = time.time()
            clf = lgb.LGBMClassifier(
                n_estimators=200,
                learning_rate=0.1,
                num_leaves=31,
                min_child_samples=10,
                colsample_bytree=0.5,
                verbose=-1,
                n_jobs=1,
            )
            clf.fit(x.astype(np.float32), y)
            secs = time.time() - t
            t = time.perf_counter()
            for i in range(len(val)):  # one event at a time, as the operator calls it
                clf.predict(xv[i])
            lat = (time.perf_counter() - t) / len(val) * 1000
            record(f"lightgbm/{label}", list(clf.predict(xv)), secs, lat)
    record("keyword-baseline", [p.error_type for p in KeywordBaseline().predict_batch([d.event for d in val])], 0.0)
    (HERE / "compare_results.json").write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
