"""Held-out figures of the classifier on the real-world corpus, split by source thread:

    .venv/bin/python bench/model/real_eval.py [--folds 5] [--n 36000] [--real-weight 0 (balanced)]

For every fold of a grouped k-fold (one thread never on both sides): fit on the synthetic seed corpus plus
the real items of the other folds (and the older shaped set), calibrate on one further fold, test on this
one. Then a family hold-out: every item of one software family out (fit and calibration on the rest). The
shipped model (artifacts/default) is scored on the same test items, as the "before". Nothing here is tuned
on a test fold: real weight, hyperparameters and threshold are fixed in advance.

Writes bench/results/real_eval.json and bench/results/real_eval_reliability.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "model"))

from remediator_model.calibrate import expected_calibration_error  # noqa: E402
from remediator_model.evaluate import real_metrics  # noqa: E402
from remediator_model.predict import Classifier  # noqa: E402
from remediator_model.realdata import RealItem, load_real, source_folds  # noqa: E402
from remediator_model.train import (  # noqa: E402
    TrainConfig,
    balanced_real_weight,
    load_examples,
    real_examples,
    train,
)

THRESHOLD = 0.9
FAMILY_MIN = 60


def fit_and_score(
    synthetic: list[Any], fit: list[RealItem], cal: list[RealItem], test: list[RealItem], real_weight: float, seed: int
) -> dict[str, Any]:
    weight = real_weight or balanced_real_weight(synthetic, len(fit))
    model = train(synthetic + real_examples(fit, weight), TrainConfig(seed=seed), calibration=real_examples(cal, 1.0))
    clf = Classifier.from_trained(model, "fold")
    return real_metrics(test, clf.predict_batch([i.event for i in test]))


def pooled(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    conf = np.concatenate([r["_conf"] for r in runs])
    ok = np.concatenate([r["_ok"] for r in runs]).astype(bool)
    keys = ("macro_f1", "type_accuracy", "action_accuracy", "ece", "auto_apply_coverage_of_changing_fixes")
    out: dict[str, Any] = {k: round(float(np.mean([r[k] for r in runs])), 4) for k in keys}
    out |= {f"{k}_sd": round(float(np.std([r[k] for r in runs])), 4) for k in keys}
    auto_n = sum(r["auto_apply_n"] for r in runs)
    auto_ok = sum(r["auto_apply_n"] * (r["auto_apply_precision"] or 0) for r in runs)
    out["auto_apply_n"] = auto_n
    out["auto_apply_precision"] = round(auto_ok / auto_n, 4) if auto_n else None
    out["pooled_ece"] = round(expected_calibration_error(conf, ok), 4)
    out["n"] = len(conf)
    return out


def plot(conf: np.ndarray, ok: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = np.minimum((conf * 10).astype(int), 9)
    xs = [conf[bins == b].mean() for b in range(10) if (bins == b).any()]
    ys = [ok[bins == b].mean() for b in range(10) if (bins == b).any()]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4))
    a.plot([0, 1], [0, 1], "--", color="grey")
    a.plot(xs, ys, "o-")
    a.set(xlabel="confidence", ylabel="share of actions that fixed it", title="reliability (held-out folds)")
    b.hist(conf, bins=10, range=(0, 1))
    b.set(xlabel="confidence", ylabel="items", title="confidence histogram")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--n", type=int, default=36000)
    ap.add_argument("--real-weight", type=float, default=0.0, help="0 (default): balanced_real_weight")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--before", help="artifact directory scored as the 'before' (default: the shipped one)")
    args = ap.parse_args()
    t0 = time.time()
    items = load_real()
    folds = source_folds(items, args.folds, args.seed)
    graded = [i for i, f in zip(items, folds, strict=True) if f >= 0]
    synthetic = load_examples("builtin", TrainConfig(builtin_n=args.n, seed=args.seed))
    shipped = Classifier.load(args.before)
    runs, before = [], []
    for k in range(args.folds):
        cal_k = (k + 1) % args.folds
        test = [i for i, f in zip(items, folds, strict=True) if f == k]
        cal = [i for i, f in zip(items, folds, strict=True) if f == cal_k]
        fit = [i for i, f in zip(items, folds, strict=True) if f not in (k, cal_k)]
        runs.append(fit_and_score(synthetic, fit, cal, test, args.real_weight, args.seed))
        before.append(real_metrics(test, shipped.predict_batch([i.event for i in test])))
        print(
            f"fold {k + 1}/{args.folds}: n={len(test)} macro-F1 {runs[-1]['macro_f1']} action "
            f"{runs[-1]['action_accuracy']} auto-apply {runs[-1]['auto_apply_precision']} "
            f"(n={runs[-1]['auto_apply_n']}) ECE {runs[-1]['ece']} ({time.time() - t0:.0f} s)",
            flush=True,
        )
    families = [f for f, n in Counter(i.family for i in graded).most_common() if n >= FAMILY_MIN]
    held_out: dict[str, Any] = {}
    for family in families:
        test = [i for i in graded if i.family == family]
        out = {i.source for i in test}
        rest = [i for i in items if i.source not in out]
        rest_folds = source_folds(rest, 5, args.seed)
        cal = [i for i, f in zip(rest, rest_folds, strict=True) if f == 0]
        fit = [i for i, f in zip(rest, rest_folds, strict=True) if f != 0]
        r = fit_and_score(synthetic, fit, cal, test, args.real_weight, args.seed)
        held_out[family] = {k: v for k, v in r.items() if not k.startswith("_")}
        print(
            f"family {family} held out: n={len(test)} macro-F1 {r['macro_f1']} action {r['action_accuracy']} "
            f"auto-apply {r['auto_apply_precision']} (n={r['auto_apply_n']}) ECE {r['ece']}",
            flush=True,
        )
    conf = np.concatenate([r["_conf"] for r in runs])
    ok = np.concatenate([r["_ok"] for r in runs]).astype(bool)
    out_dir = ROOT / "bench" / "results"
    plot(conf, ok, out_dir / "real_eval_reliability.png")
    result = {
        "command": "bench/model/real_eval.py " + " ".join(sys.argv[1:]),
        "corpus": {
            "items": len(items),
            "graded_items": len(graded),
            "threads": len({i.source for i in graded}),
            "per_class": dict(Counter(i.error_class for i in graded)),
            "per_family": dict(Counter(i.family for i in graded).most_common()),
            "first_fix": dict(Counter(i.actions[0] for i in graded)),
        },
        "threshold": THRESHOLD,
        "grouped_kfold": {
            "folds": args.folds,
            "after": pooled(runs),
            "before_shipped_model": pooled(before),
            "per_fold": [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs],
        },
        "family_holdout": held_out,
        "seconds": round(time.time() - t0, 1),
    }
    (out_dir / "real_eval.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"after": pooled(runs), "before": pooled(before)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
