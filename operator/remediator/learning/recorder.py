"""Feedback into the store: human verdicts from annotations into status, then status into MongoDB, once.

Status first, store second: a human's verdict lands in ``status.feedback`` (users cannot write status, so
only a parsed annotation can put it there); ``FeedbackFlusher`` then upserts the document under its
deterministic ``_id`` and marks it recorded. A crash between the two only repeats an idempotent upsert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from remediator import api, metrics
from remediator.adapters.store import StoreUnavailable
from remediator.domain import clock
from remediator.domain.conditions import make_condition, set_condition
from remediator.learning.feedback import (
    InvalidAnnotation,
    feedback_document,
    feedback_from_annotations,
    pending_feedback,
)
from remediator.locks import KeyedLocks

log = logging.getLogger(__name__)
_FEEDBACK_KEYS = ("label", "source", "correctAction", "correctType")


class _Store(Protocol):
    def record_feedback(self, doc: dict[str, Any]) -> bool: ...


class _Kube(Protocol):
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]: ...

    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None: ...


class FeedbackFlusher:
    """Moves a Remediation's pending ``status.feedback`` into the store: store first, status second.

    The feedback waits in the Remediation's status (across operator restarts) until both steps succeeded;
    the store write is an upsert of a deterministic ``_id``, so retrying after a failed status patch never
    duplicates it."""

    def __init__(self, store: _Store, kube: _Kube, now: Callable[[], Any] = clock.now) -> None:
        self.store, self.kube, self.clock = store, kube, now

    def flush_one(self, remediation: dict[str, Any]) -> bool:
        """True when nothing is left to do (recorded now or before, or no label yet); False when the caller
        should try again later (store unavailable, ErrorEvent unreadable, or the status patch failed)."""
        if not pending_feedback(remediation):
            return True
        meta, spec = remediation["metadata"], remediation.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        errorevent: dict[str, Any] | None = None
        ee_name = (spec.get("errorEventRef") or {}).get("name")
        if ee_name:
            try:
                errorevent = self.kube.get_cr(api.ERROREVENTS, ns, ee_name)
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
        fb.update(recorded=True, recordedAt=clock.format_time(self.clock()), id=doc["_id"])
        try:
            updated = self.kube.patch_status(api.REMEDIATIONS, ns, name, {"feedback": fb})
        except Exception as err:  # stored; the next attempt upserts the same _id and patches again
            log.warning("feedback %s stored but status of %s/%s not updated: %s", doc["_id"], ns, name, err)
            return False
        remediation["status"] = (updated or {}).get("status") or {**remediation["status"], "feedback": fb}
        log.info("feedback %s recorded (%s, %s)", doc["_id"], doc["label"], doc["source"])
        return True


class FeedbackRecorder:
    """The learning loop's hook into Remediations: human verdicts from annotations, and flushing.

    Runs under the same per-Remediation locks as the reconciler, so a verdict and a phase change of one
    object never race on its status."""

    def __init__(self, kube: _Kube, locks: KeyedLocks, flusher: FeedbackFlusher | None) -> None:
        self.kube, self.locks, self.flusher = kube, locks, flusher

    def _fresh(self, rem: dict[str, Any]) -> dict[str, Any] | None:
        meta = rem["metadata"]
        fresh = self.kube.get_cr(api.REMEDIATIONS, meta["namespace"], meta["name"])
        if fresh is None or fresh["metadata"].get("uid") != meta.get("uid"):
            return None
        return fresh

    def human_feedback(self, rem: dict[str, Any]) -> None:
        """remediator.dev/feedback (+ correct-action, correct-type) annotations -> status.feedback -> store."""
        meta = rem["metadata"]
        with self.locks((meta["namespace"], meta["name"])):
            fresh = self._fresh(rem)
            if fresh is not None:
                self._human_feedback(fresh)

    def flush(self, rem: dict[str, Any]) -> bool:
        """Store the Remediation's pending feedback (re-read under its lock); False when it must wait."""
        meta = rem["metadata"]
        with self.locks((meta["namespace"], meta["name"])):
            fresh = self._fresh(rem)
            return True if fresh is None else self.flush_unlocked(fresh)

    def flush_unlocked(self, rem: dict[str, Any]) -> bool:
        """As flush(), for a caller that already holds the Remediation's lock and a fresh body."""
        if not pending_feedback(rem):
            return True
        return self.flusher.flush_one(rem) if self.flusher is not None else False

    def _human_feedback(self, rem: dict[str, Any]) -> None:
        verdict = feedback_from_annotations(rem["metadata"].get("annotations"))
        if verdict is None:
            return
        meta, status = rem["metadata"], rem.get("status") or {}
        now = clock.now()
        if isinstance(verdict, InvalidAnnotation):
            conditions = set_condition(
                status.get("conditions"),
                make_condition(
                    api.Condition.FEEDBACK_VALID,
                    False,
                    "InvalidFeedbackAnnotation",
                    verdict.message,
                    now,
                    meta.get("generation"),
                ),
            )
            self.kube.patch_status(api.REMEDIATIONS, meta["namespace"], meta["name"], {"conditions": conditions})
            self.kube.event(rem, "InvalidFeedbackAnnotation", verdict.message, warning=True)
            return
        wanted = verdict.to_status()
        current = status.get("feedback") or {}
        if current.get("source") == "human" and all(current.get(k) == wanted.get(k) for k in _FEEDBACK_KEYS):
            return  # this verdict is already here (recorded or waiting)
        conditions = set_condition(
            status.get("conditions"),
            make_condition(
                api.Condition.FEEDBACK_VALID,
                True,
                "FeedbackAccepted",
                f"human feedback: {verdict.label}",
                now,
                meta.get("generation"),
            ),
        )
        # A merge patch: keys the new verdict lacks are cleared, not kept from an older one.
        feedback = {k: wanted.get(k) for k in _FEEDBACK_KEYS} | {"recorded": False, "recordedAt": None, "id": None}
        updated = self.kube.patch_status(
            api.REMEDIATIONS, meta["namespace"], meta["name"], {"feedback": feedback, "conditions": conditions}
        )
        self.flush_unlocked(updated)
