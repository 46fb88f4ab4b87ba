"""Metrics (per-class P/R/F1, macro-F1, action accuracy, ECE, auto-apply precision/coverage) and the report
(metrics.json, confusion-matrix PNG, reliability-diagram PNG, HTML)."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from remediator_model.calibrate import expected_calibration_error
from remediator_model.data import DataError, parse_event_fields, read_jsonl
from remediator_model.predict import ErrorInput, Prediction
from remediator_model.realdata import RealItem
from remediator_model.taxonomy import ACTIONS, ERROR_TYPES

DEFAULT_THRESHOLD = 0.9
AUTO_ACTIONS = ("restart_pod", "rollback", "scale_up", "increase_memory")  # what the default policy auto-applies


class Predictor(Protocol):
    version: str

    def predict_batch(self, events: Sequence[ErrorInput]) -> list[Prediction]: ...


@dataclass(frozen=True)
class LabelledEvent:
    event: ErrorInput
    error_class: str
    actions: tuple[str, ...]
    id: str = ""


def load_labelled(path: str | Path) -> list[LabelledEvent]:
    out = []
    for line, rec in read_jsonl(path):
        ev = parse_event_fields(rec, line, str(path))
        et = rec.get("error_class", rec.get("error_type"))
        if et not in ERROR_TYPES:
            raise DataError(f"'error_class' must be one of {', '.join(ERROR_TYPES)}, got {et!r}", line, str(path))
        acts = rec.get("actions")
        if not isinstance(acts, list) or not acts or any(a not in ACTIONS for a in acts):
            raise DataError(f"'actions' must be a non-empty list of {', '.join(ACTIONS)}", line, str(path))
        out.append(
            LabelledEvent(
                ErrorInput(ev["reason"], ev["exit_code"], ev["message"], ev["logs"], ev["source"]),
                et,
                tuple(acts),
                str(rec.get("id", line)),
            )
        )
    if not out:
        raise DataError(f"{path}: no records")
    return out


def compute_metrics(
    data: Sequence[LabelledEvent], preds: Sequence[Prediction], threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    y = [d.error_class for d in data]
    p = [q.error_type for q in preds]
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for c in ERROR_TYPES:
        tp = sum(a == c and b == c for a, b in zip(y, p, strict=True))
        fp = sum(a != c and b == c for a, b in zip(y, p, strict=True))
        fn = sum(a == c and b != c for a, b in zip(y, p, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        support = sum(a == c for a in y)
        per_class[c] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "support": support}
        if support:
            f1s.append(f1)
    type_ok = np.array([a == b for a, b in zip(y, p, strict=True)])
    act_ok = np.array([q.action in d.actions for d, q in zip(data, preds, strict=True)])
    ok = type_ok & act_ok
    conf = np.array([q.confidence for q in preds])
    hi = conf >= threshold
    return {
        "n": len(data),
        "per_class": per_class,
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "type_accuracy": round(float(type_ok.mean()), 4),
        "action_accuracy": round(float(act_ok.mean()), 4),
        "decision_accuracy": round(float(ok.mean()), 4),
        "ece": round(expected_calibration_error(conf, ok), 4),
        "auto_apply": {
            "threshold": threshold,
            "precision": round(float(ok[hi].mean()), 4) if hi.any() else None,
            "coverage": round(float(hi.mean()), 4),
            "n_auto": int(hi.sum()),
        },
        "confusion": {
            "labels": list(ERROR_TYPES),
            "matrix": [
                [sum(a == r and b == c for a, b in zip(y, p, strict=True)) for c in ERROR_TYPES] for r in ERROR_TYPES
            ],
        },
    }


def _plots(metrics: dict[str, Any], conf: np.ndarray, ok: np.ndarray, out: Path) -> None:
    # matplotlib is needed only for report plots, so it is imported here, not by anything serving imports.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array(metrics["confusion"]["matrix"])
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(ERROR_TYPES)), ERROR_TYPES, rotation=45, ha="right")
    ax.set_yticks(range(len(ERROR_TYPES)), ERROR_TYPES)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(
                    j, i, str(m[i, j]), ha="center", va="center", color="white" if m[i, j] > m.max() / 2 else "black"
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (error type)")
    fig.tight_layout()
    fig.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(fig)

    bins = np.linspace(0, 1, 11)
    idx = np.minimum((conf * 10).astype(int), 9)
    xs, ys, ns = [], [], []
    for b in range(10):
        sel = idx == b
        if sel.any():
            xs.append(conf[sel].mean())
            ys.append(ok[sel].mean())
            ns.append(int(sel.sum()))
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(xs, ys, "o-", label="model")
    for x, yv, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, yv), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.axvline(metrics["auto_apply"]["threshold"], color="red", alpha=0.3, label="auto-apply threshold")
    ax.set_xticks(bins)
    ax.set_xlabel("confidence")
    ax.set_ylabel("share of decisions right (type and action)")
    ax.set_title(f"Reliability diagram (ECE {metrics['ece']:.3f})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "reliability_diagram.png", dpi=110)
    plt.close(fig)


def _html(metrics: dict[str, Any], data: Sequence[LabelledEvent], preds: Sequence[Prediction], version: str) -> str:
    rows = "".join(
        f"<tr><td>{c}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td><td>{v['f1']:.3f}</td>"
        f"<td>{v['support']}</td></tr>"
        for c, v in metrics["per_class"].items()
    )
    misses = []
    for d, q in zip(data, preds, strict=True):
        if q.error_type != d.error_class or q.action not in d.actions:
            text = html.escape((f"{d.event.reason} {d.event.message} {d.event.logs}").strip()[:240])
            misses.append(
                f"<tr><td>{html.escape(d.id)}</td><td>{d.error_class}</td><td>{q.error_type}</td>"
                f"<td>{'/'.join(d.actions)}</td><td>{q.action}</td><td>{q.confidence:.2f}</td><td><code>{text}</code></td></tr>"
            )
    aa = metrics["auto_apply"]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}"
        "table{border-collapse:collapse;margin-bottom:1.5em}code{font-size:12px}"
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "macro-F1",
            "type accuracy",
            "action accuracy",
            "ECE",
            f"auto-apply precision @{aa['threshold']}",
            "coverage",
        )
    )
    prec = aa["precision"] if aa["precision"] is not None else "-"
    vals = "".join(
        f"<td>{v}</td>"
        for v in (
            f"{metrics['macro_f1']:.3f}",
            f"{metrics['type_accuracy']:.3f}",
            f"{metrics['action_accuracy']:.3f}",
            f"{metrics['ece']:.3f}",
            prec,
            f"{aa['coverage']:.3f}",
        )
    )
    class_head = "".join(f"<th>{h}</th>" for h in ("class", "precision", "recall", "F1", "support"))
    miss_head = "".join(
        f"<th>{h}</th>" for h in ("id", "true", "predicted", "acceptable actions", "action", "conf", "text")
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Classifier evaluation</title>'
        f"<style>{style}</style></head><body>\n<h1>Classifier evaluation</h1>"
        f"<p>model <b>{html.escape(version)}</b>, {metrics['n']} events</p>\n"
        f"<table><tr>{head}</tr><tr>{vals}</tr></table>\n"
        f"<h2>Per class</h2><table><tr>{class_head}</tr>{rows}</table>\n"
        '<h2>Plots</h2><img src="confusion_matrix.png" width="520"> <img src="reliability_diagram.png" width="420">\n'
        f"<h2>Misses ({len(misses)})</h2><table><tr>{miss_head}</tr>{''.join(misses)}</table></body></html>"
    )


def evaluate(
    predictor: Predictor,
    data: Sequence[LabelledEvent],
    report_dir: str | Path | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    preds = predictor.predict_batch([d.event for d in data])
    metrics = compute_metrics(data, preds, threshold)
    metrics["model_version"] = predictor.version
    if report_dir is not None:
        out = Path(report_dir)
        out.mkdir(parents=True, exist_ok=True)
        conf = np.array([q.confidence for q in preds])
        ok = np.array(
            [q.error_type == d.error_class and q.action in d.actions for d, q in zip(data, preds, strict=True)]
        )
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        _plots(metrics, conf, ok, out)
        (out / "report.html").write_text(_html(metrics, data, preds, predictor.version))
    return metrics


def real_metrics(items: Sequence[RealItem], preds: Sequence[Prediction], threshold: float = DEFAULT_THRESHOLD,
                 ) -> dict[str, Any]:
    """Held-out figures on real items: per-class F1, action accuracy (the proposed action is one the thread's
    fixes name), auto-apply precision and coverage (confidence >= threshold and an action the default policy
    auto-applies; coverage counts the items whose fix changes the workload), ECE of the action's confidence,
    the reliability table and the confidence histogram. `_conf`/`_ok` keep the raw values for pooling."""
    y = [i.error_class for i in items]
    p = [q.error_type for q in preds]
    f1: dict[str, float] = {}
    for c in ERROR_TYPES:
        tp = sum(a == c == b for a, b in zip(y, p, strict=True))
        fp = sum(b == c != a for a, b in zip(y, p, strict=True))
        fn = sum(a == c != b for a, b in zip(y, p, strict=True))
        if tp + fn:
            f1[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    act_ok = np.array([q.action in i.actions for i, q in zip(items, preds, strict=True)])
    conf = np.array([q.confidence for q in preds])
    auto = np.array([c >= threshold and q.action in AUTO_ACTIONS for c, q in zip(conf, preds, strict=True)])
    changing = np.array([i.fix_changes_workload for i in items])
    bins = np.minimum((conf * 10).astype(int), 9)
    return {
        "n": len(items),
        "macro_f1": round(float(np.mean(list(f1.values()))), 4),
        "f1": {c: round(v, 4) for c, v in f1.items()},
        "type_accuracy": round(float(np.mean([a == b for a, b in zip(y, p, strict=True)])), 4),
        "action_accuracy": round(float(act_ok.mean()), 4),
        "auto_apply_n": int(auto.sum()),
        "auto_apply_precision": round(float(act_ok[auto].mean()), 4) if auto.any() else None,
        "auto_apply_coverage_of_changing_fixes": round(
            float((auto & changing & act_ok).sum() / max(1, changing.sum())), 4
        ),
        "changing_fixes": int(changing.sum()),
        "ece": round(expected_calibration_error(conf, act_ok), 4),
        "reliability": [
            {"bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}", "n": int((bins == b).sum()),
             "confidence": round(float(conf[bins == b].mean()), 3) if (bins == b).any() else None,
             "accuracy": round(float(act_ok[bins == b].mean()), 3) if (bins == b).any() else None}
            for b in range(10)
        ],
        "confidence_histogram": [int((bins == b).sum()) for b in range(10)],
        "predicted_actions": dict(Counter(q.action for q in preds)),
        "_conf": conf.tolist(),
        "_ok": act_ok.astype(int).tolist(),
    }
