"""Feedback into the store: human verdicts from annotations into status, then status into MongoDB, once.

Status first, store second: a human's verdict lands in ``status.judgments`` (one entry per person; users
cannot write status, so only a parsed annotation can put it there), the operator's own verdicts
(verification, rejection) in ``status.feedback``; ``FeedbackFlusher`` then upserts each document under its
deterministic ``_id`` and marks it recorded. A crash between the two only repeats an idempotent upsert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from remediator import api, metrics
from remediator.adapters.store import StoreUnavailable
from remediator.domain import clock
from remediator.domain.conditions import make_condition, set_condition
from remediator.learning.feedback import (
    JUDGMENTS_MAX,
    InvalidAnnotation,
    describe_verdict,
    feedback_document,
    feedback_from_annotations,
    judgment_document,
    judgments_condition,
    merge_judgment,
    pending_feedback,
    pending_judgments,
)
from remediator.locks import KeyedLocks

log = logging.getLogger(__name__)
GUARD_RECHECK_SECONDS = 30.0


class _Store(Protocol):
    def record_feedback(self, doc: dict[str, Any]) -> bool: ...


class _Kube(Protocol):
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]: ...

    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None: ...


class CachedGuard:
    """Whether an admission guard is installed, asked at most every ``GUARD_RECHECK_SECONDS``."""

    def __init__(self, check: Callable[[], bool], every: float = GUARD_RECHECK_SECONDS) -> None:
        self.check, self.every = check, every
        self._at, self._value = -1e18, False

    def __call__(self) -> bool:
        if time.monotonic() - self._at > self.every:
            self._value, self._at = bool(self.check()), time.monotonic()
        return self._value


class FeedbackFlusher:
    """Moves a Remediation's pending ``status.feedback`` into the store: store first, status second.

    The feedback waits in the Remediation's status (across operator restarts) until both steps succeeded;
    the store write is an upsert of a deterministic ``_id``, so retrying after a failed status patch never
    duplicates it."""

    def __init__(self, store: _Store, kube: _Kube, now: Callable[[], Any] = clock.now) -> None:
        self.store, self.kube, self.clock = store, kube, now

    def flush_one(self, remediation: dict[str, Any]) -> bool:
        """True when nothing is left to do (recorded now or before, or no label yet); False when the caller
        should try again later (store unavailable, ErrorEvent unreadable, or the status patch failed).
        Stores the pending ``status.feedback`` and every pending judgment (one document per person)."""
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
        done = self._flush_feedback(remediation, errorevent)
        return self._flush_judgments(remediation, errorevent) and done

    def _flush_feedback(self, remediation: dict[str, Any], errorevent: dict[str, Any] | None) -> bool:
        fb = (remediation.get("status") or {}).get("feedback") or {}
        if not fb.get("label") or fb.get("recorded", False):
            return True
        ns, name = remediation["metadata"]["namespace"], remediation["metadata"]["name"]
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
        fb = dict(fb)
        fb.update(recorded=True, recordedAt=clock.format_time(self.clock()), id=doc["_id"])
        try:
            updated = self.kube.patch_status(api.REMEDIATIONS, ns, name, {"feedback": fb})
        except Exception as err:  # stored; the next attempt upserts the same _id and patches again
            log.warning("feedback %s stored but status of %s/%s not updated: %s", doc["_id"], ns, name, err)
            return False
        remediation["status"] = (updated or {}).get("status") or {**remediation["status"], "feedback": fb}
        log.info("feedback %s recorded (%s, %s)", doc["_id"], doc["label"], doc["source"])
        return True

    def _flush_judgments(self, remediation: dict[str, Any], errorevent: dict[str, Any] | None) -> bool:
        """Every unrecorded judgment into the store, then one status patch marking those stored as recorded
        (the whole list: a merge patch replaces lists). A store outage part-way marks what got stored."""
        pending = pending_judgments(remediation)
        if not pending:
            return True
        ns, name = remediation["metadata"]["namespace"], remediation["metadata"]["name"]
        judgments = [dict(j) for j in remediation["status"]["judgments"]]
        stored, complete = [], True
        for i in pending:
            try:
                doc = judgment_document(remediation, judgments[i], errorevent, self.clock())
            except ValueError as err:
                log.warning("judgment of %s/%s cannot be recorded: %s", ns, name, err)
                continue
            try:
                inserted = self.store.record_feedback(doc)
            except StoreUnavailable as err:
                log.info("judgments of %s/%s wait in its status: store unavailable: %s", ns, name, err)
                complete = False
                break
            if inserted:
                metrics.FEEDBACK.labels(label=doc["label"]).inc()
            judgments[i] |= {"recorded": True, "recordedAt": clock.format_time(self.clock()), "id": doc["_id"]}
            stored.append(doc["_id"])
        if not stored:
            return complete
        try:
            updated = self.kube.patch_status(api.REMEDIATIONS, ns, name, {"judgments": judgments})
        except Exception as err:  # stored; the next attempt upserts the same _ids and patches again
            log.warning("judgments %s stored but status of %s/%s not updated: %s", stored, ns, name, err)
            return False
        remediation["status"] = (updated or {}).get("status") or {**remediation["status"], "judgments": judgments}
        log.info("judgments %s recorded", ", ".join(stored))
        return complete


class FeedbackRecorder:
    """The learning loop's hook into Remediations: human verdicts from annotations, and flushing.

    Runs under the same per-Remediation locks as the reconciler, so a verdict and a phase change of one
    object never race on its status."""

    def __init__(
        self,
        kube: _Kube,
        locks: KeyedLocks,
        flusher: FeedbackFlusher | None,
        *,
        guard_installed: Callable[[], bool] = lambda: False,
        on_judgment: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
    ) -> None:
        """``guard_installed``: whether the admission policy that checks ``remediator.dev/feedback-by`` is
        in force; only then is the name trusted (otherwise the judgment is the unverified one, ``by`` "").
        ``on_judgment(remediation, entry)``: told of each verdict written to status (the audit stream)."""
        self.kube, self.locks, self.flusher = kube, locks, flusher
        self.guard_installed = guard_installed
        self.on_judgment = on_judgment

    def _fresh(self, rem: dict[str, Any]) -> dict[str, Any] | None:
        meta = rem["metadata"]
        fresh = self.kube.get_cr(api.REMEDIATIONS, meta["namespace"], meta["name"])
        if fresh is None or fresh["metadata"].get("uid") != meta.get("uid"):
            return None
        return fresh

    def human_feedback(self, rem: dict[str, Any]) -> None:
        """remediator.dev/feedback (+ correct-action, correct-type, feedback-by) annotations ->
        status.judgments (this person's entry) -> store."""
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
            self._refuse(rem, "InvalidFeedbackAnnotation", verdict.message, now)
            return
        trusted = bool(verdict.by) and self.guard_installed()
        judge = verdict.by if trusted else ""
        entry = verdict.to_judgment(judge, clock.format_time(now))
        judgments, what = merge_judgment(status.get("judgments"), entry)
        if what == "same":
            return  # this person's verdict is already here (recorded or waiting)
        if what == "full":
            message = (
                f"{JUDGMENTS_MAX} people have judged this Remediation already; the verdict of "
                f"{judge or 'an unverified judge'} was not recorded"
            )
            self._refuse(rem, "TooManyJudgments", message, now)
            return
        who = judge or "unverified judge"
        accepted = f"{who}: {describe_verdict(entry)} ({len(judgments)} judged)"
        if verdict.by and not trusted:
            accepted += (
                f"; {api.FEEDBACK_BY}={verdict.by!r} is not trusted: the admission policy that checks it is not "
                "installed (manifests/admission), so this counts as the one unverified judgment"
            )
        elif not verdict.by:
            accepted += f"; without {api.FEEDBACK_BY} it counts as the one unverified judgment"
        conditions = set_condition(
            status.get("conditions"),
            make_condition(
                api.Condition.FEEDBACK_VALID, True, "FeedbackAccepted", accepted, now, meta.get("generation")
            ),
        )
        agreement = judgments_condition(judgments)
        if agreement is not None:
            agrees, reason, message = agreement
            conditions = set_condition(
                conditions,
                make_condition(api.Condition.JUDGMENTS_AGREE, agrees, reason, message, now, meta.get("generation")),
            )
            if not agrees:
                self.kube.event(rem, reason, message, warning=True)
        updated = self.kube.patch_status(
            api.REMEDIATIONS, meta["namespace"], meta["name"], {"judgments": judgments, "conditions": conditions}
        )
        if what == "added":  # a person's first verdict: a change of mind is not a second judgment
            action = str((rem.get("spec") or {}).get("action") or "unknown")
            metrics.JUDGMENTS.labels(action=action, verdict=entry["label"]).inc()
        if self.on_judgment is not None:
            try:  # written to status already: the hook's trouble is logged, never raised
                self.on_judgment(updated, entry)
            except Exception:
                log.exception("judgment hook failed")
        self.flush_unlocked(updated)

    def _refuse(self, rem: dict[str, Any], reason: str, message: str, now: Any) -> None:
        meta, status = rem["metadata"], rem.get("status") or {}
        conditions = set_condition(
            status.get("conditions"),
            make_condition(api.Condition.FEEDBACK_VALID, False, reason, message, now, meta.get("generation")),
        )
        self.kube.patch_status(api.REMEDIATIONS, meta["namespace"], meta["name"], {"conditions": conditions})
        self.kube.event(rem, reason, message, warning=True)
