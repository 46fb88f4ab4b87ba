"""The operator's side of the learning loop: which stores are configured, and the background work on them.

Feedback waits in each Remediation's status until MongoDB has it (FeedbackFlusher: store first, status
second), so a MongoDB outage or an operator restart loses nothing; this module only retries. ErrorEvent
texts go to MongoDB (best effort, they expire) and to the S3 archive (buffered), for training.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from remediator.adapters import aws
from remediator.adapters.archive import LogArchive
from remediator.adapters.kube import Kube
from remediator.adapters.registry import ModelRegistry
from remediator.adapters.ssm import resolve_optional
from remediator.adapters.store import FeedbackStore, StoreUnavailable
from remediator.learning.corrections import CorrectionIndex
from remediator.learning.feedback import errorevent_document
from remediator.learning.modelswap import ModelHolder, ModelPoller
from remediator.learning.recorder import FeedbackFlusher
from remediator.settings import Settings

log = logging.getLogger(__name__)


def aws_clients(opts: Settings) -> tuple[Any, Any]:
    """An S3 client and a factory of SSM clients for these settings."""
    return aws.clients(opts.s3_endpoint_url, opts.aws_region)


def resolved_mongodb_uri(opts: Settings) -> str | None:
    """The MongoDB URI, read from SSM Parameter Store when given as ssm:///path. The AWS SDK is imported and
    its clients made only then: importing it and making an S3 client cost about 20 MB of memory."""
    return resolve_optional(opts.mongodb_uri, lambda: aws_clients(opts)[1]())


@dataclass
class Learning:
    opts: Settings
    holder: ModelHolder
    store: FeedbackStore | None = None
    flusher: FeedbackFlusher | None = None
    archive: LogArchive | None = None
    poller: ModelPoller | None = None
    corrections: CorrectionIndex = field(default_factory=CorrectionIndex)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def configure(cls, opts: Settings, kube: Kube, holder: ModelHolder) -> Learning:
        learning = cls(opts, holder)
        uri = resolved_mongodb_uri(opts)
        if uri:
            learning.store = FeedbackStore(uri, retention_days=opts.retention_days)
            learning.flusher = FeedbackFlusher(learning.store, kube)
            try:
                learning.store.ensure_indexes()
            except StoreUnavailable as err:  # it is created on the first pass that reaches MongoDB
                log.warning("MongoDB unavailable at start-up; feedback waits in Remediation status: %s", err)
        if opts.logs_bucket or opts.models_bucket:
            s3, _ = aws_clients(opts)
            if opts.logs_bucket:
                learning.archive = LogArchive(s3, opts.logs_bucket, opts.logs_prefix)
            if opts.models_bucket and opts.model_poll_seconds > 0:
                registry = ModelRegistry(s3, opts.models_bucket, opts.models_prefix)
                learning.poller = ModelPoller(registry, holder, interval=opts.model_poll_seconds)
        return learning

    def record_errorevent(self, errorevent: dict[str, Any]) -> None:
        """Keep a classified ErrorEvent's text for training (never blocks or fails the pipeline)."""
        doc = errorevent_document(errorevent)
        if self.archive is not None:
            self.archive.add(doc)
        if self.store is not None:
            try:
                self.store.record_errorevent(doc)
            except StoreUnavailable as err:
                log.debug("ErrorEvent %s not stored (MongoDB unavailable): %s", doc.get("ref"), err)

    def start(self, pending: Callable[[], Iterable[dict[str, Any]]], flush: Callable[[dict[str, Any]], bool]) -> None:
        """Background retries: pending feedback (``pending()``: kopf's index of Remediations whose feedback is
        not recorded yet, so a pass costs no API call when there is none), archive batches, hourly expiry."""
        if self.poller is not None:
            self.poller.start()
        threading.Thread(target=self._loop, args=(pending, flush), name="learning", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self.poller is not None:
            self.poller.stop()
        if self.archive is not None:
            self.archive.flush()

    def _loop(self, pending: Callable[[], Iterable[dict[str, Any]]], flush: Callable[[dict[str, Any]], bool]) -> None:
        last_purge = 0.0
        self.refresh_corrections()  # at once: triage says "not consulted" until the store has been read
        while not self._stop.wait(self.opts.feedback_retry_seconds):
            try:
                self.run_pass(pending, flush)
                if self.store is not None and time.monotonic() - last_purge > 3600:
                    self.store.purge_expired()
                    last_purge = time.monotonic()
            except StoreUnavailable as err:
                log.info("learning loop: MongoDB unavailable, will retry: %s", err)
            except Exception:  # the loop must outlive any one failure
                log.exception("learning loop pass failed; retrying")

    def run_pass(
        self, pending: Callable[[], Iterable[dict[str, Any]]], flush: Callable[[dict[str, Any]], bool]
    ) -> None:
        if self.archive is not None:
            self.archive.flush_due()
        if self.flusher is None:
            return
        for rem in list(pending()):
            flush(rem)
        self.refresh_corrections()  # after flushing: this pass's judgments count at once

    def refresh_corrections(self) -> None:
        """Read the judgments stored since the last refresh; a store outage keeps the index as it was."""
        if self.store is None:
            return
        try:
            changed = self.corrections.refresh(self.store)
        except StoreUnavailable as err:
            log.info("corrections index not refreshed (MongoDB unavailable): %s", err)
            return
        if changed:
            log.info("corrections index: %d judgments new or changed, %d held", changed, len(self.corrections))
