"""Retraining from feedback: challenger vs champion, published only when it is not worse.

1. Read the feedback documents from MongoDB; keep one per Remediation (the strongest source: human >
   rejection > verification, see ``remediator.learning.feedback.WEIGHTS``). Texts missing from a document (its
   ErrorEvent was gone when the feedback was recorded) are looked up by ``errorevent_ref`` in the store's
   ``errorevents`` collection, then in the S3 log archive. Human judgments count people (one document per
   person and Remediation, ``judge``): when they agree, one example whose weight is the human weight x
   ``agreement_factor`` (1 + 0.5 per further verified person, at most 2x: independent confirmations make a
   wrong label less likely, the cap keeps one popular Remediation, or a few colluding identities, from
   outweighing the rest; the unverified judge never raises it); when they disagree (different labels or
   different corrections), no example at all, neither theirs nor the verification's: the Remediation is
   counted as ``flagged_disagreement`` and named in a ``flagged_disagreement:<ns>/<name>/<uid>`` count for a
   human to review, not averaged silently. Two Remediations of the same error are two separate judgments.
2. Turn them into training examples (``examples_from_feedback``):
   - correct -> the Remediation's own error type and action, at the source's weight;
   - incorrect with ``correctType`` and/or ``correctAction`` -> an example of the corrected label (type
     only: the action is that type's default; action only: the type head learns nothing from it);
   - incorrect without a correction -> skipped (we know what is wrong, not what is right).
3. Hold out the newest 20% of judged Remediations (``newest_slice``, from 10 Remediations on): the gate sees
   what the challenger makes of feedback it was not trained on, in time order.
4. Train a challenger on the seed corpus (weight 1.0), the real corpus's fit part and the feedback examples;
   seed examples that human feedback contradicts (same template, an action no human verdict on it accepts)
   are dropped (``drop_contradicted``), so a family's corrections overturn the synthetic prior there and only
   there. Calibrated on the real corpus's calibration part, which feedback never enters. Load the champion
   (the registry's CURRENT, else the shipped default artifact).
5. Evaluate both on the same events: a held-out seed split (a fresh draw of the seed generator with its own
   seed), the real corpus's test part (or ``validation_path``), and the newest-feedback slice.
6. Publish (and point CURRENT at) the challenger only if (``compare_outcomes``): the type's macro-F1, action
   accuracy and coverage lose no more than their tolerances (0.01, 0.01, 0.02) with confidence (a loss
   refuses only when the whole 90% paired-bootstrap interval lies below -tolerance), and coverage is
   not halved (coverage counts only where the champion's auto-apply precision reached the floor); auto-apply
   precision stays at the floor (0.95) unless it is the champion's own level; ECE stays
   within max(0.05, the champion's) + 0.02. Coverage and ECE decide on real sets only (the synthetic
   hold-out is not what confidence is calibrated for; ``compare_outcomes``). Sets with fewer than 20 events
   are reported and decide nothing.
   The report lists every metric as improved, regressed or unchanged within noise. Without any champion the
   challenger is published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from remediator.learning.feedback import WEIGHTS, agreement_factor, conflicts
from remediator_model import artifact
from remediator_model.compare import Outcomes, outcomes, paired_bootstrap, summary
from remediator_model.corpus.generator import generate
from remediator_model.evaluate import LabelledEvent, compute_metrics, load_labelled
from remediator_model.predict import Classifier, ErrorInput
from remediator_model.realdata import load_real, split
from remediator_model.taxonomy import ACTIONS, DEFAULT_ACTIONS, ERROR_TYPES, SOURCES
from remediator_model.template import template_of
from remediator_model.train import (
    TrainConfig,
    TrainExample,
    balanced_real_weight,
    load_examples,
    real_examples,
    train,
)

log = logging.getLogger(__name__)

HOLDOUT_SEED_OFFSET = 7919  # the held-out seed split's generator seed = cfg.seed + this
_KEPT_METRICS = ("n", "macro_f1", "type_accuracy", "action_accuracy", "decision_accuracy", "ece", "auto_apply")


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the champion a challenger may be on a guarded metric and still be published."""

    macro_f1: float = 0.01
    auto_apply_precision: float = 0.01
    # A challenger that auto-applies where the champion auto-applies nothing has no precision to be compared
    # with: it must reach this one on its own, or an overconfident model would replace a careful one.
    auto_apply_floor: float = 0.95
    # Decided with uncertainty (paired bootstrap, 90% intervals): a loss counts when the whole interval is
    # below zero and the point loss exceeds the tolerance; a set with fewer than `min_events` events is
    # reported but decides nothing.
    action_accuracy: float = 0.01
    coverage: float = 0.02
    ece_ceiling: float = 0.05  # the challenger's ECE may exceed max(this, the champion's) by ece_slack
    ece_slack: float = 0.02
    min_events: int = 20


@dataclass
class RetrainReport:
    decision: str  # published | kept (the champion stays) | passed (not worse, but no registry to publish to)
    published: bool
    version: str | None  # the challenger's version (published or not)
    champion_version: str | None
    champion_origin: str  # registry | shipped | none
    reasons: list[str]
    metrics: dict[str, dict[str, dict[str, Any]]]  # champion|challenger -> seed_holdout|realworld -> metrics
    counts: dict[str, int] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Store(Protocol):
    def feedback_since(
        self, since: dt.datetime | None = None, labels: tuple[str, ...] = ()
    ) -> Iterable[dict[str, Any]]: ...

    def errorevents_by_ref(self, refs: list[str]) -> dict[str, dict[str, Any]]: ...


class _Archive(Protocol):
    def read_since(self, since: dt.date | dt.datetime) -> Iterable[dict[str, Any]]: ...


class _Registry(Protocol):
    def current(self) -> tuple[str, str] | None: ...

    def download(self, version: str, dest_dir: str | Path) -> Path: ...

    def publish(self, artifact_dir: str | Path, version: str, *, make_current: bool = True) -> dict[str, Any]: ...


# -------------------------------------------------------------------------------------------- pure parts
def _strength(doc: Mapping[str, Any]) -> tuple[float, str]:
    created = doc.get("created_at")
    return float(doc.get("weight") or WEIGHTS.get(str(doc.get("source")), 0.0)), str(created or "")


def dedupe_feedback(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One document per Remediation: the strongest source wins (then the newest). Human judgments of several
    people are one document: when they agree, the newest of those giving the verdict, ``weight`` raised by
    ``agreement_factor`` of the verified among them and ``judges`` listing them; when they disagree, a
    document flagged ``disagreement`` (``label`` None: it trains nothing) with every ``judgments`` entry."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        groups.setdefault(str(doc.get("remediation") or doc.get("_id")), []).append(dict(doc))
    out: list[dict[str, Any]] = []
    for key, group in groups.items():
        humans = [d for d in group if d.get("source") == "human"]
        if humans:
            out.append(_judged(key, humans))
            continue
        best = group[0]
        for doc in group[1:]:
            if _strength(doc) > _strength(best):
                best = doc
        out.append(best)
    return out


def _human_verdict(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(doc.get("label") or ""), str(doc.get("correct_action") or ""), str(doc.get("correct_type") or "")


def _judged(key: str, humans: list[dict[str, Any]]) -> dict[str, Any]:
    """The one document of a Remediation's human judgments (see ``dedupe_feedback``). A document without
    ``judge`` (recorded before judges were counted) is the unverified judge, as ``judge`` "" is."""
    latest: dict[str, dict[str, Any]] = {}
    for doc in humans:  # one per person: their newest
        judge = str(doc.get("judge") or "")
        if judge not in latest or _newer(doc, latest[judge]):
            latest[judge] = doc
    people = list(latest.values())
    verdicts = [_human_verdict(d) for d in people]
    if conflicts(verdicts):
        return {
            "remediation": key,
            "source": "human",
            "label": None,
            "flagged": "disagreement",
            "judgments": [
                {"judge": str(d.get("judge") or ""), "label": v[0], "correct_action": v[1], "correct_type": v[2]}
                for d, v in zip(people, verdicts, strict=True)
            ],
        }
    corrected = [d for d, v in zip(people, verdicts, strict=True) if v[1] or v[2]]
    agreeing = corrected or people  # an uncorrected "incorrect" agrees but teaches nothing by itself
    best = agreeing[0]
    for doc in agreeing[1:]:
        if _newer(doc, best):
            best = doc
    judges = sorted(str(d.get("judge") or "") for d in agreeing)
    base = float(best.get("weight") or WEIGHTS["human"])
    return {**best, "weight": base * agreement_factor(sum(1 for j in judges if j)), "judges": judges}


def _newer(doc: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    def when(d: Mapping[str, Any]) -> str:
        return str(d.get("judged_at") or d.get("created_at") or "")

    return when(doc) > when(than)


def _has_text(doc: Mapping[str, Any]) -> bool:
    return any(str(doc.get(k) or "").strip() for k in ("reason", "message", "logs")) or doc.get("exit_code") is not None


def _group(doc: Mapping[str, Any]) -> str:
    head = f"{doc.get('reason', '')}|{str(doc.get('message', ''))[:120]}"
    return "feedback-" + hashlib.sha1(head.encode()).hexdigest()[:10]


def example_from_feedback(
    doc: Mapping[str, Any], texts: Mapping[str, Mapping[str, Any]] | None = None
) -> TrainExample | str:
    """A TrainExample from one feedback document, or the reason it is skipped (a short code)."""
    source = doc.get("event_source") or ""
    fields = {k: doc.get(k) for k in ("reason", "exit_code", "message", "logs")}
    if not _has_text(doc):
        found = (texts or {}).get(str(doc.get("errorevent_ref") or ""))
        if not found or not _has_text(found):
            return "no_text"
        fields = {k: found.get(k) for k in ("reason", "exit_code", "message", "logs")}
        source = found.get("event_source") or source
    label = doc.get("label")
    weight = float(doc.get("weight") or WEIGHTS.get(str(doc.get("source")), 0.0))
    if weight <= 0:
        return "bad_weight"
    error_type: str | None
    if label == "correct":
        error_type, action = doc.get("predicted_type"), doc.get("predicted_action")
        if error_type not in ERROR_TYPES or action not in ACTIONS:
            return "bad_label"
        actions: tuple[str, ...] = (str(action),)
    elif label == "incorrect":
        ctype, caction = doc.get("correct_type"), doc.get("correct_action")
        if not ctype and not caction:
            return "uncorrected"
        if (ctype and ctype not in ERROR_TYPES) or (caction and caction not in ACTIONS):
            return "bad_label"
        error_type = str(ctype) if ctype else None
        if caction:
            action, actions = str(caction), (str(caction),)
        else:
            actions = DEFAULT_ACTIONS[str(ctype)]
            action = actions[0]
    else:
        return "bad_label"
    exit_code = fields.get("exit_code")
    return TrainExample(
        reason=str(fields.get("reason") or ""),
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        message=str(fields.get("message") or ""),
        logs=str(fields.get("logs") or ""),
        source=source if source in SOURCES else "",
        error_type=error_type,
        action=str(action),
        actions=actions,
        weight=weight,
        group=_group(fields),
    )


def examples_from_feedback(
    docs: Iterable[Mapping[str, Any]], texts: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[list[TrainExample], dict[str, int]]:
    """Training examples of deduplicated feedback, and counts of what was used and skipped (by reason);
    Remediations whose judges disagree train nothing: ``flagged_disagreement`` counts them and one
    ``flagged_disagreement:<ns>/<name>/<uid>`` entry names each, for review."""
    out: list[TrainExample] = []
    counts: dict[str, int] = {}
    flagged: list[str] = []
    for doc in dedupe_feedback(docs):
        if doc.get("flagged") == "disagreement":
            flagged.append(str(doc.get("remediation")))
            continue
        got = example_from_feedback(doc, texts)
        if isinstance(got, str):
            counts[f"skipped_{got}"] = counts.get(f"skipped_{got}", 0) + 1
        else:
            out.append(got)
            counts[f"used_{doc.get('source')}"] = counts.get(f"used_{doc.get('source')}", 0) + 1
    if flagged:
        # Every value stays a count (reports add counts up): one "flagged_disagreement:<key>" entry each.
        counts["flagged_disagreement"] = len(flagged)
        counts.update({f"flagged_disagreement:{key}": 1 for key in sorted(flagged)})
        log.warning("retrain: judges disagree on %d Remediation(s), not trained on: %s", len(flagged), sorted(flagged))
    return out, counts


def _verdict(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "undefined"
    return "improved" if lo > 0 else "regressed" if hi < 0 else "unchanged within noise"


SYNTHETIC_SETS = ("seed_holdout",)


def compare_outcomes(
    champion: Mapping[str, Outcomes] | None,
    challenger: Mapping[str, Outcomes],
    tolerance: Tolerance = Tolerance(),
    synthetic: tuple[str, ...] = SYNTHETIC_SETS,
) -> tuple[bool, list[str], dict[str, dict[str, Any]]]:
    """(publish?, reasons, table) from per-event outcomes: the type's macro-F1, action accuracy, auto-apply
    precision, coverage and ECE per evaluation set, each difference with a paired-bootstrap interval, so one or
    two events never decide. Refused: a loss of macro-F1, action accuracy or coverage whose whole interval lies
    below -tolerance, coverage halved,
    auto-apply precision below the floor (where it is not the champion's own level), ECE beyond
    max(ceiling, champion's) + slack. A set with fewer than ``min_events`` events is reported only.

    On ``synthetic`` sets coverage and ECE are reported but decide nothing: confidence is calibrated on real
    data, so a well-calibrated model is rightly less sure of the synthetic forms than one calibrated on them,
    and a gate that demanded otherwise would reward calibrating to the seed corpus. Accuracy and precision
    there still guard against forgetting the forms it covers."""
    ok, reasons, table = True, [], {}
    for name in sorted(challenger):
        new, old = challenger[name], (champion or {}).get(name)
        s_new = summary(new)
        row: dict[str, Any] = {"challenger": s_new}
        table[name] = row
        if new.n < tolerance.min_events:
            reasons.append(f"{name}: {new.n} events, fewer than {tolerance.min_events}: reported, not decisive")
            continue
        if old is None:
            if s_new["auto_apply_precision"] is not None and s_new["auto_apply_precision"] < tolerance.auto_apply_floor:
                ok = False
                reasons.append(
                    f"{name}: auto-apply precision {s_new['auto_apply_precision']:.3f} below the floor "
                    f"{tolerance.auto_apply_floor} with no champion to compare"
                )
            continue
        s_old = summary(old)
        boot = paired_bootstrap(old, new)
        row.update(champion=s_old, bootstrap=boot)
        p_old, p_new = s_old["auto_apply_precision"], s_new["auto_apply_precision"]
        # The champion's coverage is worth protecting only where its automatic changes were right often enough
        # to be allowed: losing the auto-applies of an overconfident champion is a gain, not a loss.
        protected = p_old is not None and p_old >= tolerance.auto_apply_floor
        real = name not in synthetic
        protected = protected and real
        guarded = [("action_accuracy", tolerance.action_accuracy), ("coverage", tolerance.coverage)]
        if "macro_f1" in boot:
            guarded.insert(0, ("macro_f1", tolerance.macro_f1))
        for metric, tol in guarded:
            b = boot[metric]
            verdict = _verdict(b["low"], b["high"])
            text = f"{name}: {metric.replace('_', ' ')} {s_old.get(metric)} -> {s_new.get(metric)} "
            text += f"(diff {b['diff']}, 90% [{b['low']}, {b['high']}]): {verdict}"
            # A loss refuses only when the whole interval lies below -tolerance: one or two events never do.
            if b["high"] is not None and b["high"] < -tol:
                if metric == "coverage" and not real:
                    text += " (synthetic set: coverage is reported, not decisive)"
                elif metric == "coverage" and not protected:
                    text += f" (the champion's auto-apply precision {p_old} is below the floor: not a loss)"
                else:
                    ok = False
                    text += f", refused: the whole interval lies below {-tol:+.2f}"
            reasons.append(text)
        c_old, c_new = s_old["coverage"] or 0.0, s_new["coverage"] or 0.0
        if protected and c_new < 0.5 * c_old:
            ok = False
            reasons.append(f"{name}: coverage {c_old} -> {c_new} is less than half the champion's: refused")
        if (
            p_new is not None
            and p_new < tolerance.auto_apply_floor
            and (p_old is None or p_new < p_old - tolerance.auto_apply_precision)
        ):
            ok = False
            reasons.append(
                f"{name}: auto-apply precision {p_old} -> {p_new} (of {s_new['n_auto']}), below the floor "
                f"{tolerance.auto_apply_floor} and not the champion's level: refused"
            )
        else:
            reasons.append(f"{name}: auto-apply precision {p_old} -> {p_new} (of {s_new['n_auto']}): ok")
        e_old, e_new = float(s_old["ece"]), float(s_new["ece"])
        limit = max(tolerance.ece_ceiling, e_old) + tolerance.ece_slack
        if not real:
            reasons.append(f"{name}: ECE {e_old:.3f} -> {e_new:.3f} (synthetic set: reported, not decisive)")
        elif e_new > limit:
            ok = False
            reasons.append(f"{name}: ECE {e_old:.3f} -> {e_new:.3f} exceeds {limit:.3f}: refused")
        else:
            reasons.append(f"{name}: ECE {e_old:.3f} -> {e_new:.3f}: ok")
    return ok, reasons, table


def _remediation_key(doc: Mapping[str, Any]) -> str:
    return str(doc.get("remediation") or doc.get("_id"))


def newest_slice(
    docs: Sequence[Mapping[str, Any]], share: float = 0.2, minimum: int = 10
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held out): the newest ``share`` of judged Remediations (by their latest document) is held out
    of training so the gate can see what the challenger learned from feedback it has not seen. Fewer than
    ``minimum`` Remediations: nothing is held out (too few to judge anything; all of it is learned)."""
    latest: dict[str, str] = {}
    for d in docs:
        key, created = _remediation_key(d), str(d.get("created_at") or "")
        latest[key] = max(latest.get(key, ""), created)
    if len(latest) < minimum:
        return [dict(d) for d in docs], []
    order = sorted(latest, key=lambda k: (latest[k], k))
    held = set(order[len(order) - max(1, round(len(order) * share)) :])
    return (
        [dict(d) for d in docs if _remediation_key(d) not in held],
        [dict(d) for d in docs if _remediation_key(d) in held],
    )


def _template_key(e: TrainExample) -> str:
    tpl = template_of(e.reason, e.message, e.logs)
    return "" if tpl.empty else tpl.key


def drop_contradicted(
    examples: Sequence[TrainExample], feedback: Sequence[TrainExample]
) -> tuple[list[TrainExample], int]:
    """The examples minus those that human feedback contradicts: same template as a human-labelled
    example, and an action that none of that template's feedback accepts. Feedback overturns the prior
    for its family, and only there (other templates keep every example)."""
    accepted: dict[str, set[str]] = {}
    for f in feedback:
        key = _template_key(f)
        if key and f.weight >= WEIGHTS["rejection"]:  # human verdicts; automatic outcomes contradict nothing
            accepted.setdefault(key, set()).update(f.actions or (str(f.action),))
    if not accepted:
        return list(examples), 0
    kept = []
    for e in examples:
        allowed = accepted.get(_template_key(e))
        if allowed is None or str(e.action) in allowed:
            kept.append(e)
    return kept, len(examples) - len(kept)


def _labelled(examples: Sequence[TrainExample], prefix: str) -> list[LabelledEvent]:
    """Feedback examples as evaluation events (an action-only correction has no type: "")."""
    return [
        LabelledEvent(
            ErrorInput(e.reason, e.exit_code, e.message, e.logs, e.source),
            str(e.error_type or ""),
            e.actions or (str(e.action),),
            f"{prefix}-{i}",
        )
        for i, e in enumerate(examples)
    ]


def seed_holdout(n: int, seed: int) -> list[LabelledEvent]:
    """A held-out split of the seed corpus: ``n`` fresh draws of the generator with its own seed."""
    return [
        LabelledEvent(
            ErrorInput(e.reason, e.exit_code, e.message, e.logs, e.source), e.error_type, tuple(e.actions), f"seed-{i}"
        )
        for i, e in enumerate(generate(n, seed))
    ]


# ----------------------------------------------------------------------------------------------- the job
def _texts_for(
    docs: list[dict[str, Any]], store: _Store, archive: _Archive | None, lookback_days: int
) -> dict[str, Any]:
    missing = sorted({str(d.get("errorevent_ref")) for d in docs if not _has_text(d) and d.get("errorevent_ref")})
    if not missing:
        return {}
    texts: dict[str, Any] = dict(store.errorevents_by_ref(missing))
    still = set(missing) - set(texts)
    if still and archive is not None:
        dates = [d["created_at"] for d in docs if isinstance(d.get("created_at"), dt.datetime)]
        since = (min(dates) if dates else dt.datetime.now(dt.UTC)) - dt.timedelta(days=lookback_days)
        for rec in archive.read_since(since.date()):
            if rec.get("ref") in still:
                texts[str(rec["ref"])] = rec  # later batches win: the newest text of that ErrorEvent
    return texts


def _load_champion(registry: _Registry | None, work_dir: Path) -> tuple[Classifier | None, str | None, str, str]:
    """(model, version, origin, note)."""
    note = ""
    if registry is not None:
        current = registry.current()
        if current is not None:
            version = current[0]
            try:
                path = registry.download(version, work_dir / f"champion-{version}")
                return Classifier.load(path), version, "registry", ""
            except Exception as err:
                note = f"registry CURRENT {version} could not be loaded ({err}); compared with the shipped default"
                log.error("retrain: %s", note)
    try:
        model = Classifier.load(None)
    except artifact.ArtifactError as err:
        return None, None, "none", note or f"no champion: {err}"
    return model, model.version, "shipped", note


def _summary(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in _KEPT_METRICS if k in metrics}


def retrain(
    store: _Store,
    archive: _Archive | None,
    registry: _Registry | None,
    out_dir: str | Path,
    validation_path: str | Path | None = None,
    *,
    cfg: TrainConfig | None = None,
    holdout_n: int = 2700,
    tolerance: Tolerance = Tolerance(),
    since: dt.datetime | None = None,
    archive_lookback_days: int = 14,
    version: str | None = None,
) -> RetrainReport:
    """Train a challenger on seed + real corpus + feedback, compare it with the champion on the seed hold-out
    and the real corpus's test part (or `validation_path`), publish it if not worse.

    ``out_dir`` receives the challenger artifact (``<version>/``), the champion download and
    ``retrain-report.json``. ``cfg`` is the model library's TrainConfig (default: the shipped model's).
    Raises StoreUnavailable when MongoDB is down (nothing is trained or published then)."""
    started = time.monotonic()
    cfg = cfg or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    docs = list(store.feedback_since(since))
    texts = _texts_for(docs, store, archive, archive_lookback_days)
    train_docs, newest_docs = newest_slice(docs)
    fb_examples, counts = examples_from_feedback(train_docs, texts)
    newest_examples, newest_counts = examples_from_feedback(newest_docs, texts)
    for key, value in newest_counts.items():
        counts[key] = counts.get(key, 0) + value
    seed_examples = load_examples("builtin", cfg)
    # The shipped recipe (remediator_model.build_default): the real corpus's fit part beside the seed corpus,
    # calibration on its calibration part, and its test part, never fitted on, in the gate below.
    real = split(load_real(), seed=cfg.seed)
    real_fit = real_examples(real.fit, balanced_real_weight(seed_examples, len(real.fit)))
    seed_kept, contradicted = drop_contradicted(seed_examples, fb_examples)
    counts.update(
        feedback_docs=len(docs),
        feedback_examples=len(fb_examples),
        feedback_held_out=len(newest_examples),
        seed_examples=len(seed_kept),
        seed_contradicted_dropped=contradicted,
        real_examples=len(real_fit),
    )
    log.info(
        "retrain: %d seed + %d real + %d feedback examples (%s)",
        len(seed_kept),
        len(real_fit),
        len(fb_examples),
        counts,
    )

    model = train([*seed_kept, *real_fit, *fb_examples], cfg, calibration=real_examples(real.calibrate, 1.0))
    version = version or f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{model.data_hash[:8]}"
    # Evaluated as it would be served: saved (half-precision weights) and loaded back, like the champion.
    saved = artifact.save(model, out / version, version=version)
    challenger = Classifier.load(saved)
    champion, champion_version, origin, note = _load_champion(registry, out)

    sets: dict[str, list[LabelledEvent]] = {"seed_holdout": seed_holdout(holdout_n, cfg.seed + HOLDOUT_SEED_OFFSET)}
    sets["realworld"] = (
        load_labelled(validation_path)
        if validation_path is not None
        else [LabelledEvent(i.event, i.error_class, i.actions, i.id) for i in real.test]
    )
    if newest_examples:  # what people said most recently, which the challenger was not trained on
        sets["feedback_newest"] = _labelled(newest_examples, "feedback")
    metrics: dict[str, dict[str, dict[str, Any]]] = {"challenger": {}, "champion": {}}
    results: dict[str, dict[str, Outcomes]] = {"challenger": {}, "champion": {}}
    for name, data in sets.items():
        for who, clf in (("challenger", challenger), ("champion", champion)):
            if clf is None:
                continue
            preds = clf.predict_batch([d.event for d in data])
            results[who][name] = outcomes([d.actions for d in data], preds, types=[d.error_class for d in data])
            typed = name != "feedback_newest"  # action-only corrections carry no type to score
            metrics[who][name] = _summary(compute_metrics(data, preds)) if typed else summary(results[who][name])

    ok, reasons, table = compare_outcomes(
        results["champion"] if champion is not None else None, results["challenger"], tolerance
    )
    if champion is None:
        reasons.insert(0, "no champion to compare with: the challenger is the first model")
    metrics["comparison"] = table
    if note:
        reasons.insert(0, note)
    published = False
    if ok:
        evaluation = {"champion": champion_version, "metrics": metrics, "reasons": reasons, "counts": counts}
        (saved / "evaluation.json").write_text(json.dumps(evaluation, indent=1, default=str))  # travels with it
        if registry is not None:
            registry.publish(saved, version)
            published = True
        else:
            reasons.append(f"no registry: artifact left at {saved}")
    report = RetrainReport(
        decision="published" if published else ("passed" if ok else "kept"),
        published=published,
        version=version,
        champion_version=champion_version,
        champion_origin=origin,
        reasons=reasons,
        metrics=metrics,
        counts=counts,
        tolerance=asdict(tolerance),
        seconds=round(time.monotonic() - started, 1),
    )
    (out / "retrain-report.json").write_text(json.dumps(report.to_dict(), indent=1, default=str))
    log.info("retrain: %s %s (champion %s): %s", report.decision, version, champion_version, "; ".join(reasons))
    return report
