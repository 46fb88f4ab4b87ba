"""ErrorEvents this process has just created are triaged at once, not after their watch event and a free kopf worker.

Intake hands each ErrorEvent it creates to `submit`; triage runs on a small pool of its own, with the reads of
the workload that `prepare` started before the create (they overlap the log tail's GET and the create). The ErrorEvent's
kopf handler stays the path for everything else (an ErrorEvent a user applies, one left untriaged by a restart
or by another replica) and, for one handed over, `take`s the result and writes it as it writes its own. Memory
is an optimisation only: whichever of the two paths comes first claims the ErrorEvent (by uid) and the other
does not triage it; should both ever run (a process that lost this memory), the decision lock and the fresh
history read make the second one find the first one's Remediation, and the Remediation's name is the
ErrorEvent's, so there is never a second one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from remediator.domain.types import WorkloadRef

log = logging.getLogger(__name__)
R = TypeVar("R")
P = TypeVar("P")
# A claim nobody took within this long is dropped (its ErrorEvent was deleted, or its event went to a standby).
CLAIM_SECONDS = 600.0
# Prefetched reads older than this are not used (the create took long: triage reads afresh).
PREFETCH_SECONDS = 5.0


class Handoff(Generic[R, P]):
    """`triage(errorevent, prefetched)`; `prefetch(workload)`: reads triage will need, started by `prepare` when
    intake is about to create an ErrorEvent (before its log tail is read), handed to that ErrorEvent's triage."""

    def __init__(
        self,
        triage: Callable[[dict[str, Any], P | None], R],
        prefetch: Callable[[WorkloadRef], P] | None = None,
        workers: int = 4,
    ) -> None:
        self._triage, self._prefetch = triage, prefetch
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="triage")
        # uid -> (when, the handed-over triage; None: the watch's handler came first and triages it itself)
        self._claims: dict[str, tuple[float, Future[R] | None]] = {}
        # (namespace, ErrorEvent name) -> (when, workload, its prefetched reads), until the create's answer
        self._prefetched: dict[tuple[str, str], tuple[float, WorkloadRef, P]] = {}
        self._lock = threading.Lock()

    def prepare(self, namespace: str, name: str, workload: WorkloadRef) -> None:
        """Intake is about to create the ErrorEvent `name` for `workload`: start triage's reads now."""
        if self._prefetch is None:
            return
        started = self._prefetch(workload)
        now = time.monotonic()
        with self._lock:
            if len(self._prefetched) > 100:  # creates that found the ErrorEvent there already
                self._prefetched = {k: v for k, v in self._prefetched.items() if now - v[0] < PREFETCH_SECONDS}
            self._prefetched[(namespace, name)] = (now, workload, started)

    def _prefetched_for(self, ee: Mapping[str, Any]) -> P | None:
        meta, target = ee.get("metadata") or {}, (ee.get("spec") or {}).get("target") or {}
        with self._lock:
            entry = self._prefetched.pop((str(meta.get("namespace", "")), str(meta.get("name", ""))), None)
        if entry is None or time.monotonic() - entry[0] > PREFETCH_SECONDS:
            return None
        workload = entry[1]
        return entry[2] if (workload.kind, workload.name) == (target.get("kind"), target.get("name")) else None

    @staticmethod
    def _uid(ee: Mapping[str, Any]) -> str:
        return str((ee.get("metadata") or {}).get("uid") or "")

    def submit(self, ee: dict[str, Any]) -> None:
        """Triage an ErrorEvent just created (the create's answer), unless its handler has claimed it already."""
        uid = self._uid(ee)
        if not uid:
            return
        prefetched = self._prefetched_for(ee)
        now = time.monotonic()
        with self._lock:
            if len(self._claims) > 1000:
                self._claims = {k: v for k, v in self._claims.items() if now - v[0] < CLAIM_SECONDS}
            if uid in self._claims:  # the watch was faster: its handler triages it
                del self._claims[uid]
                return
            self._claims[uid] = (now, self._pool.submit(self._triage, ee, prefetched))

    def take(self, ee: Mapping[str, Any]) -> R | None:
        """The handed-over triage's result (waiting for it; its error is raised here, so the handler retries,
        then with a triage of its own); None when nothing was handed over: the caller triages."""
        uid = self._uid(ee)
        if not uid:
            return None
        with self._lock:
            claim = self._claims.pop(uid, None)
            if claim is None:
                self._claims[uid] = (time.monotonic(), None)
                return None
        future = claim[1]
        return future.result() if future is not None else None

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
