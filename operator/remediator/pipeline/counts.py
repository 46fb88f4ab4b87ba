"""ErrorEvent counts, coalesced: one patch per incident per interval, however many Pods report it meanwhile.

A storm of a thousand failing Pods over a hundred Deployments used to send a GET and a PATCH per Pod, and
lost increments when two patches raced (a conflict was dropped). Here the increments of an interval add up
in memory and go out as one patch, preconditioned on the resourceVersion it was computed from; a conflict
re-reads the object and re-applies the same delta, so the count is exact. Increments wait at most one
interval in memory and are flushed on shutdown; a killed process loses at most that interval's (the count is
a measure of how often, not state anything depends on).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from remediator import api
from remediator.adapters.kube import Kube
from remediator.adapters.kubeapi import ApiException
from remediator.domain import clock
from remediator.domain.cluster_facts import ErrorEventEntry, errorevent_entry
from remediator.pipeline.cluster_view import ClusterView

log = logging.getLogger(__name__)
MAX_COUNT = 1_000_000  # the CRD's maximum
Key = tuple[str, str]  # (namespace, name)


@dataclass
class _Pending:
    delta: int
    last_seen: dt.datetime


class Counts:
    def __init__(self, kube: Kube, view: ClusterView, interval: float = 1.0, attempts: int = 5) -> None:
        self.kube, self.view, self.interval, self.attempts = kube, view, interval, attempts
        self._pending: dict[Key, _Pending] = {}
        # What our own last patch left, by the resourceVersion it was made on: the watch brings the new
        # version a moment later, and until then the cache's entry is the one our patch replaced.
        self._written: dict[Key, tuple[str, ErrorEventEntry]] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, namespace: str, name: str, n: int = 1, seen: dt.datetime | None = None) -> None:
        seen = seen or clock.now()
        with self._lock:
            pending = self._pending.get((namespace, name))
            if pending is None:
                self._pending[(namespace, name)] = _Pending(n, seen)
            else:
                pending.delta += n
                pending.last_seen = max(pending.last_seen, seen)

    def pending(self, namespace: str, name: str) -> int:
        with self._lock:
            p = self._pending.get((namespace, name))
            return p.delta if p else 0

    def flush(self) -> int:
        """Send every pending increment; returns the number of patches sent. What fails stays pending."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, {}
            sent = 0
            for key, pending in batch.items():
                try:
                    sent += self._apply(key, pending)
                except Exception as err:  # the API server away: keep the increments for the next flush
                    log.warning("count of ErrorEvent %s/%s not written yet (%s): kept for the next flush", *key, err)
                    with self._lock:
                        later = self._pending.get(key)
                        if later is None:
                            self._pending[key] = pending
                        else:
                            later.delta += pending.delta
                            later.last_seen = max(later.last_seen, pending.last_seen)
            return sent

    def _current(self, key: Key) -> ErrorEventEntry | None:
        cached = self.view.errorevent(*key)
        written = self._written.get(key)
        if written is not None:
            before, after = written
            if cached is None or cached.resource_version == before:
                return after
            del self._written[key]  # the watch caught up (or someone else wrote since): trust the cache
        return cached

    def _apply(self, key: Key, pending: _Pending) -> int:
        ns, name = key
        entry = self._current(key)
        for _ in range(self.attempts):
            if entry is None:
                entry = self.view.read_errorevent(ns, name)
                if entry is None:  # deleted: the next failure creates it anew, with its own count
                    log.info("ErrorEvent %s/%s is gone; %d occurrences not counted", ns, name, pending.delta)
                    self._written.pop(key, None)
                    return 0
            body = {
                "metadata": {"resourceVersion": entry.resource_version},
                "spec": {
                    "count": min(entry.count + pending.delta, MAX_COUNT),
                    "lastSeen": clock.format_time(max(pending.last_seen, entry.last_seen or pending.last_seen)),
                },
            }
            try:
                result = self.kube.patch_cr(api.ERROREVENTS, ns, name, body, expect_conflict=True)
            except ApiException as err:
                if err.status == 409:  # changed since that version (kopf's status write, another count): re-read
                    entry = self.view.read_errorevent(ns, name, miss=False)
                    continue
                if err.status == 404:
                    entry = None
                    continue
                raise
            if len(self._written) > 10_000:  # an optimisation only: without it a stale cache costs a conflict
                self._written.clear()
            self._written[key] = (entry.resource_version, errorevent_entry(result))
            return 1
        raise RuntimeError(f"still conflicting after {self.attempts} attempts")

    # -- the flusher ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="errorevent-counts", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def stop(self) -> None:
        """Stop the flusher and send what is pending (on shutdown: no increment waits in memory forever)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 5)
            self._thread = None
        self.flush()
