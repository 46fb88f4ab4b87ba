"""Two models on the same events, with uncertainty: per-event outcomes and paired bootstrap intervals.

A gate that compares point figures decides on one or two events; this one asks whether a difference is
larger than what resampling the same events produces. Pure numpy, no training code: the retraining gate and
the benchmarks share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from remediator_model.calibrate import expected_calibration_error
from remediator_model.evaluate import AUTO_ACTIONS, DEFAULT_THRESHOLD
from remediator_model.predict import Prediction
from remediator_model.taxonomy import ERROR_TYPES

METRICS = ("action_accuracy", "auto_apply_precision", "coverage", "ece", "macro_f1")


@dataclass(frozen=True)
class Outcomes:
    """Per event: was the action one of the fixes, the confidence, and would it be auto-applied."""

    action_ok: np.ndarray  # bool
    confidence: np.ndarray  # float
    auto: np.ndarray  # bool: confidence >= threshold and an action the default policy auto-applies
    true_type: np.ndarray | None = None  # index in ERROR_TYPES, -1 when the event has no type label
    pred_type: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.action_ok)


def outcomes(
    acceptable: Sequence[Sequence[str]],
    preds: Sequence[Prediction],
    threshold: float = DEFAULT_THRESHOLD,
    types: Sequence[str] | None = None,
) -> Outcomes:
    """Per-event outcomes; with `types` (the true error types, "" when unknown) also the type codes that
    macro-F1 is computed from."""
    ok = np.array([q.action in a for a, q in zip(acceptable, preds, strict=True)], dtype=bool)
    conf = np.array([q.confidence for q in preds], dtype=np.float64)
    auto = np.array([c >= threshold and q.action in AUTO_ACTIONS for c, q in zip(conf, preds, strict=True)], bool)
    if types is None:
        return Outcomes(ok, conf, auto)
    true = np.array([ERROR_TYPES.index(t) if t in ERROR_TYPES else -1 for t in types], dtype=np.int64)
    pred = np.array([ERROR_TYPES.index(q.error_type) for q in preds], dtype=np.int64)
    return Outcomes(ok, conf, auto, true, pred)


def macro_f1(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro-F1 over the classes present in each row (rows: bootstrap samples; events without a type: -1)."""
    k = len(ERROR_TYPES)
    true, pred = np.atleast_2d(true), np.atleast_2d(pred)
    labelled = true >= 0
    tp = np.zeros((true.shape[0], k))
    support = np.zeros_like(tp)
    predicted = np.zeros_like(tp)
    for c in range(k):
        is_true, is_pred = (true == c) & labelled, (pred == c) & labelled
        tp[:, c] = (is_true & is_pred).sum(1)
        support[:, c] = is_true.sum(1)
        predicted[:, c] = is_pred.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(support > 0, 2 * tp / np.maximum(support + predicted, 1), np.nan)
        return np.nanmean(np.where(support > 0, f1, np.nan), axis=1)


def summary(o: Outcomes) -> dict[str, Any]:
    """Action accuracy, auto-apply precision (None when nothing is auto-applied), coverage (events
    auto-applied and right, of all), ECE of the action's confidence, counts."""
    n_auto = int(o.auto.sum())
    out: dict[str, Any] = {
        "n": o.n,
        "action_accuracy": round(float(o.action_ok.mean()), 4) if o.n else None,
        "auto_apply_precision": round(float(o.action_ok[o.auto].mean()), 4) if n_auto else None,
        "coverage": round(float((o.auto & o.action_ok).mean()), 4) if o.n else None,
        "n_auto": n_auto,
        "ece": round(expected_calibration_error(o.confidence, o.action_ok), 4) if o.n else None,
    }
    if o.true_type is not None and o.pred_type is not None and (o.true_type >= 0).any():
        out["macro_f1"] = round(float(macro_f1(o.true_type, o.pred_type)[0]), 4)
    return out


def _stats(ok: np.ndarray, auto: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorised over bootstrap rows (ok, auto: boot x n)."""
    n_auto = auto.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_auto > 0, (ok & auto).sum(1) / np.maximum(n_auto, 1), np.nan)
    return {"action_accuracy": ok.mean(1), "coverage": (ok & auto).mean(1), "auto_apply_precision": precision}


def paired_bootstrap(
    champion: Outcomes, challenger: Outcomes, n_boot: int = 2000, seed: int = 0, level: float = 0.90
) -> dict[str, dict[str, float | None]]:
    """Challenger - champion per metric: the point difference and a `level` interval from resampling the
    same events for both (paired). None where a metric is undefined (no auto-applies on either side)."""
    if champion.n != challenger.n:
        raise ValueError(f"paired comparison needs the same events: {champion.n} vs {challenger.n}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, champion.n, size=(n_boot, champion.n)) if champion.n else np.zeros((0, 0), int)
    a = _stats(champion.action_ok[idx], champion.auto[idx])
    b = _stats(challenger.action_ok[idx], challenger.auto[idx])
    point_a = _stats(champion.action_ok[None, :], champion.auto[None, :])
    point_b = _stats(challenger.action_ok[None, :], challenger.auto[None, :])
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    if champion.true_type is not None and challenger.pred_type is not None and champion.pred_type is not None:
        typed = champion.true_type >= 0
        if typed.any():
            true = champion.true_type
            a["macro_f1"], b["macro_f1"] = (
                macro_f1(true[idx], champion.pred_type[idx]),
                macro_f1(true[idx], challenger.pred_type[idx]),
            )
            point_a["macro_f1"], point_b["macro_f1"] = (
                macro_f1(true, champion.pred_type),
                macro_f1(true, challenger.pred_type),
            )
    out: dict[str, dict[str, float | None]] = {}
    for metric in ("action_accuracy", "coverage", "auto_apply_precision", "macro_f1"):
        if metric not in a:
            continue
        d = b[metric] - a[metric]
        d = d[~np.isnan(d)]
        point = float(point_b[metric][0] - point_a[metric][0]) if champion.n else float("nan")
        defined = d.size >= n_boot // 2 and not np.isnan(point)
        out[metric] = {
            "diff": round(point, 4) if defined else None,
            "low": round(float(np.percentile(d, lo_q)), 4) if defined else None,
            "high": round(float(np.percentile(d, hi_q)), 4) if defined else None,
        }
    return out
