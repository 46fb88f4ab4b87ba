"""A linear multi-class scorer stored as plain arrays: scores = x @ W + b."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scores() takes a SciPy matrix from the batch path; serving (scores_one) needs no SciPy
    import scipy.sparse as sp


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    weights: np.ndarray  # (n_features, n_classes) float32
    bias: np.ndarray  # (n_classes,) float32

    def scores(self, x: sp.csr_matrix) -> np.ndarray:
        out: np.ndarray = np.asarray(x @ self.weights) + self.bias
        return out

    def scores_one(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        out: np.ndarray = val @ self.weights[idx] + self.bias
        return out

    @classmethod
    def from_sklearn(cls, clf: object, classes: list[str]) -> LinearModel:
        coef = np.asarray(clf.coef_, dtype=np.float32)  # type: ignore[attr-defined]
        intercept = np.asarray(clf.intercept_, dtype=np.float32)  # type: ignore[attr-defined]
        fitted = [str(c) for c in clf.classes_]  # type: ignore[attr-defined]
        if coef.shape[0] == 1:  # binary problem: sklearn stores one row for the positive class
            coef = np.vstack([-coef, coef]) / 2.0
            intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32) / 2.0
        w = np.zeros((coef.shape[1], len(classes)), dtype=np.float32)
        b = np.full(len(classes), -30.0, dtype=np.float32)  # classes never seen in training are never predicted
        for j, c in enumerate(fitted):
            k = classes.index(c)
            w[:, k] = coef[j]
            b[k] = intercept[j]
        return cls(tuple(classes), w, b)
