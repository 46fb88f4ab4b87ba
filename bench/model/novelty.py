"""Novelty against correctness on the real corpus: the calibration part (which chose the operator's
NOVELTY_LIMIT) and the test part (which chose nothing), with the shipped model.

    .venv/bin/python bench/model/novelty.py [--model DIR] [--out bench/results/novelty.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from remediator_model.predict import Classifier
from remediator_model.realdata import load_real, split

BINS = ((0.0, 0.25), (0.25, 0.5), (0.5, 1.01))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default="bench/results/novelty.json")
    args = parser.parse_args()
    clf = Classifier.load(args.model)
    parts = split(load_real(), seed=0)
    result: dict[str, object] = {"model": clf.version, "parts": {}}
    for name, items in (("calibrate", parts.calibrate), ("test", parts.test)):
        preds = clf.predict_batch([i.event for i in items])
        novelty = np.array([p.novelty for p in preds])
        right = np.array([p.action in i.actions for p, i in zip(preds, items, strict=True)])
        conf = np.array([p.confidence for p in preds])
        rows = []
        for lo, hi in BINS:
            sel = (novelty >= lo) & (novelty < hi)
            rows.append(
                {
                    "novelty": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                    "n": int(sel.sum()),
                    "action_right": round(float(right[sel].mean()), 3) if sel.any() else None,
                    "mean_confidence": round(float(conf[sel].mean()), 3) if sel.any() else None,
                }
            )
            print(
                f"{name:9} novelty {rows[-1]['novelty']}: n={rows[-1]['n']:3} right={rows[-1]['action_right']} "
                f"confidence={rows[-1]['mean_confidence']}"
            )
        result["parts"][name] = {"n": len(items), "bins": rows}  # type: ignore[index]
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
