"""Prediction API used by the operator.

    from remediator_model.predict import Classifier, ErrorInput
    clf = Classifier.load()            # the default artifact shipped in the package
    p = clf.predict(ErrorInput(reason="OOMKilled", exit_code=137))

Load once and share: a Classifier holds only read-only arrays, so concurrent predict calls are safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from remediator_model import artifact
from remediator_model.calibrate import softmax
from remediator_model.features import EventTokens, Featurizer
from remediator_model.model import TrainedModel
from remediator_model.taxonomy import ACTIONS, ERROR_TYPES

_BORING = {
    "hexid",
    "ipaddr",
    "uuid",
    "podhash",
    "0000",
    "error",
    "the",
    "for",
    "and",
    "from",
    "pod",
    "response",
    "with",
    "this",
    "that",
    "was",
    "has",
    "not",
    "are",
    "line",
    "file",
    "main",
    "java",
    "lang",
    "node",
    "app",
    "src",
    "usr",
    "lib",
    "local",
    "python",
    "site",
    "packages",
    "error_",
    "com",
    "org",
    "net",
    "http",
    "https",
}


_READABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]")  # what the word tokenizer can read (features.Featurizer)


@dataclass(frozen=True)
class ErrorInput:
    reason: str = ""
    exit_code: int | None = None
    message: str = ""
    logs: str = ""
    source: str = ""  # cluster, user, api, alert or empty


@dataclass(frozen=True)
class Prediction:
    error_type: str
    action: str
    confidence: float  # calibrated probability that both error_type and action are right
    runner_up: str
    runner_up_confidence: float
    explanation: str
    evidence: list[str] = field(default_factory=list)
    model_version: str = ""
    # Calibrated probability, per action, that it fixes this failure (most likely first). Several actions may
    # fix one failure, so they need not sum to 1; the operator combines them with what it observes.
    action_probabilities: tuple[tuple[str, float], ...] = ()
    # How unfamiliar the text is: the share (by feature weight) of its words and word pairs that no training
    # example contained; 1.0 for a text with no word the model can read. 0.0 without message and logs.
    novelty: float = 0.0


class Classifier:
    def __init__(self, model: TrainedModel, version: str) -> None:
        self._m = model
        self.version = version
        self._feat = Featurizer(model.features)
        self._n = model.features.n_features
        self._wf = model.features.word_features
        tw = model.type_model.weights
        aw = model.action_model.weights  # rows: text features, then one row per predicted type
        self._aw_text = aw[: self._n]
        self._aw_type = aw[self._n :] * np.float32(model.type_scale) + model.action_model.bias
        # Word columns some training example hit: the artifact keeps only those rows (artifact._save_sparse_rows).
        self._seen_words = np.abs(tw[: self._wf]).max(axis=1) > 0

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        model, meta = artifact.load(path)
        return cls(model, str(meta["version"]))

    @classmethod
    def from_trained(cls, model: TrainedModel, version: str = "in-memory") -> Classifier:
        return cls(model, version)

    # ---------------------------------------------------------------------------------------- core
    def _finish(
        self,
        pt: np.ndarray,
        t: int,
        r: int,
        a: int,
        conf: float,
        idx: np.ndarray,
        val: np.ndarray,
        tok: EventTokens,
        e: ErrorInput,
        per_action: np.ndarray,
    ) -> Prediction:
        runner_conf = min(float(self._m.calibration.runner_up(float(pt[r]))), 1.0 - conf)
        novelty = self._novelty(idx, val, e)
        evidence = self._evidence(t, idx, val, tok, e)
        head = f"{ERROR_TYPES[t]} -> {ACTIONS[a]}: "
        expl = head + (", ".join(evidence) if evidence else "no strong signal, prior of the model")
        return Prediction(
            ERROR_TYPES[t],
            ACTIONS[a],
            round(conf, 4),
            ERROR_TYPES[r],
            round(max(runner_conf, 0.0), 4),
            expl,
            evidence,
            self.version,
            tuple((ACTIONS[i], round(float(per_action[i]), 4)) for i in np.argsort(-per_action, kind="stable")),
            novelty,
        )

    def _novelty(self, idx: np.ndarray, val: np.ndarray, e: ErrorInput) -> float:
        text = f"{e.message or ''}\n{(e.logs or '')[-2000:]}"
        if not text.strip():
            return 0.0
        words = idx < self._wf
        weight = val[words].astype(np.float64) ** 2
        if not weight.sum() or not _READABLE.search(text):
            return 1.0  # text, but not one word the model can read (another script, binary noise)
        return round(float(weight[~self._seen_words[idx[words]]].sum() / weight.sum()), 4)

    def _evidence(
        self, t: int, idx: np.ndarray, val: np.ndarray, tok: EventTokens, e: ErrorInput, k: int = 3
    ) -> list[str]:
        """Strongest signals for class t: structured fields first, then the word n-grams with the largest
        (class-centred) contribution. `idx` is sorted."""
        if not len(idx):
            return []
        # a column's contribution to class t relative to the average class (makes evidence discriminative),
        # for this event's columns only: a centred copy of the whole matrix would cost 14 MB of resident memory
        rows = self._m.type_model.weights[idx]
        contrib = val * (rows[:, t] - rows.mean(axis=1))

        def lookup(cols: np.ndarray) -> np.ndarray:
            pos = np.minimum(np.searchsorted(idx, cols), len(idx) - 1)
            return np.where(idx[pos] == cols, contrib[pos], 0.0)

        out: list[str] = []
        mc = lookup(np.array([self._feat.meta_column(m) for m in tok.meta[:3]], dtype=np.int64))
        if e.reason and mc[0] > 0.02:
            out.append(f"reason {e.reason}")
        if e.exit_code is not None and max(mc[1], mc[2]) > 0.02:
            out.append(f"exit code {e.exit_code}")
        if tok.words:
            sc = lookup(tok.word_columns)
            picked: list[str] = []
            for j in np.argsort(-sc)[:40]:
                if sc[j] <= 0:
                    break
                w = tok.words[j]
                if w in _BORING or len(w) < 3 or any(w in p or p in w for p in picked):
                    continue
                picked.append(w)
                if len(picked) == k:
                    break
            out.extend(f'"{p}"' for p in picked)
        return out

    # ---------------------------------------------------------------------------------------- API
    def predict(self, e: ErrorInput) -> Prediction:
        m, cal = self._m, self._m.calibration
        idx, val, tok = self._feat.transform_one(e)
        pt = softmax(m.type_model.scores_one(idx, val) / cal.type_temperature)
        order = np.argsort(pt)
        t, r = int(order[-1]), int(order[-2])
        pa = softmax((val @ self._aw_text[idx] + self._aw_type[t]) / cal.action_temperature)
        a = int(pa.argmax())
        per_action = np.asarray(cal.decision(pt[t] * pa))
        return self._finish(pt, t, r, a, float(per_action[a]), idx, val, tok, e, per_action)

    def predict_batch(self, events: Sequence[ErrorInput]) -> list[Prediction]:
        if not events:
            return []
        m, cal = self._m, self._m.calibration
        x, toks = self._feat.transform_with_tokens(events)
        pt = softmax(m.type_model.scores(x) / cal.type_temperature)
        order = np.argsort(pt, axis=1)
        t, r = order[:, -1], order[:, -2]
        pa = softmax((np.asarray(x @ self._aw_text) + self._aw_type[t]) / cal.action_temperature)
        a = pa.argmax(axis=1)
        rows = np.arange(len(events))
        per_action = np.asarray(cal.decision(pt[rows, t][:, None] * pa))
        conf = per_action[rows, a]
        out = []
        for i, e in enumerate(events):
            lo, hi = x.indptr[i], x.indptr[i + 1]
            out.append(
                self._finish(
                    pt[i],
                    int(t[i]),
                    int(r[i]),
                    int(a[i]),
                    float(conf[i]),
                    x.indices[lo:hi].astype(np.int64),
                    x.data[lo:hi],
                    toks[i],
                    e,
                    per_action[i],
                )
            )
        return out
