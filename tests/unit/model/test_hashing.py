"""remediator_model.hashing must give the columns scikit-learn gave when the artifacts were trained."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from remediator_model import hashing
from remediator_model.features import Featurizer, texts
from remediator_model.realdata import load_real

N_FEATURES = 2**18


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    cfg = Featurizer().cfg
    out = []
    for item in load_real():
        word, char = texts(item.event, cfg)
        out += [word, char]
    assert len(out) > 1000
    return out


def test_word_ngrams_equal_scikit_learns_analyzer(corpus_texts: list[str]) -> None:
    pattern = Featurizer.TOKEN_PATTERN
    reference = HashingVectorizer(ngram_range=(1, 2), token_pattern=pattern, lowercase=False).build_analyzer()
    ours = hashing.WordNgrams(pattern, 1, 2)
    for text in [*corpus_texts, "", "a", "one", "one two", "x_1 y_2 z_3"]:
        assert ours(text) == reference(text)


@pytest.mark.parametrize("lo,hi", [(1, 1), (1, 3), (2, 3)])
def test_other_ngram_ranges_equal_scikit_learns(lo: int, hi: int, corpus_texts: list[str]) -> None:
    pattern = Featurizer.TOKEN_PATTERN
    reference = HashingVectorizer(ngram_range=(lo, hi), token_pattern=pattern, lowercase=False).build_analyzer()
    ours = hashing.WordNgrams(pattern, lo, hi)
    for text in corpus_texts[:200]:
        assert ours(text) == reference(text)


def test_columns_equal_scikit_learns_hashing(corpus_texts: list[str]) -> None:
    analyzer = hashing.WordNgrams(Featurizer.TOKEN_PATTERN, 1, 2)
    docs = [analyzer(t) for t in corpus_texts] + [["ünïcode", "日本語", "", "a b"]]
    idx, ptr = hashing.columns(docs, N_FEATURES)
    reference = HashingVectorizer(
        n_features=N_FEATURES, analyzer=lambda d: d, alternate_sign=False, norm=None
    ).transform(docs)
    for i in range(len(docs)):
        counts = np.bincount(idx[ptr[i] : ptr[i + 1]], minlength=N_FEATURES)
        row = reference.getrow(i)
        assert np.array_equal(np.flatnonzero(counts), np.sort(row.indices))
        assert np.array_equal(counts[np.sort(row.indices)], row.toarray()[0, np.sort(row.indices)].astype(int))
    assert len(idx) == sum(len(d) for d in docs)


def test_one_column_is_the_absolute_murmur3_modulo_n() -> None:
    for token in ["oom", "back off", "tpl=deadbeef", "ünïcode", ""]:
        assert hashing.column(token, 97) == abs(murmurhash3_32(token, seed=0)) % 97


def test_a_bad_ngram_range_is_refused() -> None:
    with pytest.raises(ValueError):
        hashing.WordNgrams(r"\w+", 2, 1)
