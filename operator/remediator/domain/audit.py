"""The audit record of one Remediation step: who decided what, on which evidence, and what came of it.

One record per status write that changed the phase or the reason (a decision, an approval or rejection, a
change, an undo, an outcome), built from what the Remediation's status already holds: no log text beyond
it. Every free-text field is length-bounded and the encoded record never exceeds ``MAX_RECORD_BYTES``, so
text a tenant controls (an ErrorEvent message, an annotation) is one JSON string value, never a second
record or broken JSON. Pure: the transport is the adapter's business (adapters/cloudwatch_logs.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from remediator.domain import clock
from remediator.domain.redact import scrub

SCHEMA = "kube-remediator.audit/v1"
# Far below CloudWatch's 256 KiB per event: a record is a summary, and thousands fit in the buffer.
MAX_RECORD_BYTES = 16 * 1024
MIN_RECORD_BYTES = 2048  # what the who/what/where of a record needs at the longest names Kubernetes allows
TEXT_MAX = 1024  # status.message's own bound
NAME_MAX = 253
CODE_MAX = 64
LIST_MAX = 16
REQUESTERS_MAX = 4  # status.requestedBy's own bound
EVIDENCE_ITEM_MAX = 256
CHANGE_SIDE_MAX_BYTES = 1024  # change.before / change.after kept whole up to this, else summarised

_FINAL = frozenset({"Succeeded", "Failed", "Rejected", "Skipped", "Expired"})
_TIMESTAMPS = ("proposedAt", "expiresAt", "approvedAt", "appliedAt", "verifyUntil", "completedAt")


def step_kind(before_phase: str | None, after_phase: str, reason: str) -> str:
    """What kind of step a transition is, for filtering the stream (`filter kind = "approval"`)."""
    if before_phase is None:
        return "decision"
    if after_phase == "Approved" and before_phase == "PendingApproval":
        return "approval"
    if after_phase == "Rejected":
        return "rejection"
    if after_phase == "Expired":
        return "expiry"
    if after_phase == "Applying":
        return "change-planned"
    if after_phase == "Verifying" and before_phase == "Applying":
        return "change"
    if after_phase == "Undoing":
        return "undo-started"
    if reason == "Undone":
        return "undo"
    if after_phase in _FINAL:
        return "outcome"
    return "transition"


def is_audited(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """A step worth a record: the phase or the reason changed (a Stable condition flipping is not one)."""
    return before.get("phase") != after.get("phase") or before.get("reason") != after.get("reason")


def _text(value: Any, limit: int = TEXT_MAX) -> str | None:
    if value is None:
        return None
    return str(value)[:limit]


def _number(value: Any) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _scrubbed(value: Any) -> Any:
    """A change side with every string leaf scrubbed of obvious secrets (a ConfigMap value may hold one)."""
    if isinstance(value, Mapping):
        return {str(k)[:NAME_MAX]: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, str):
        return scrub(value)[:TEXT_MAX]
    return value


def _change_side(value: Any) -> Any:
    if value is None:
        return None
    encoded = json.dumps(_scrubbed(value), sort_keys=True, ensure_ascii=True, default=str)
    if len(encoded) <= CHANGE_SIDE_MAX_BYTES:
        return json.loads(encoded)
    # Too big to ship whole: what it was (its keys) and a digest to compare with status.change.
    keys = sorted(str(k)[:CODE_MAX] for k in value)[:LIST_MAX] if isinstance(value, Mapping) else []
    digest = hashlib.sha256(encoded.encode()).hexdigest()
    return {"omitted": True, "bytes": len(encoded), "sha256": digest, "keys": keys}


def change_summary(change: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """status.change without the raw requests: what was changed, from what to what, and whether undone."""
    if not change:
        return None
    return {
        "kind": _text(change.get("kind"), CODE_MAX),
        "name": _text(change.get("name"), NAME_MAX),
        "before": _change_side(change.get("before")),
        "after": _change_side(change.get("after")),
        "patches": len(change.get("patches") or ()),
        "evictions": len(change.get("evict") or ()),
        "dryRun": bool(change.get("dryRun", False)),
        "undone": bool(change.get("undone", False)),
    }


def record_id(rem: Mapping[str, Any]) -> str:
    """Unique per status write (uid and the resourceVersion it produced): a record sent twice after a lost
    response is recognisable (`stats count(*) by id`)."""
    meta = rem.get("metadata") or {}
    return f"{meta.get('uid', '')}/{meta.get('resourceVersion', '')}"


def decision_record(before: Mapping[str, Any], rem: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """The record of one step: `before` is the status the step read, `rem` the Remediation as written."""
    meta, spec, status = rem.get("metadata") or {}, rem.get("spec") or {}, rem.get("status") or {}
    target = spec.get("target") or {}
    approval = status.get("approval") or {}
    outcome = status.get("outcome") or {}
    after_phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or "")
    kind = step_kind(before.get("phase"), after_phase, reason)
    # Who took this step: the person whose approval or rejection it records, else the operator (its policy).
    actor = approval.get("by") if kind in ("approval", "rejection") and approval.get("by") else "operator"
    return {
        "schema": SCHEMA,
        "id": record_id(rem),
        "kind": kind,
        "actor": str(actor)[:NAME_MAX],
        "at": clock.format_time(at),
        "namespace": _text(meta.get("namespace"), NAME_MAX),
        "remediation": {
            "name": _text(meta.get("name"), NAME_MAX),
            "uid": _text(meta.get("uid"), CODE_MAX),
            "generation": _number(meta.get("generation")),
        },
        "target": {
            "kind": _text(target.get("kind"), CODE_MAX),
            "name": _text(target.get("name"), NAME_MAX),
            "pod": _text(target.get("podName"), NAME_MAX),
            "container": _text(target.get("containerName"), CODE_MAX),
        },
        "action": _text(spec.get("action"), CODE_MAX),
        "errorType": _text(spec.get("errorType"), CODE_MAX),
        "confidence": _number(spec.get("confidence")),
        "modelVersion": _text(spec.get("modelVersion"), 128),
        "autoApply": bool(spec.get("autoApply", False)),
        "origin": _text(status.get("origin"), CODE_MAX),
        "requestedBy": [str(r)[:NAME_MAX] for r in (status.get("requestedBy") or ())][:REQUESTERS_MAX],
        "errorEvent": _text((spec.get("errorEventRef") or {}).get("name"), NAME_MAX),
        "phase": {"from": _text(before.get("phase"), CODE_MAX), "to": after_phase[:CODE_MAX]},
        "reason": reason[:CODE_MAX],
        "reasons": [str(r)[:CODE_MAX] for r in (status.get("reasons") or ())][:LIST_MAX],
        "message": _text(status.get("message")),
        "explanation": _text(spec.get("explanation")),
        "evidence": [str(e)[:EVIDENCE_ITEM_MAX] for e in (status.get("evidence") or ())][:LIST_MAX],
        "approval": {
            "by": _text(approval.get("by"), NAME_MAX),
            "at": _text(approval.get("at"), CODE_MAX),
            "generation": _number(approval.get("generation")),
        }
        if approval
        else None,
        "change": change_summary(status.get("change")),
        "outcome": {
            "result": _text(outcome.get("result"), CODE_MAX),
            "message": _text(outcome.get("message")),
            "readyReplicas": _number(outcome.get("readyReplicas")),
            "restartsDuringWindow": _number(outcome.get("restartsDuringWindow")),
        }
        if outcome
        else None,
        "timestamps": {k: _text(status[k], CODE_MAX) for k in _TIMESTAMPS if status.get(k)},
    }


def judgment_record(rem: Mapping[str, Any], judgment: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """A person's verdict on a Remediation (a status.judgments entry), as a record of kind "judgment"."""
    meta, spec, status = rem.get("metadata") or {}, rem.get("spec") or {}, rem.get("status") or {}
    target = spec.get("target") or {}
    by = str(judgment.get("by") or "")[:NAME_MAX]
    phase = _text(status.get("phase"), CODE_MAX)
    return {
        "schema": SCHEMA,
        "id": f"{record_id(rem)}/judgment/{by}",
        "kind": "judgment",
        "actor": by or "unverified",
        "at": clock.format_time(at),
        "namespace": _text(meta.get("namespace"), NAME_MAX),
        "remediation": {
            "name": _text(meta.get("name"), NAME_MAX),
            "uid": _text(meta.get("uid"), CODE_MAX),
            "generation": _number(meta.get("generation")),
        },
        "target": {"kind": _text(target.get("kind"), CODE_MAX), "name": _text(target.get("name"), NAME_MAX)},
        "action": _text(spec.get("action"), CODE_MAX),
        "errorType": _text(spec.get("errorType"), CODE_MAX),
        "confidence": _number(spec.get("confidence")),
        "modelVersion": _text(spec.get("modelVersion"), 128),
        "phase": {"from": phase, "to": phase},
        "judgment": {
            "by": by,
            "verified": bool(judgment.get("verified", False)),
            "label": _text(judgment.get("label"), CODE_MAX),
            "correctAction": _text(judgment.get("correctAction"), CODE_MAX),
            "correctType": _text(judgment.get("correctType"), CODE_MAX),
            "at": _text(judgment.get("at"), CODE_MAX),
        },
    }


# Shed in this order until the record fits: the bulkiest, least essential parts first.
_SHEDDING: tuple[tuple[str, ...], ...] = (
    ("change", "before"),
    ("change", "after"),
    ("evidence",),
    ("explanation",),
    ("outcome", "message"),
    ("message",),
)


def encode(record: Mapping[str, Any], limit: int = MAX_RECORD_BYTES) -> str:
    """One line of ASCII JSON (newlines and every non-ASCII character escaped) of at most `limit` bytes.

    Fields named in _SHEDDING are dropped, in order, until it fits; `truncated` lists what was."""
    if limit < MIN_RECORD_BYTES:
        raise ValueError(f"a record limit below {MIN_RECORD_BYTES} bytes cannot hold a record's identity")
    work = json.loads(json.dumps(record, ensure_ascii=True, default=str))
    shed: list[str] = []
    text = _dump(work)
    for path in _SHEDDING:
        if len(text) <= limit:
            break
        parent = work
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and parent.get(path[-1]) is not None:
            parent[path[-1]] = None
            shed.append(".".join(path))
            work["truncated"] = shed
            text = _dump(work)
    if len(text) > limit:  # only for a limit far below the bounds above: keep who/what/where, nothing else
        keep = ("schema", "id", "kind", "at", "namespace", "remediation", "action", "phase", "reason")
        text = _dump({k: work.get(k) for k in keep} | {"truncated": ["*"]})
    return text


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
