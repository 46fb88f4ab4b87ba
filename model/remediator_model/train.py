"""Training: type model and action model (linear, hashed text + structured features), calibration by
template-grouped cross-fitting, and the training-data loader (builtin seed corpus, JSONL files, feedback)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from remediator_model.calibrate import Calibration, softmax
from remediator_model.corpus import generate
from remediator_model.data import STDIO, DataError, parse_event_fields, read_jsonl
from remediator_model.features import FeatureConfig, Featurizer
from remediator_model.fit_calibration import fit_isotonic, fit_temperature
from remediator_model.linear import LinearModel
from remediator_model.model import TrainedModel
from remediator_model.realdata import RealItem
from remediator_model.taxonomy import ACTIONS, DEFAULT_ACTIONS, ERROR_TYPES


@dataclass(frozen=True)
class TrainExample:
    reason: str = ""
    exit_code: int | None = None
    message: str = ""
    logs: str = ""
    source: str = ""
    error_type: str | None = None
    action: str | None = None
    actions: tuple[str, ...] = ()
    weight: float = 1.0
    group: str = ""


@dataclass(frozen=True)
class TrainConfig:
    alpha: float = 2e-6
    epochs: int = 12
    type_scale: float = 1.0
    n_folds: int = 3
    calib_max: int = 10000
    calib_group_weight: float = 0.02
    builtin_n: int = 36000
    seed: int = 0
    feedback_weight: float = 20.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ------------------------------------------------------------------------------------------------ loading
def example_from_record(rec: dict[str, Any], line: int, path: str | None, feedback_weight: float) -> TrainExample:
    ev = parse_event_fields(rec, line, path)
    et = rec.get("error_type", rec.get("error_class"))
    if et is not None and et not in DEFAULT_ACTIONS:
        raise DataError(f"unknown error type {et!r} (expected one of {', '.join(ERROR_TYPES)})", line, path)
    acts = rec.get("actions") or []
    if not isinstance(acts, list) or any(a not in ACTIONS for a in acts):
        raise DataError(f"'actions' must be a list of {', '.join(ACTIONS)}", line, path)
    action = rec.get("action") or (acts[0] if acts else None)
    if action is not None and action not in ACTIONS:
        raise DataError(f"unknown action {action!r} (expected one of {', '.join(ACTIONS)})", line, path)
    if et is None and action is None:
        raise DataError("a training example needs 'error_type'/'error_class' or 'action'", line, path)
    if action is None and et is not None:
        action = DEFAULT_ACTIONS[et][0]
    is_feedback = bool(rec.get("feedback")) or (rec.get("source") == "user" and "action" in rec and et is None)
    w = rec.get("weight")
    if w is None:
        w = feedback_weight if is_feedback else 1.0
    if isinstance(w, bool) or not isinstance(w, int | float) or w <= 0:
        raise DataError(f"'weight' must be a positive number, got {w!r}", line, path)
    actions = tuple(acts) if acts else ((action,) if action else ())
    group = str(rec.get("template") or rec.get("group") or f"file-{line % 7}")
    return TrainExample(error_type=et, action=action, actions=actions, weight=float(w), group=group, **ev)


def load_examples(data: str, cfg: TrainConfig) -> list[TrainExample]:
    """`builtin` (seed corpus), a JSONL file ("-": standard input), or a directory of JSONL files."""
    if data == "builtin":
        return [
            TrainExample(
                reason=e.reason,
                exit_code=e.exit_code,
                message=e.message,
                logs=e.logs,
                source=e.source,
                error_type=e.error_type,
                action=e.action,
                actions=e.actions,
                weight=e.weight,
                group=e.template,
            )
            for e in generate(cfg.builtin_n, cfg.seed)
        ]
    if data == STDIO:
        return [example_from_record(rec, line, "<stdin>", cfg.feedback_weight) for line, rec in read_jsonl(data)]
    p = Path(data)
    files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    if not files or not all(f.exists() for f in files):
        raise DataError(f"no training data at {data}")
    out: list[TrainExample] = []
    for f in files:
        for line, rec in read_jsonl(f):
            out.append(example_from_record(rec, line, str(f), cfg.feedback_weight))
    return out


def data_hash(examples: Sequence[TrainExample]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(
            json.dumps(
                [e.reason, e.exit_code, e.message, e.logs, e.source, e.error_type, e.action, e.weight], sort_keys=True
            ).encode()
        )
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------ fitting
def _sgd(cfg: TrainConfig) -> SGDClassifier:
    return SGDClassifier(
        loss="log_loss",
        alpha=cfg.alpha,
        max_iter=cfg.epochs,
        tol=None,
        random_state=cfg.seed,
        shuffle=True,
        learning_rate="optimal",
    )


def _fit_linear(x: sp.csr_matrix, y: list[str], w: np.ndarray, classes: Sequence[str], cfg: TrainConfig) -> LinearModel:
    clf = _sgd(cfg)
    clf.fit(x, y, sample_weight=w)
    return LinearModel.from_sklearn(clf, list(classes))


def type_onehot(type_idx: np.ndarray, scale: float) -> sp.csr_matrix:
    n = len(type_idx)
    return sp.csr_matrix(
        (np.full(n, scale, dtype=np.float32), type_idx, np.arange(n + 1)), shape=(n, len(ERROR_TYPES)), dtype=np.float32
    )


def _fit_pair(x: sp.csr_matrix, ex: Sequence[TrainExample], cfg: TrainConfig) -> tuple[LinearModel, LinearModel]:
    w = np.array([e.weight for e in ex], dtype=np.float64)
    lab = np.array([e.error_type is not None for e in ex])
    type_model = _fit_linear(
        x[lab], [str(e.error_type) for e, m in zip(ex, lab, strict=True) if m], w[lab], ERROR_TYPES, cfg
    )
    pred = type_model.scores(x).argmax(axis=1)
    tidx = np.array([ERROR_TYPES.index(e.error_type) if e.error_type else p for e, p in zip(ex, pred, strict=True)])
    xa = sp.hstack([x, type_onehot(tidx, cfg.type_scale)], format="csr")
    action_model = _fit_linear(xa, [str(e.action) for e in ex], w, ACTIONS, cfg)
    return type_model, action_model


def predict_scores(
    type_model: LinearModel, action_model: LinearModel, x: sp.csr_matrix, type_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    ts = type_model.scores(x)
    xa = sp.hstack([x, type_onehot(ts.argmax(axis=1), type_scale)], format="csr")
    return ts, action_model.scores(xa)


def _folds(groups: Sequence[str], n_folds: int, seed: int) -> np.ndarray:
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    fold_of = {g: int(order[i] % n_folds) for i, g in enumerate(uniq)}
    return np.array([fold_of[g] for g in groups])


def real_examples(items: Sequence[RealItem], weight: float) -> list[TrainExample]:
    """Real corpus items as training examples: the confirmed fix first, grouped by source thread."""
    return [
        TrainExample(
            reason=i.event.reason,
            exit_code=i.event.exit_code,
            message=i.event.message,
            logs=i.event.logs,
            source=i.event.source,
            error_type=i.error_class,
            action=i.actions[0],
            actions=i.actions,
            weight=weight,
            group=i.source,
        )
        for i in items
    ]


def balanced_real_weight(others: Sequence[TrainExample], n_real: int) -> float:
    """The weight that gives the real examples, together, the weight of all the others (the synthetic seed
    corpus): real evidence is not outvoted by templates written to cover what real data lacks. A rule fixed in
    advance (docs/classifier.md), not a value tuned on any evaluation."""
    return max(1.0, sum(e.weight for e in others) / max(1, n_real))


def calibrate_on(
    type_model: LinearModel,
    action_model: LinearModel,
    feat: Featurizer,
    held_out: Sequence[TrainExample],
    type_scale: float,
) -> tuple[Calibration, dict[str, float]]:
    """Temperatures and the decision map fitted on held-out real examples the model was not fitted on: the
    decision confidence becomes the probability that the proposed *action* is one that fixed such errors."""
    x = feat.transform(held_out)
    ts, acts = predict_scores(type_model, action_model, x, type_scale)
    w = np.array([e.weight for e in held_out], dtype=np.float64)
    y_t = np.array([ERROR_TYPES.index(str(e.error_type)) for e in held_out])
    y_a = np.array([ACTIONS.index(str(e.action)) for e in held_out])
    t_type, t_act = fit_temperature(ts, y_t, w), fit_temperature(acts, y_a, w)
    pt, pa = softmax(ts / t_type), softmax(acts / t_act)
    act_ok = np.array([ACTIONS[a] in e.actions for a, e in zip(pa.argmax(1), held_out, strict=True)])
    # One map for every (failure, action) pair, not only the top action: a calibrated probability per action
    # that it is one of the fixes, so the operator can weigh the alternatives against what it observes.
    raw = pt.max(1)[:, None] * pa
    fixes = np.array([[a in e.actions for a in ACTIONS] for e in held_out])
    decision = fit_isotonic(raw.ravel(), fixes.ravel(), np.repeat(w, len(ACTIONS)))
    runner = fit_isotonic(np.sort(pt, axis=1)[:, -2], np.argsort(pt, axis=1)[:, -2] == y_t, w)
    metrics = {"calibration_n": float(len(held_out)), "calibration_action_accuracy": float(act_ok.mean())}
    return Calibration(t_type, t_act, decision, runner), metrics


def train(
    examples: Sequence[TrainExample],
    cfg: TrainConfig | None = None,
    features: FeatureConfig | None = None,
    log: Any = None,
    calibration: Sequence[TrainExample] | None = None,
) -> TrainedModel:
    """Fit the type and action models on `examples`. With `calibration` (held-out real examples), calibrate
    on those; without, by template-grouped cross-fitting on the training data itself."""
    cfg = cfg or TrainConfig()
    fcfg = features or FeatureConfig()
    t0 = time.time()
    feat = Featurizer(fcfg)
    x = feat.transform(examples)
    t_feat = time.time() - t0
    if calibration:
        type_model, action_model = _fit_pair(x, examples, cfg)
        calib, cal_metrics = calibrate_on(type_model, action_model, feat, calibration, cfg.type_scale)
        metrics = {
            "n_train": len(examples),
            **cal_metrics,
            "type_temperature": calib.type_temperature,
            "action_temperature": calib.action_temperature,
            "featurize_seconds": round(t_feat, 2),
            "train_seconds": round(time.time() - t0, 2),
        }
        if log:
            log(f"trained on {len(examples)} examples, calibrated on {len(calibration)} held-out: {metrics}")
        return TrainedModel(
            fcfg, type_model, action_model, calib, cfg.type_scale, metrics, data_hash(examples), cfg.to_dict()
        )

    # Calibration data: out-of-fold predictions of two cross-fits on a subsample. One holds out whole
    # templates (errors in forms never seen: pessimistic), one holds out random examples (optimistic). Their
    # mixture weight `calib_group_weight` is a hyperparameter chosen on the real-world validation set.
    rng = np.random.default_rng(cfg.seed)
    sub = np.arange(len(examples))
    if len(sub) > cfg.calib_max:
        sub = np.sort(rng.choice(sub, cfg.calib_max, replace=False))
    sub_ex = [examples[int(i)] for i in sub]
    xs = x[sub]
    schemes = [
        ("group", _folds([e.group for e in sub_ex], cfg.n_folds, cfg.seed), cfg.calib_group_weight),
        ("random", rng.integers(0, cfg.n_folds, len(sub)), 1.0 - cfg.calib_group_weight),
    ]
    oof_t_parts, oof_a_parts, wparts, exparts = [], [], [], []
    cv: dict[str, float] = {}
    for name, folds, mix in schemes:
        if mix <= 0:
            continue
        oof_t = np.zeros((len(sub), len(ERROR_TYPES)), dtype=np.float64)
        oof_a = np.zeros((len(sub), len(ACTIONS)), dtype=np.float64)
        for k in range(cfg.n_folds):
            tr, te = folds != k, folds == k
            if not te.any() or not tr.any():
                continue
            tm, am = _fit_pair(xs[tr], [e for e, m in zip(sub_ex, tr, strict=True) if m], cfg)
            oof_t[te], oof_a[te] = predict_scores(tm, am, xs[te], cfg.type_scale)
            if log:
                log(f"{name} fold {k + 1}/{cfg.n_folds} done ({time.time() - t0:.1f}s)")
        oof_t_parts.append(oof_t)
        oof_a_parts.append(oof_a)
        wparts.append(np.array([e.weight for e in sub_ex]) * mix)
        exparts.extend(sub_ex)
        y_tmp = np.array([ERROR_TYPES.index(e.error_type) if e.error_type else -1 for e in sub_ex])
        cv[f"cv_{name}_type_accuracy"] = float((oof_t.argmax(1) == y_tmp)[y_tmp >= 0].mean())
    oof_t, oof_a, w = np.vstack(oof_t_parts), np.vstack(oof_a_parts), np.concatenate(wparts)
    labelled = np.array([e.error_type is not None for e in exparts])
    y_t = np.array([ERROR_TYPES.index(e.error_type) if e.error_type else 0 for e in exparts])
    y_a = np.array([ACTIONS.index(str(e.action)) for e in exparts])
    t_type = fit_temperature(oof_t[labelled], y_t[labelled], w[labelled])
    t_act = fit_temperature(oof_a, y_a, w)
    pt, pa = softmax(oof_t / t_type), softmax(oof_a / t_act)
    top_t, top_a = pt.argmax(1), pa.argmax(1)
    type_ok = (top_t == y_t) | ~labelled
    act_ok = np.array([ACTIONS[a] in (e.actions or (e.action,)) for a, e in zip(top_a, exparts, strict=True)])
    raw = pt.max(1) * pa.max(1)
    decision = fit_isotonic(raw, type_ok & act_ok, w)
    second = np.sort(pt, axis=1)[:, -2]
    second_ok = np.argsort(pt, axis=1)[:, -2] == y_t
    runner = fit_isotonic(second, second_ok, w)
    calib = Calibration(t_type, t_act, decision, runner)

    type_model, action_model = _fit_pair(x, examples, cfg)
    metrics = {
        "n_train": len(examples),
        **cv,
        "cv_mixed_decision_accuracy": float(np.average(type_ok & act_ok, weights=w)),
        "type_temperature": t_type,
        "action_temperature": t_act,
        "featurize_seconds": round(t_feat, 2),
        "train_seconds": round(time.time() - t0, 2),
    }
    if log:
        log(f"trained on {len(examples)} examples in {metrics['train_seconds']}s: {metrics}")
    return TrainedModel(
        fcfg, type_model, action_model, calib, cfg.type_scale, metrics, data_hash(examples), cfg.to_dict()
    )


def train_from(data: str | Iterable[str], cfg: TrainConfig | None = None, log: Any = None) -> TrainedModel:
    cfg = cfg or TrainConfig()
    sources = [data] if isinstance(data, str) else list(data)
    ex: list[TrainExample] = []
    for d in sources:
        ex.extend(load_examples(d, cfg))
    return train(ex, cfg, log=log)
