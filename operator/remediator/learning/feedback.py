"""Feedback: what a Remediation taught us, turned into one stored document, exactly once.

Three sources label a Remediation (``status.feedback.source`` for the first two; people in ``status.judgments``):

- ``verification``: the operator applied the change and watched the workload (Succeeded -> correct,
  Failed -> incorrect). Automatic and noisy: a restart can "succeed" for reasons of its own.
- ``rejection``: a human refused the proposal (``remediator.dev/reject=true``) -> incorrect, no correction.
- ``human``: a human said so with annotations on the Remediation::

      remediator.dev/feedback: correct | incorrect
      remediator.dev/correct-action: <action>     # optional, only with incorrect
      remediator.dev/correct-type: <error type>   # optional, only with incorrect
      remediator.dev/feedback-by: <user name>     # who judged: the requester, checked by admission

  Several people may judge one Remediation. The annotations hold the latest verdict only; the operator keeps
  every person's in ``status.judgments`` (one entry per ``by``: a second person appends, the same person
  replacing their own entry), and each becomes its own stored document (``judgment_id``). ``by`` is
  trusted only while the admission policy that checks it is installed (its binding carries
  ``remediator.dev/guard: feedback``); otherwise, and for a verdict without ``feedback-by``, it is ``""``:
  one unverified person, whose entry every unverified verdict replaces. Training counts people, see
  ``remediator.learning.retrain.dedupe_feedback``: agreement raises the weight (``agreement_factor``),
  disagreement is flagged for review and trains nothing.

Training weights (the seed corpus weighs 1.0 per example; see ``WEIGHTS``): human 20.0 (the model library's
default weight for feedback), rejection 10.0 (a deliberate human "no", but without the right answer),
verification 5.0 (automatic; enough that a few dozen outcomes move a decision, not so much that the model
mostly learns to agree with itself).

Everything here is pure; ``learning.recorder`` moves the documents into the store. Nothing stored may hold
secrets: every free text passes ``domain.redact.scrub`` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from remediator import api
from remediator.domain import clock
from remediator.domain.redact import scrub
from remediator.domain.types import ACTIONS, ERROR_TYPES
from remediator_model.template import template_of

FEEDBACK_ANNOTATION = api.FEEDBACK
CORRECT_ACTION_ANNOTATION = api.CORRECT_ACTION
CORRECT_TYPE_ANNOTATION = api.CORRECT_TYPE
FEEDBACK_BY_ANNOTATION = api.FEEDBACK_BY

LABELS = ("correct", "incorrect")
SOURCES = ("verification", "human", "rejection")
# Training weight per feedback source (the seed corpus: 1.0). human > rejection > verification.
WEIGHTS: dict[str, float] = {"human": 20.0, "rejection": 10.0, "verification": 5.0}
SEED_WEIGHT = 1.0

MESSAGE_MAX = 4096  # the ErrorEvent CRD's own limit
LOGS_MAX = 4096  # the tail of the logs: where the error is
ID_MAX = 128  # status.feedback.id maxLength in the Remediation CRD
BY_MAX = 253  # status.judgments[].by maxLength: a longer user name is kept as its sha256
JUDGMENTS_MAX = 16  # status.judgments maxItems: a 17th person is refused (FeedbackValid=False)
# Agreement: each further verified person who gives the same verdict adds this much of the base weight,
# up to AGREEMENT_CAP times it (see agreement_factor).
AGREEMENT_STEP = 0.5
AGREEMENT_CAP = 2.0


# -------------------------------------------------------------------------------------------- annotations
@dataclass(frozen=True)
class FeedbackLabel:
    """A human's verdict on a Remediation, as ``status.feedback`` holds it (before it is recorded)."""

    label: str  # correct | incorrect
    source: str = "human"
    correct_action: str | None = None
    correct_type: str | None = None
    by: str = ""  # remediator.dev/feedback-by as written (trusted only with the admission guard)

    def to_status(self) -> dict[str, Any]:
        """The ``status.feedback`` patch: recorded false until the flusher has stored it."""
        out: dict[str, Any] = {"label": self.label, "source": self.source, "recorded": False}
        if self.correct_action:
            out["correctAction"] = self.correct_action
        if self.correct_type:
            out["correctType"] = self.correct_type
        return out

    def to_judgment(self, by: str, at: str) -> dict[str, Any]:
        """A ``status.judgments`` entry: ``by`` is the judge the operator trusts ("" = unverified)."""
        out: dict[str, Any] = {"by": by, "verified": bool(by), "label": self.label}
        if self.correct_action:
            out["correctAction"] = self.correct_action
        if self.correct_type:
            out["correctType"] = self.correct_type
        return out | {"at": at, "recorded": False}


@dataclass(frozen=True)
class InvalidAnnotation:
    """Feedback annotations that cannot be recorded; ``message`` says which and why. Nothing is recorded."""

    key: str
    value: str
    message: str


def feedback_from_annotations(annotations: Mapping[str, str] | None) -> FeedbackLabel | InvalidAnnotation | None:
    """Parse the human feedback annotations. None when there are none; InvalidAnnotation for a bad value or
    a contradiction (a correction with ``feedback=correct``, or a correction without any ``feedback``)."""
    annotations = annotations or {}
    raw = annotations.get(FEEDBACK_ANNOTATION)
    action = annotations.get(CORRECT_ACTION_ANNOTATION)
    etype = annotations.get(CORRECT_TYPE_ANNOTATION)
    if raw is None and action is None and etype is None:
        return None
    label = (raw or "").strip().lower()
    if raw is None:
        key, value = (CORRECT_ACTION_ANNOTATION, action) if action is not None else (CORRECT_TYPE_ANNOTATION, etype)
        return InvalidAnnotation(
            key, value or "", f'{key} needs {FEEDBACK_ANNOTATION}="incorrect" as well; nothing was recorded'
        )
    if label not in LABELS:
        return InvalidAnnotation(
            FEEDBACK_ANNOTATION,
            raw,
            f'{FEEDBACK_ANNOTATION}="{raw}" is not "correct" or "incorrect"; nothing was recorded',
        )
    if action is not None and action.strip() not in ACTIONS:
        return InvalidAnnotation(
            CORRECT_ACTION_ANNOTATION,
            action,
            f'{CORRECT_ACTION_ANNOTATION}="{action}" is not one of {", ".join(ACTIONS)}; nothing was recorded',
        )
    if etype is not None and etype.strip() not in ERROR_TYPES:
        return InvalidAnnotation(
            CORRECT_TYPE_ANNOTATION,
            etype,
            f'{CORRECT_TYPE_ANNOTATION}="{etype}" is not one of {", ".join(ERROR_TYPES)}; nothing was recorded',
        )
    if label == "correct" and (action is not None or etype is not None):
        key = CORRECT_ACTION_ANNOTATION if action is not None else CORRECT_TYPE_ANNOTATION
        return InvalidAnnotation(
            key,
            (action if action is not None else etype) or "",
            f'{key} contradicts {FEEDBACK_ANNOTATION}="correct"; nothing was recorded',
        )
    return FeedbackLabel(
        label,
        "human",
        action.strip() if action is not None else None,
        etype.strip() if etype is not None else None,
        judge_name(annotations.get(FEEDBACK_BY_ANNOTATION)),
    )


def judge_name(raw: str | None) -> str:
    """A judge's user name as ``status.judgments[].by`` keeps it: as written (not stripped: admission compared
    it byte for byte with the requester's name, and " alice" is not alice); longer than ``BY_MAX`` (an OIDC
    subject may be): ``sha256:<hex>`` of it, still one distinct, deterministic identity. A name that itself
    starts with ``sha256:`` is hashed too, so nobody can take over a long name's entry by being called
    ``sha256:<its hash>``."""
    name = raw or ""
    if len(name) <= BY_MAX and not name.startswith(_HASHED):
        return name
    return _HASHED + hashlib.sha256(name.encode()).hexdigest()


_HASHED = "sha256:"


# -------------------------------------------------------------------------------------------- judgments


def verdict(judgment: Mapping[str, Any]) -> tuple[str, str, str]:
    """(label, corrected action, corrected type) of a judgment, "" for what it does not say."""
    return (
        str(judgment.get("label") or ""),
        str(judgment.get("correctAction") or ""),
        str(judgment.get("correctType") or ""),
    )


def merge_judgment(
    judgments: Sequence[Mapping[str, Any]] | None, new: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], str]:
    """``status.judgments`` with ``new`` in it, and what happened: "same" (this person already said exactly
    this: nothing to write), "replaced" (this person changed their mind: their entry, at its place),
    "added" (a new person, appended) or "full" (``JUDGMENTS_MAX`` people already: unchanged)."""
    current = [dict(j) for j in judgments or ()]
    for i, old in enumerate(current):
        if old.get("by", "") == new.get("by", ""):
            if verdict(old) == verdict(new):
                return current, "same"
            current[i] = dict(new)
            return current, "replaced"
    if len(current) >= JUDGMENTS_MAX:
        return current, "full"
    return [*current, dict(new)], "added"


def describe_verdict(judgment: Mapping[str, Any]) -> str:
    """``correct``, ``incorrect``, ``incorrect->notify``, ``incorrect->oom`` or ``incorrect->oom/notify``."""
    label, action, etype = verdict(judgment)
    correction = "/".join(x for x in (etype, action) if x)
    return f"{label}->{correction}" if correction else label


def conflicts(verdicts: list[tuple[str, str, str]]) -> bool:
    """Whether these verdicts disagree: different labels, or different corrections. An uncorrected
    ``incorrect`` agrees with any corrected one (it says only what both say: the proposal was wrong)."""
    if len({label for label, _, _ in verdicts}) > 1:
        return True
    return len({(action, etype) for _, action, etype in verdicts if action or etype}) > 1


def _says(judgments: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{j.get('by') or '(unverified)'} says {describe_verdict(j)}" for j in judgments)


def _bounded(message: str, limit: int = 1024) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def disagreement(judgments: Sequence[Mapping[str, Any]] | None) -> str | None:
    """None when the judges agree (or fewer than two judged); else a message naming each person's verdict:
    ``2 people disagree: alice says incorrect->notify, bob says correct; ...`` (at most 1024 characters)."""
    entries = list(judgments or ())
    if len(entries) < 2 or not conflicts([verdict(j) for j in entries]):
        return None
    return _bounded(f"{len(entries)} people disagree: {_says(entries)}; training uses none of these until they agree")


def judgments_condition(judgments: Sequence[Mapping[str, Any]] | None) -> tuple[bool, str, str] | None:
    """The JudgmentsAgree condition (status, reason, message) of ``status.judgments``; None for one judge."""
    entries = list(judgments or ())
    conflict = disagreement(entries)
    if conflict is not None:
        return False, "JudgmentsDisagree", conflict
    if len(entries) < 2:
        return None
    return True, "JudgmentsAgree", _bounded(f"{len(entries)} people agree: {_says(entries)}")


def agreement_factor(people: int) -> float:
    """The weight multiplier of a verdict that ``people`` distinct verified people gave alike:
    1 + ``AGREEMENT_STEP`` x (people - 1), at most ``AGREEMENT_CAP`` (1 person: 1.0, 2: 1.5, 3 or more: 2.0).
    Independent confirmations make a wrong label less likely, so they count more; the cap keeps one
    popular Remediation (or a handful of colluding identities) from outweighing everything else."""
    return min(AGREEMENT_CAP, 1.0 + AGREEMENT_STEP * max(0, people - 1))


# -------------------------------------------------------------------------------------------- documents
def object_key(obj: Mapping[str, Any]) -> str:
    """``<namespace>/<name>/<uid>``: one object, never a later one of the same name."""
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}/{meta.get('uid', '')}"


def feedback_id(remediation: Mapping[str, Any]) -> str:
    """The stored feedback document's ``_id`` (and ``status.feedback.id``): ``<ns>/<name>/<uid>/<source>``.

    One document per Remediation and feedback source: writing the same feedback again is a no-op, a human's
    verdict after the verification's is a second document (training keeps the strongest, see ``WEIGHTS``),
    and a human who changes their mind overwrites their own document. Longer than the CRD's 128 characters
    (long names): ``sha256:<hex>`` of the same string, still deterministic."""
    source = ((remediation.get("status") or {}).get("feedback") or {}).get("source", "")
    raw = f"{object_key(remediation)}/{source}"
    if len(raw) <= ID_MAX:
        return raw
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def judgment_id(remediation: Mapping[str, Any], by: str) -> str:
    """The stored document's ``_id`` of one person's judgment: ``<ns>/<name>/<uid>/human/<by>``; of the
    unverified judge (``by`` = ""): ``<ns>/<name>/<uid>/human``, the id a verdict had before judges were
    counted, so an upgraded operator rewrites that document rather than adding a second. Hashed like
    ``feedback_id`` when longer than ``ID_MAX``."""
    raw = f"{object_key(remediation)}/human" + (f"/{by}" if by else "")
    if len(raw) <= ID_MAX:
        return raw
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[-limit:]


def event_texts(errorevent: Mapping[str, Any] | None) -> dict[str, Any]:
    """The model's input fields of an ErrorEvent, scrubbed and bounded."""
    spec = (errorevent or {}).get("spec") or {}
    exit_code = spec.get("exitCode")
    return {
        "reason": scrub(spec.get("reason"))[:128],
        "exit_code": exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        "message": scrub(spec.get("message"))[:MESSAGE_MAX],
        "logs": _tail(scrub(spec.get("logs")), LOGS_MAX),
        "event_source": str(spec.get("source") or ""),
    }


def errorevent_document(errorevent: Mapping[str, Any]) -> dict[str, Any]:
    """An ErrorEvent as the ``errorevents`` collection and the S3 log archive keep it (JSON-safe values;
    the store adds ``created_at``/``expires_at``). ``ref`` (``<ns>/<name>``) joins it to feedback."""
    meta, spec = errorevent.get("metadata") or {}, errorevent.get("spec") or {}
    status = errorevent.get("status") or {}
    cls = status.get("classification") or {}
    target = spec.get("target") or {}
    return {
        "key": object_key(errorevent),
        "ref": f"{meta.get('namespace', '')}/{meta.get('name', '')}",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "target": {"kind": target.get("kind", ""), "name": target.get("name", "")},
        **event_texts(errorevent),
        "family": str((spec.get("context") or {}).get("family") or ""),
        "count": spec.get("count", 1),
        "first_seen": spec.get("firstSeen"),
        "last_seen": spec.get("lastSeen"),
        "fingerprint": status.get("fingerprint"),
        "classification": {
            "error_type": cls.get("errorType"),
            "action": cls.get("action"),
            "confidence": cls.get("confidence"),
            "model_version": cls.get("modelVersion"),
        },
    }


def _template_key(errorevent: Mapping[str, Any] | None) -> str:
    """The error's family (remediator_model.template), "" without a text: what corrections are keyed by."""
    spec = (errorevent or {}).get("spec") or {}
    tpl = template_of(str(spec.get("reason") or ""), str(spec.get("message") or ""), str(spec.get("logs") or ""))
    return "" if tpl.empty else tpl.key


def remediation_document(remediation: Mapping[str, Any]) -> dict[str, Any]:
    """A Remediation for the ``remediations`` collection: decision, action, outcome, model version."""
    meta, spec = remediation.get("metadata") or {}, remediation.get("spec") or {}
    status = remediation.get("status") or {}
    target = spec.get("target") or {}
    return {
        "key": object_key(remediation),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "target": {"kind": target.get("kind", ""), "name": target.get("name", "")},
        "errorevent_ref": f"{meta.get('namespace', '')}/{(spec.get('errorEventRef') or {}).get('name', '')}",
        "action": spec.get("action"),
        "error_type": spec.get("errorType"),
        "confidence": spec.get("confidence"),
        "model_version": spec.get("modelVersion", ""),
        "auto_apply": bool(spec.get("autoApply", False)),
        "origin": status.get("origin"),
        "phase": status.get("phase"),
        "reason": status.get("reason"),
        "message": scrub(status.get("message"))[:1024],
        "outcome": (status.get("outcome") or {}).get("result"),
        "dry_run": bool((status.get("change") or {}).get("dryRun", False)),
        "proposed_at": status.get("proposedAt"),
        "applied_at": status.get("appliedAt"),
        "completed_at": status.get("completedAt"),
    }


def feedback_document(
    remediation: Mapping[str, Any], errorevent: Mapping[str, Any] | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The stored feedback document of a Remediation's ``status.feedback`` (which must carry a label).

    ``predicted_*`` is what the Remediation proposed (spec: what was judged); ``model_*`` is the model's own
    classification from the ErrorEvent, when there is one. Texts come from the ErrorEvent, scrubbed; without
    it (deleted) they are empty and training looks them up in the S3 archive by ``errorevent_ref``."""
    fb = (remediation.get("status") or {}).get("feedback") or {}
    label, source = fb.get("label"), fb.get("source")
    if label not in LABELS:
        raise ValueError(f"status.feedback.label must be one of {LABELS}, got {label!r}")
    if source not in SOURCES:
        raise ValueError(f"status.feedback.source must be one of {SOURCES}, got {source!r}")
    return _document(remediation, errorevent, now, fb, str(source), feedback_id(remediation))


def judgment_document(
    remediation: Mapping[str, Any],
    judgment: Mapping[str, Any],
    errorevent: Mapping[str, Any] | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The stored document of one person's judgment (a ``status.judgments`` entry): a ``human`` feedback
    document as ``feedback_document`` makes, plus ``judge`` (the user name, "" = unverified), ``verified``
    and ``judged_at``, under ``judgment_id``."""
    label, by = judgment.get("label"), str(judgment.get("by") or "")
    if label not in LABELS:
        raise ValueError(f"status.judgments[].label must be one of {LABELS}, got {label!r}")
    doc = _document(remediation, errorevent, now, judgment, "human", judgment_id(remediation, by))
    return doc | {"judge": by, "verified": bool(by), "judged_at": judgment.get("at")}


def _document(
    remediation: Mapping[str, Any],
    errorevent: Mapping[str, Any] | None,
    now: dt.datetime | None,
    fb: Mapping[str, Any],
    source: str,
    doc_id: str,
) -> dict[str, Any]:
    meta, spec = remediation.get("metadata") or {}, remediation.get("spec") or {}
    status = remediation.get("status") or {}
    ee_status = (errorevent or {}).get("status") or {}
    cls = ee_status.get("classification") or {}
    ns = meta.get("namespace", "")
    return {
        "_id": doc_id,
        "remediation": object_key(remediation),
        "namespace": ns,
        "remediation_name": meta.get("name", ""),
        "errorevent_ref": f"{ns}/{(spec.get('errorEventRef') or {}).get('name', '')}",
        "errorevent_uid": ((errorevent or {}).get("metadata") or {}).get("uid"),
        "target": {
            "kind": (spec.get("target") or {}).get("kind", ""),
            "name": (spec.get("target") or {}).get("name", ""),
        },
        **event_texts(errorevent),
        "has_text": errorevent is not None,
        "template": _template_key(errorevent),
        "predicted_type": spec.get("errorType"),
        "predicted_action": spec.get("action"),
        "confidence": spec.get("confidence"),
        "model_version": spec.get("modelVersion", ""),
        "model_type": cls.get("errorType"),
        "model_action": cls.get("action"),
        "auto_apply": bool(spec.get("autoApply", False)),
        "origin": status.get("origin"),  # "user": a proposal, whose outcome says nothing about the model
        "phase": status.get("phase"),
        "outcome": (status.get("outcome") or {}).get("result"),
        "label": fb.get("label"),
        "source": source,
        "correct_action": fb.get("correctAction"),
        "correct_type": fb.get("correctType"),
        "weight": WEIGHTS[source],
        "created_at": now or clock.now(),
    }


def pending_feedback(remediation: Mapping[str, Any]) -> bool:
    """True when ``status.feedback`` carries a label that is not recorded yet, or a judgment is not."""
    status = remediation.get("status") or {}
    fb = status.get("feedback") or {}
    return (bool(fb.get("label")) and not fb.get("recorded", False)) or bool(pending_judgments(remediation))


def pending_judgments(remediation: Mapping[str, Any]) -> list[int]:
    """The indexes of the ``status.judgments`` entries that are not recorded yet."""
    judgments = (remediation.get("status") or {}).get("judgments") or []
    return [i for i, j in enumerate(judgments) if j.get("label") and not j.get("recorded", False)]
