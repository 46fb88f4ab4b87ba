"""How much the model gains per real training example: action accuracy on the real corpus's test part when
fitted on a growing share of the fit part's threads (calibrated on the calibration part each time). It puts a
learning curve from feedback in context: N human corrections of real errors are, at best, N more real items.

    .venv/bin/python bench/model/real_size_curve.py [--shares 0.25,0.5,0.75,1.0] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "model"))

from remediator_model.evaluate import real_metrics  # noqa: E402
from remediator_model.predict import Classifier  # noqa: E402
from remediator_model.realdata import load_real, split  # noqa: E402
from remediator_model.train import TrainConfig, balanced_real_weight, load_examples, real_examples, train  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shares", default="0.25,0.5,0.75,1.0")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "real_size_curve.json"))
    args = ap.parse_args()
    cfg = TrainConfig()
    seed = load_examples("builtin", cfg)
    parts = split(load_real(), seed=0)
    sources = sorted({i.source for i in parts.fit})
    order = np.random.default_rng(0).permutation(len(sources))
    rows = []
    for share in (float(s) for s in args.shares.split(",")):
        keep = {sources[k] for k in order[: round(share * len(sources))]}
        fit = [i for i in parts.fit if i.source in keep]
        started = time.monotonic()
        model = train(
            [*seed, *real_examples(fit, balanced_real_weight(seed, len(fit)))],
            cfg,
            calibration=real_examples(parts.calibrate, 1.0),
        )
        clf = Classifier(model, f"share-{share}")
        m = real_metrics(parts.test, clf.predict_batch([i.event for i in parts.test]))
        row = {
            "share": share,
            "real_fit_items": len(fit),
            "macro_f1": m["macro_f1"],
            "action_accuracy": m["action_accuracy"],
            "ece": m["ece"],
            "auto_apply_n": m["auto_apply_n"],
            "seconds": round(time.monotonic() - started, 1),
        }
        rows.append(row)
        print(json.dumps(row))
    result = {
        "command": "bench/model/real_size_curve.py --shares " + args.shares,
        "data": f"fit: subsets of {len(parts.fit)} real items by thread; calibrated on {len(parts.calibrate)}; "
        f"tested on the {len(parts.test)}-item test part (never fitted, calibrated or selected on)",
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
