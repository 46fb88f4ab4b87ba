"""Serving (predict, artifact) must not load training code, the corpus or the heavy optional libraries."""

from __future__ import annotations

import json
import subprocess
import sys

TRAINING_ONLY = (
    "remediator_model.train",
    "remediator_model.fit_calibration",
    "remediator_model.corpus",
    "sklearn.linear_model",
    "sklearn.isotonic",
    "lightgbm",
    "matplotlib",
    # The operator's memory: scikit-learn and SciPy cost it about 100 MB; serving hashes with
    # remediator_model.hashing (equal to scikit-learn's, tests/unit/model/test_hashing.py) and no SciPy.
    "sklearn",
    "scipy",
)


def test_importing_predict_and_artifact_loads_no_training_code() -> None:
    # A fresh interpreter: in this process the session fixtures have already imported train.
    code = (
        "import json, sys\n"
        "import remediator_model.predict, remediator_model.artifact\n"
        "remediator_model.predict.Classifier.load().predict(remediator_model.predict.ErrorInput(reason='OOMKilled'))\n"
        f"prefixes = {TRAINING_ONLY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(prefixes))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
