"""Versioned artifact directory: weights as .npy (loaded with allow_pickle=False), everything else JSON.
Loading verifies the schema, the format version and a SHA-256 checksum of every file, so a tampered or
truncated artifact is rejected and no code is ever executed from it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from remediator_model.calibrate import Calibration
from remediator_model.features import FeatureConfig
from remediator_model.linear import LinearModel
from remediator_model.model import TrainedModel
from remediator_model.taxonomy import ACTIONS, ERROR_TYPES

FORMAT = "remediator-model/1"
DEFAULT_DIR = Path(__file__).parent / "artifacts" / "default"
_ARRAYS = (
    "type_rows.npy",
    "type_values.npy",
    "type_bias.npy",
    "action_rows.npy",
    "action_values.npy",
    "action_bias.npy",
)


class ArtifactError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    path.write_bytes(buf.getvalue())


def _load_npy(path: Path, kind: str) -> np.ndarray:
    arr = np.load(path, allow_pickle=False)
    if arr.dtype.kind != kind:
        raise ArtifactError(f"{path.name}: unexpected dtype {arr.dtype}")
    return arr


def _save_sparse_rows(out: Path, prefix: str, w: np.ndarray, dtype: type) -> None:
    """Hashed weight matrices are mostly empty rows (buckets no training token hit): store the others only."""
    rows = np.flatnonzero(np.abs(w).max(axis=1) > 0).astype(np.int32)
    _save_npy(out / f"{prefix}_rows.npy", rows)
    _save_npy(out / f"{prefix}_values.npy", w[rows].astype(dtype))


def _load_sparse_rows(p: Path, prefix: str, shape: tuple[int, int]) -> np.ndarray:
    rows = _load_npy(p / f"{prefix}_rows.npy", "i")
    vals = _load_npy(p / f"{prefix}_values.npy", "f")
    if (
        vals.ndim != 2
        or vals.shape != (len(rows), shape[1])
        or (len(rows) and (rows.min() < 0 or rows.max() >= shape[0]))
    ):
        raise ArtifactError(f"{prefix} weights do not match the feature schema")
    w = np.zeros(shape, dtype=np.float32)
    w[rows] = vals
    return w


def make_version(model: TrainedModel) -> str:
    """Date + a hash of what determines the model: training data, feature schema, training config."""
    h = hashlib.sha256(
        json.dumps([model.data_hash, model.features.to_dict(), model.train_config], sort_keys=True).encode()
    ).hexdigest()
    return f"{dt.datetime.now(dt.UTC):%Y%m%d}-{h[:8]}"


def save(
    model: TrainedModel,
    out: str | Path,
    version: str | None = None,
    extra_metrics: dict[str, Any] | None = None,
    half_precision: bool = True,
) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wdt = np.float16 if half_precision else np.float32
    _save_sparse_rows(out, "type", model.type_model.weights, wdt)
    _save_npy(out / "type_bias.npy", model.type_model.bias.astype(np.float32))
    _save_sparse_rows(out, "action", model.action_model.weights, wdt)
    _save_npy(out / "action_bias.npy", model.action_model.bias.astype(np.float32))
    (out / "calibration.json").write_text(json.dumps(model.calibration.to_dict(), indent=1))
    files = [*list(_ARRAYS), "calibration.json"]
    meta = {
        "format": FORMAT,
        "version": version or make_version(model),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_hash": model.data_hash,
        "error_types": list(model.type_model.classes),
        "actions": list(model.action_model.classes),
        "type_scale": model.type_scale,
        "feature_schema": model.features.to_dict(),
        "train_config": model.train_config,
        "metrics": {**model.metrics, **(extra_metrics or {})},
        "checksums": {f: _sha256(out / f) for f in files},
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    return out


def load(path: str | Path | None = None) -> tuple[TrainedModel, dict[str, Any]]:
    p = Path(path) if path is not None else DEFAULT_DIR
    mfile = p / "metadata.json"
    if not mfile.exists():
        raise ArtifactError(f"no model artifact at {p} (metadata.json missing)")
    try:
        meta = json.loads(mfile.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{mfile}: invalid JSON: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ArtifactError(f"unsupported artifact format {meta.get('format')!r} (expected {FORMAT})")
    sums = meta.get("checksums") or {}
    for f in [*_ARRAYS, "calibration.json"]:
        fp = p / f
        if f not in sums or not fp.exists():
            raise ArtifactError(f"artifact file {f} missing")
        if _sha256(fp) != sums[f]:
            raise ArtifactError(
                f"checksum mismatch for {f} in {p}: the artifact was modified or corrupted; "
                + (
                    "rebuild the shipped one with `python -m remediator_model.build_default` (or git checkout it)"
                    if p.resolve() == DEFAULT_DIR.resolve()
                    else "copy it again from where it was built, or rebuild it "
                    "(`python -m remediator_model.build_default` for the shipped one)"
                )
            )
    if tuple(meta["error_types"]) != ERROR_TYPES or tuple(meta["actions"]) != ACTIONS:
        raise ArtifactError("artifact taxonomy does not match this library version")
    try:
        fcfg = FeatureConfig.from_dict(meta["feature_schema"])
    except (ValueError, TypeError) as exc:
        raise ArtifactError(str(exc)) from None
    tw = _load_sparse_rows(p, "type", (fcfg.n_features, len(ERROR_TYPES)))
    aw = _load_sparse_rows(p, "action", (fcfg.n_features + len(ERROR_TYPES), len(ACTIONS)))
    tb = _load_npy(p / "type_bias.npy", "f").astype(np.float32)
    ab = _load_npy(p / "action_bias.npy", "f").astype(np.float32)
    if tb.shape != (len(ERROR_TYPES),) or ab.shape != (len(ACTIONS),):
        raise ArtifactError("bias shapes do not match the taxonomy")
    calib = Calibration.from_dict(json.loads((p / "calibration.json").read_text()))
    model = TrainedModel(
        fcfg,
        LinearModel(ERROR_TYPES, tw, tb),
        LinearModel(ACTIONS, aw, ab),
        calib,
        float(meta.get("type_scale", 1.0)),
        dict(meta.get("metrics", {})),
        str(meta.get("data_hash", "")),
        dict(meta.get("train_config", {})),
    )
    return model, meta
