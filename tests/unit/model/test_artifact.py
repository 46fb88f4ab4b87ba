import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from remediator_model import artifact
from remediator_model.artifact import ArtifactError
from remediator_model.predict import Classifier, ErrorInput


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_artifact_roundtrip_preserves_predictions(small_model, small_artifact: Path) -> None:
    e = ErrorInput(reason="CreateContainerConfigError", message='Error: configmap "api-config" not found')
    a = Classifier.from_trained(small_model, "test-1").predict(e)
    b = Classifier.load(small_artifact).predict(e)
    assert (a.error_type, a.action) == (b.error_type, b.action)
    assert abs(a.confidence - b.confidence) < 0.02  # weights are stored in half precision


def test_artifact_has_metadata_and_no_pickles(small_artifact: Path) -> None:
    meta = json.loads((small_artifact / "metadata.json").read_text())
    for key in ("version", "trained_at", "data_hash", "metrics", "feature_schema", "checksums"):
        assert key in meta
    for f in small_artifact.iterdir():
        assert f.suffix in (".json", ".npy")
        if f.suffix == ".npy":
            assert np.load(f, allow_pickle=False).dtype != object


def test_artifact_loading_rejects_tampered_checksum(small_artifact: Path, tmp_path: Path) -> None:
    d = _copy(small_artifact, tmp_path)
    w = np.load(d / "type_values.npy", allow_pickle=False)
    w[0, 0] += 1
    np.save(d / "type_values.npy", w, allow_pickle=False)
    with pytest.raises(ArtifactError, match="checksum"):
        artifact.load(d)


def test_artifact_loading_rejects_unknown_format_and_missing_files(small_artifact: Path, tmp_path: Path) -> None:
    d = _copy(small_artifact, tmp_path)
    meta = json.loads((d / "metadata.json").read_text())
    meta["format"] = "something-else/9"
    (d / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format"):
        artifact.load(d)
    d2 = tmp_path / "copy2"
    shutil.copytree(small_artifact, d2)
    (d2 / "calibration.json").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        artifact.load(d2)
    with pytest.raises(ArtifactError):
        artifact.load(tmp_path / "nowhere")


def test_default_artifact_ships_in_the_package_and_is_small() -> None:
    d = artifact.DEFAULT_DIR
    if not (d / "metadata.json").exists():
        pytest.skip("default artifact not built yet (python -m remediator_model.build_default)")
    assert sum(f.stat().st_size for f in d.iterdir()) <= 10 * 1024 * 1024
    clf = Classifier.load()
    assert clf.predict(ErrorInput(reason="OOMKilled", exit_code=137)).error_type == "oom"
