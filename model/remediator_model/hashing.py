"""Feature hashing and word n-grams, identical to what the artifacts were trained with (scikit-learn's
HashingVectorizer with alternate_sign=False and its word analyzer), without importing scikit-learn or SciPy:
serving needs only these two functions, and the two libraries cost the operator about 100 MB of memory.
tests/unit/model/test_hashing.py checks the equality against scikit-learn on the shipped corpus."""

from __future__ import annotations

import re
from collections.abc import Sequence

import mmh3
import numpy as np

_INT32_MIN = -(2**31)


def column(token: str, n_features: int) -> int:
    """The column of one token: |murmur3_32(utf-8 bytes, seed 0)| mod n, as scikit-learn computes it (its
    Cython core maps -2**31, whose absolute value does not fit an int32, to (2**31 - 1 - (n - 1)) mod n)."""
    h = mmh3.hash(token, 0, signed=True)
    if h == _INT32_MIN:
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(h) % n_features


def columns(docs: Sequence[Sequence[str]], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of every token of every doc, in token order, and the CSR row pointer: (indices, indptr)."""
    indices: list[int] = []
    ptr = [0]
    for doc in docs:
        indices.extend(column(t, n_features) for t in doc)
        ptr.append(len(indices))
    return np.asarray(indices, dtype=np.int64), np.asarray(ptr, dtype=np.int64)


class WordNgrams:
    """Tokens matched by `pattern`, then the n-grams of sizes lo..hi joined by a space, in scikit-learn's
    order: all unigrams first, then the bigrams left to right, and so on."""

    def __init__(self, pattern: str, lo: int = 1, hi: int = 2) -> None:
        if not 1 <= lo <= hi:
            raise ValueError(f"n-gram range ({lo}, {hi}) must have 1 <= lo <= hi")
        self._findall = re.compile(pattern).findall
        self.lo, self.hi = lo, hi

    def __call__(self, text: str) -> list[str]:
        words: list[str] = self._findall(text)
        out = list(words) if self.lo == 1 else []
        for n in range(max(self.lo, 2), min(self.hi, len(words)) + 1):
            out.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return out
