"""Does a correction fix its family? The errors an SRE corrected, re-occurring with other values (hosts,
addresses, ports, ids, numbers, quoted values: the same template, a different text), before and after.

    python bench/learning/family_transfer.py [--corrections 60] [--out bench/results/family_transfer.json]

Corrections: the first N items of the learning curve's correction pool (``learning_curve.partition`` of the
real corpus's never-used test part), each judged as an SRE would (its first confirmed fix). Variants: every
corrected item whose text carries a maskable value is re-written with other values (``variant``); only
variants of the same template (same family key) and a different text are kept. Three answers per variant:

- the shipped model;
- serving-time family corrections (``domain.corrections.adjust`` over the judgments of that template in the
  namespace, as triage applies them before the next retrain);
- a challenger retrained as ``remediator model retrain`` does (seed + real fit part + the corrections at the
  human weight, contradicted seed examples dropped, calibrated on the real calibration part).

The unseen report set (other threads) is scored too, for the challenger's side effects.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for sub in ("operator", "model", ""):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

from bench.learning.learning_curve import partition  # noqa: E402
from remediator.domain.corrections import Judgment, adjust, family_feedback  # noqa: E402
from remediator.domain.types import Classification  # noqa: E402
from remediator.learning.feedback import WEIGHTS  # noqa: E402
from remediator.learning.retrain import drop_contradicted  # noqa: E402
from remediator_model.evaluate import real_metrics  # noqa: E402
from remediator_model.predict import Classifier, ErrorInput, Prediction  # noqa: E402
from remediator_model.realdata import RealItem, load_real, split  # noqa: E402
from remediator_model.template import template_of  # noqa: E402
from remediator_model.train import (  # noqa: E402
    TrainConfig,
    TrainExample,
    balanced_real_weight,
    load_examples,
    real_examples,
    train,
)

# Values an error's next occurrence changes, and what they become (deterministic, visibly different).
_SWAPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "10.42.7.19"),
    (re.compile(r"(?<=:)\d{2,5}\b"), "7443"),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        "0d1e2f3a-4b5c-4d6e-8f70-a1b2c3d4e5f6",
    ),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b"), "c0ffee4242"),
    (re.compile(r"(?<![\w.])\d{2,}(?![\w.])"), "4711"),
    (re.compile(r'"[^"\n]{1,80}"'), '"billing-v2"'),
)


def variant(text: str) -> str:
    for pattern, value in _SWAPS:
        text = pattern.sub(value, text)
    return text


def _input(i: RealItem, message: str | None = None, logs: str | None = None) -> ErrorInput:
    e = i.event
    return ErrorInput(
        e.reason, e.exit_code, e.message if message is None else message, e.logs if logs is None else logs, e.source
    )


def _classification(p: Prediction) -> Classification:
    return Classification(
        p.error_type,
        p.action,
        p.confidence,
        p.runner_up,
        p.runner_up_confidence,
        alternatives=p.action_probabilities,
        novelty=p.novelty,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corrections", type=int, default=60)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "family_transfer.json"))
    args = ap.parse_args()
    started = time.monotonic()
    parts = split(load_real(), seed=0)
    pool, report = partition(parts.test)
    corrected = pool[: args.corrections]
    shipped = Classifier.load(None)

    # the SRE's verdicts on what the shipped model proposed
    before = shipped.predict_batch([i.event for i in corrected])
    judgments: dict[str, list[Judgment]] = {}
    feedback: list[TrainExample] = []
    for n, (item, p) in enumerate(zip(corrected, before, strict=True)):
        key = template_of(item.event.reason, item.event.message, item.event.logs).key
        right = p.action in item.actions
        judgments.setdefault(key, []).append(
            Judgment(
                f"bench/{n}", "sre", "correct" if right else "incorrect", p.action, None if right else item.actions[0]
            )
        )
        e = item.event
        feedback.append(
            TrainExample(
                e.reason,
                e.exit_code,
                e.message,
                e.logs,
                e.source,
                item.error_class,
                p.action if right else item.actions[0],
                (p.action,) if right else (item.actions[0],),
                WEIGHTS["human"],
                f"fb-{n}",
            )
        )

    variants = []
    for item in corrected:
        message, logs = variant(item.event.message), variant(item.event.logs)
        same = template_of(item.event.reason, message, logs) == template_of(
            item.event.reason, item.event.message, item.event.logs
        )
        if same and (message, logs) != (item.event.message, item.event.logs):
            variants.append((item, _input(item, message, logs)))

    cfg = TrainConfig()
    seed = load_examples("builtin", cfg)
    kept, dropped = drop_contradicted(seed, feedback)
    fit = real_examples(parts.fit, balanced_real_weight(seed, len(parts.fit)))
    challenger = Classifier(
        train([*kept, *fit, *feedback], cfg, calibration=real_examples(parts.calibrate, 1.0)), "challenger"
    )

    def right(preds: list[Prediction]) -> float:
        return round(sum(p.action in i.actions for p, (i, _) in zip(preds, variants, strict=True)) / len(variants), 4)

    events = [v for _, v in variants]
    shipped_v, challenger_v = shipped.predict_batch(events), challenger.predict_batch(events)
    serving = []
    for (_item, ev), p in zip(variants, shipped_v, strict=True):
        key = template_of(ev.reason, ev.message, ev.logs).key
        fam = family_feedback(key, judgments.get(key, []))
        adjusted = adjust(_classification(p), fam)
        serving.append(adjusted.classification.action if adjusted else p.action)
    serving_right = round(sum(a in i.actions for a, (i, _) in zip(serving, variants, strict=True)) / len(variants), 4)

    def kept_metrics(preds: list[Prediction]) -> dict[str, Any]:
        m = real_metrics(report, preds)
        return {k: m[k] for k in ("n", "action_accuracy", "macro_f1", "ece", "auto_apply_n")}

    result = {
        "command": f"bench/learning/family_transfer.py --corrections {args.corrections}",
        "data": (
            f"{len(corrected)} corrections from the learning curve's pool (real test part, never fitted/calibrated); "
            f"{len(variants)} of them re-occur with other values in the same template; report set {len(report)} "
            "items of other threads"
        ),
        "corrections_right_before": round(
            sum(p.action in i.actions for p, i in zip(before, corrected, strict=True)) / len(corrected), 4
        ),
        "variants": len(variants),
        "variant_action_right": {
            "shipped": right(shipped_v),
            "serving_family_corrections": serving_right,
            "retrained_challenger": right(challenger_v),
        },
        "seed_contradicted_dropped": dropped,
        "report_set": {
            "shipped": kept_metrics(shipped.predict_batch([i.event for i in report])),
            "retrained_challenger": kept_metrics(challenger.predict_batch([i.event for i in report])),
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
