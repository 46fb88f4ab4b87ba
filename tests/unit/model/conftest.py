"""Tiny models trained once per session on small corpora (seconds, not minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator_model import artifact
from remediator_model.model import TrainedModel
from remediator_model.predict import Classifier
from remediator_model.train import TrainConfig, load_examples, train

SMALL = TrainConfig(builtin_n=2700, n_folds=2, calib_max=1200, epochs=8, seed=3)


@pytest.fixture(scope="session")
def small_model() -> TrainedModel:
    return train(load_examples("builtin", SMALL), SMALL)


@pytest.fixture(scope="session")
def small_artifact(small_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artifact.save(small_model, tmp_path_factory.mktemp("art") / "model", version="test-1")


@pytest.fixture(scope="session")
def clf(small_artifact: Path) -> Classifier:
    return Classifier.load(small_artifact)
