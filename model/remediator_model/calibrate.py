"""Probability calibration as served (temperature scaling of class scores, an isotonic map of the decision
confidence), stored as plain JSON numbers and fitted by `fit_calibration`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


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
