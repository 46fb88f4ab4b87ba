"""Feedback: what a Remediation taught us, turned into one stored document, exactly once.

Three sources label a Remediation (``status.feedback.source``):

- ``verification``: the operator applied the change and watched the workload (Succeeded -> correct,
  Failed -> incorrect). Automatic and noisy: a restart can "succeed" for reasons of its own.
- ``rejection``: a human refused the proposal (``remediator.dev/reject=true``) -> incorrect, no correction.
- ``human``: a human said so with annotations on the Remediation::

      remediator.dev/feedback: correct | incorrect
      remediator.dev/correct-action: <action>     # optional, only with incorrect
      remediator.dev/correct-type: <error type>   # optional, only with incorrect

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
from collections.abc import Mapping
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

LABELS = ("correct", "incorrect")
SOURCES = ("verification", "human", "rejection")
# Training weight per feedback source (the seed corpus: 1.0). human > rejection > verification.
WEIGHTS: dict[str, float] = {"human": 20.0, "rejection": 10.0, "verification": 5.0}
SEED_WEIGHT = 1.0

MESSAGE_MAX = 4096  # the ErrorEvent CRD's own limit
LOGS_MAX = 4096  # the tail of the logs: where the error is
ID_MAX = 128  # status.feedback.id maxLength in the Remediation CRD


# -------------------------------------------------------------------------------------------- annotations
@dataclass(frozen=True)
class FeedbackLabel:
    """A human's verdict on a Remediation, as ``status.feedback`` holds it (before it is recorded)."""

    label: str  # correct | incorrect
    source: str = "human"
    correct_action: str | None = None
    correct_type: str | None = None

    def to_status(self) -> dict[str, Any]:
        """The ``status.feedback`` patch: recorded false until the flusher has stored it."""
        out: dict[str, Any] = {"label": self.label, "source": self.source, "recorded": False}
        if self.correct_action:
            out["correctAction"] = self.correct_action
        if self.correct_type:
            out["correctType"] = self.correct_type
        return out


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
    )


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
    meta, spec = remediation.get("metadata") or {}, remediation.get("spec") or {}
    status = remediation.get("status") or {}
    fb = status.get("feedback") or {}
    label, source = fb.get("label"), fb.get("source")
    if label not in LABELS:
        raise ValueError(f"status.feedback.label must be one of {LABELS}, got {label!r}")
    if source not in SOURCES:
        raise ValueError(f"status.feedback.source must be one of {SOURCES}, got {source!r}")
    ee_status = (errorevent or {}).get("status") or {}
    cls = ee_status.get("classification") or {}
    ns = meta.get("namespace", "")
    return {
        "_id": feedback_id(remediation),
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
        "label": label,
        "source": source,
        "correct_action": fb.get("correctAction"),
        "correct_type": fb.get("correctType"),
        "weight": WEIGHTS[source],
        "created_at": now or clock.now(),
    }


def pending_feedback(remediation: Mapping[str, Any]) -> bool:
    """True when ``status.feedback`` carries a label that is not recorded yet."""
    fb = (remediation.get("status") or {}).get("feedback") or {}
    return bool(fb.get("label")) and not fb.get("recorded", False)
