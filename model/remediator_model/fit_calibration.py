"""Fitting the calibration maps on out-of-fold scores (training only: needs scipy.optimize and sklearn)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression

from remediator_model.calibrate import IsotonicMap, softmax


def fit_temperature(scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Temperature T minimising the (weighted) NLL of softmax(scores / T)."""
    w = np.ones(len(y)) if weights is None else weights

    def nll(log_t: float) -> float:
        p = softmax(scores / np.exp(log_t))
        return float(-(w * np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))).sum() / w.sum())

    res = minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded")
    return float(np.exp(res.x))


def fit_isotonic(
    raw: np.ndarray, correct: np.ndarray, weights: np.ndarray | None = None, max_value: float = 0.995
) -> IsotonicMap:
    iso = IsotonicRegression(y_min=0.0, y_max=max_value, increasing=True, out_of_bounds="clip")
    iso.fit(raw, correct.astype(float), sample_weight=weights)
    xs = np.asarray(iso.X_thresholds_, dtype=float)
    ys = np.asarray(iso.y_thresholds_, dtype=float)
    if len(xs) < 2:
        xs, ys = np.array([0.0, 1.0]), np.array([ys[0] if len(ys) else 0.5] * 2)
    return IsotonicMap(tuple(xs.tolist()), tuple(ys.tolist()))
