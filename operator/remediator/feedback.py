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

Everything here is pure except ``FeedbackFlusher``, which writes to the store first and to the Remediation's
status second, so a crash between the two only repeats an idempotent upsert of the same ``_id``.

Nothing stored may hold secrets: every free text passes ``scrub`` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from remediator.domain.types import ACTIONS, ERROR_TYPES

log = logging.getLogger(__name__)

FEEDBACK_ANNOTATION = "remediator.dev/feedback"
CORRECT_ACTION_ANNOTATION = "remediator.dev/correct-action"
CORRECT_TYPE_ANNOTATION = "remediator.dev/correct-type"

LABELS = ("correct", "incorrect")
SOURCES = ("verification", "human", "rejection")
# Training weight per feedback source (the seed corpus: 1.0). human > rejection > verification.
WEIGHTS: dict[str, float] = {"human": 20.0, "rejection": 10.0, "verification": 5.0}
SEED_WEIGHT = 1.0

MESSAGE_MAX = 4096  # the ErrorEvent CRD's own limit
LOGS_MAX = 4096  # the tail of the logs: where the error is
ID_MAX = 128  # status.feedback.id maxLength in the Remediation CRD

REDACTED = "[REDACTED]"


# ---------------------------------------------------------------------------------------------- scrubbing
def _keep_quotes(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"


def _userinfo(match: re.Match[str]) -> str:
    user, _, password = match.group("userinfo").partition(":")
    if password:
        return f"{match.group('scheme')}{user}:{REDACTED}@"
    return f"{match.group('scheme')}{REDACTED}@"


_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|credentials?|client[_-]?secret|session[_-]?id|cookie"
)
# (pattern, replacement): applied in order. Over-scrubbing is cheap; a leaked secret is not.
_SCRUBBERS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
        "[REDACTED-PRIVATE-KEY]",
    ),
    # scheme://user:password@host and scheme://token@host (MongoDB, Postgres, Redis, AMQP, git over https)
    (re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}+://)(?P<userinfo>[^\s/@'\"<>]{1,256}+)@"), _userinfo),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{4,}+"), "[REDACTED-JWT]"),
    (re.compile(r"(?i)\b(bearer)(\s++)[A-Za-z0-9._~+/=-]{8,}+"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)\b(basic)(\s++)(?=[A-Za-z0-9+/]{0,512}[0-9+/=])[A-Za-z0-9+/]{8,}+={0,2}"), r"\1\2" + REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b"), "[REDACTED-AWS-KEY]"),
    (
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
            r"|sk-[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35})"
        ),
        REDACTED,
    ),
    # password=..., "token": "...", api_key: ..., AWS_SECRET_ACCESS_KEY=..., --password=...
    (
        re.compile(
            r"(?i)(?P<key>(?:" + _SECRET_WORDS + r")[\w.-]{0,40}+[\"']?)(?P<sep>\s*+[:=]\s*+)"
            r"(?P<value>\[REDACTED[^\]\s]*+\]|\"[^\"\n]*+\"|'[^'\n]*+'|[^\s&,;'\"}\]]++)"
        ),
        _keep_quotes,
    ),
)


def scrub(text: str | None) -> str:
    """``text`` with obvious secrets replaced by ``[REDACTED]``: key=value secrets (password, token, api key,
    secret, ...), connection-string credentials, bearer/basic tokens, JWTs, AWS access key ids, private
    keys and well-known token formats. Pure; idempotent (scrubbing twice changes nothing more)."""
    if not text:
        return ""
    out = text
    for pattern, replacement in _SCRUBBERS:
        out = pattern.sub(replacement, out)
    return out


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
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "predicted_type": spec.get("errorType"),
        "predicted_action": spec.get("action"),
        "confidence": spec.get("confidence"),
        "model_version": spec.get("modelVersion", ""),
        "model_type": cls.get("errorType"),
        "model_action": cls.get("action"),
        "auto_apply": bool(spec.get("autoApply", False)),
        "phase": status.get("phase"),
        "outcome": (status.get("outcome") or {}).get("result"),
        "label": label,
        "source": source,
        "correct_action": fb.get("correctAction"),
        "correct_type": fb.get("correctType"),
        "weight": WEIGHTS[source],
        "created_at": now or _now(),
    }


def pending_feedback(remediation: Mapping[str, Any]) -> bool:
    """True when ``status.feedback`` carries a label that is not recorded yet."""
    fb = (remediation.get("status") or {}).get("feedback") or {}
    return bool(fb.get("label")) and not fb.get("recorded", False)


# ---------------------------------------------------------------------------------------------- flushing
class _Store(Protocol):
    def record_feedback(self, doc: dict[str, Any]) -> bool: ...


class _Kube(Protocol):
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]: ...


class FeedbackFlusher:
    """Moves a Remediation's pending ``status.feedback`` into the store: store first, status second.

    The feedback waits in the Remediation's status (across operator restarts) until both steps succeeded;
    the store write is an upsert of a deterministic ``_id``, so retrying after a failed status patch never
    duplicates it."""

    def __init__(self, store: _Store, kube: _Kube, clock: Callable[[], dt.datetime] = _now) -> None:
        self.store, self.kube, self.clock = store, kube, clock

    def flush_one(self, remediation: dict[str, Any]) -> bool:
        """True when nothing is left to do (recorded now or before, or no label yet); False when the caller
        should try again later (store unavailable, ErrorEvent unreadable, or the status patch failed)."""
        from remediator import metrics
        from remediator.adapters.store import StoreUnavailable

        if not pending_feedback(remediation):
            return True
        meta, spec = remediation["metadata"], remediation.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        errorevent: dict[str, Any] | None = None
        ee_name = (spec.get("errorEventRef") or {}).get("name")
        if ee_name:
            try:
                errorevent = self.kube.get_cr("errorevents", ns, ee_name)
            except Exception as err:  # the API server is the problem: the texts matter, retry later
                log.warning("feedback of %s/%s waits: cannot read ErrorEvent %s: %s", ns, name, ee_name, err)
                return False
        try:
            doc = feedback_document(remediation, errorevent, self.clock())
        except ValueError as err:
            log.warning("feedback of %s/%s cannot be recorded: %s", ns, name, err)
            return True
        try:
            inserted = self.store.record_feedback(doc)
        except StoreUnavailable as err:
            log.info("feedback of %s/%s waits in its status: store unavailable: %s", ns, name, err)
            return False
        if inserted:
            metrics.FEEDBACK.labels(label=doc["label"]).inc()
        fb = dict(remediation["status"]["feedback"])
        fb.update(recorded=True, recordedAt=_iso(self.clock()), id=doc["_id"])
        try:
            updated = self.kube.patch_status("remediations", ns, name, {"feedback": fb})
        except Exception as err:  # stored; the next attempt upserts the same _id and patches again
            log.warning("feedback %s stored but status of %s/%s not updated: %s", doc["_id"], ns, name, err)
            return False
        remediation["status"] = (updated or {}).get("status") or {**remediation["status"], "feedback": fb}
        log.info("feedback %s recorded (%s, %s)", doc["_id"], doc["label"], doc["source"])
        return True
