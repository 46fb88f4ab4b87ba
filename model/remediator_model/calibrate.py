"""Probability calibration: temperature scaling of class scores and isotonic mapping of the decision
confidence. Both are plain numbers, stored as JSON."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def fit_temperature(scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Temperature T minimising the (weighted) NLL of softmax(scores / T)."""
    w = np.ones(len(y)) if weights is None else weights

    def nll(log_t: float) -> float:
        p = softmax(scores / np.exp(log_t))
        return float(-(w * np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))).sum() / w.sum())

    res = minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded")
    return float(np.exp(res.x))


@dataclass(frozen=True)
class IsotonicMap:
    """Monotone map raw confidence -> probability the decision is right (piecewise linear)."""

    x: tuple[float, ...] = (0.0, 1.0)
    y: tuple[float, ...] = (0.0, 1.0)

    def __call__(self, raw: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(raw, self.x, self.y))

    def to_dict(self) -> dict[str, Any]:
        return {"x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IsotonicMap:
        x, y = tuple(float(v) for v in d["x"]), tuple(float(v) for v in d["y"])
        if len(x) != len(y) or len(x) < 2 or any(b < a for a, b in itertools.pairwise(x)):
            raise ValueError("invalid isotonic map")
        return cls(x, y)


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


@dataclass(frozen=True)
class Calibration:
    type_temperature: float = 1.0
    action_temperature: float = 1.0
    decision: IsotonicMap = field(default_factory=IsotonicMap)
    runner_up: IsotonicMap = field(default_factory=IsotonicMap)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type_temperature": self.type_temperature,
            "action_temperature": self.action_temperature,
            "decision": self.decision.to_dict(),
            "runner_up": self.runner_up.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(
            float(d["type_temperature"]),
            float(d["action_temperature"]),
            IsotonicMap.from_dict(d["decision"]),
            IsotonicMap.from_dict(d["runner_up"]),
        )


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(conf) == 0:
        return 0.0
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(ece)
