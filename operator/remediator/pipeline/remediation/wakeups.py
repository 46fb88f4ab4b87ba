"""The one scheduler of waiting Remediations: a heap of wake-up times and one thread, instead of a timer (and a
GET) per Remediation every few seconds, so the idle cost does not grow with the number that wait.

Each Remediation has at most one live entry, due at the earlier of its next deadline (domain.waiting, read
from the status the watch delivered: expiry, end of the verification window, early success, a step's window)
and a poke (its workload changed, or a failed pass retries). When due, a small pool hands it to the
Reconciler, which re-reads it and moves it on. A deadline that has been reconciled is not fired again until
status names another (the pass that acts on it writes status, and the watch brings the new one here).

Nothing here is the only record: every deadline is in status, and kopf's listing at start-up tracks every
Remediation again, so a restarted operator still expires and verifies on time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from remediator.domain import waiting

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, name)
POKE_SECONDS = 0.5  # a burst of workload events (a rollout) becomes one pass
RETRY_SECONDS, RETRY_MAX_SECONDS = 5.0, 60.0  # a failed pass retries, backing off
ACTING_CHECK_SECONDS = 5.0
IDLE_WAIT_SECONDS = 30.0  # the thread re-reads the clock at least this often (a wall clock may jump)


@dataclass
class _Entry:
    uid: str | None
    phase: str | None = None
    deadlines: tuple[float, ...] = ()  # earliest first
    poked: float | None = None
    fired: float | None = None  # the latest deadline already reconciled
    firing: float | None = None  # the deadline the running pass was started for
    queued: float | None = None  # the time of this entry's live heap item
    running: bool = False
    again: bool = False  # poked while its pass ran
    failures: int = 0

    def deadline(self) -> float | None:
        """The earliest deadline not yet reconciled."""
        return next((d for d in self.deadlines if self.fired is None or d > self.fired), None)

    def due(self) -> float | None:
        return min((t for t in (self.poked, self.deadline()) if t is not None), default=None)


class Wakeups:
    def __init__(
        self,
        reconcile: Callable[[dict[str, Any]], object],
        *,
        workers: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reconcile, self._clock = reconcile, clock
        self._workers = workers
        self._entries: dict[Key, _Entry] = {}
        self._heap: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._acting: Callable[[], bool] = lambda: True
        self._acting_at, self._is_acting = -1e18, False
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # -- fed by the watch -----------------------------------------------------------------------------------
    def track(self, rem: Mapping[str, Any], *, gone: bool = False) -> None:
        """A watch event of a Remediation: (re)schedule it at the deadline its status names; forget it once it
        is final or deleted."""
        meta = rem.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        wakes = () if gone else tuple(w.timestamp() for w in waiting.wake_times(rem))
        with self._cond:
            if not wakes:
                self._entries.pop(key, None)
                return
            entry = self._entries.get(key)
            if entry is None or entry.uid != meta.get("uid"):
                entry = self._entries[key] = _Entry(meta.get("uid"))
            phase = (rem.get("status") or {}).get("phase")
            if phase != entry.phase:  # a new phase, new deadlines: none of them was reconciled yet
                entry.phase, entry.fired = phase, None
            entry.deadlines = wakes
            self._push(key, entry)

    def poke(self, key: Key, delay: float = POKE_SECONDS) -> None:
        """Something the Remediation waits for changed: reconcile it soon (pokes within `delay` coalesce)."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is None:
                return
            if entry.running:
                entry.again = True
                return
            when = self._clock() + delay
            if entry.poked is None or when < entry.poked:
                entry.poked = when
                self._push(key, entry)

    def __len__(self) -> int:
        with self._cond:
            return len(self._entries)

    # -- the scheduler's own steps (the thread runs them; tests call them with their own clock) -------------
    def take_due(self, now: float) -> list[tuple[Key, dict[str, Any]]]:
        """Entries due by `now`, marked running, as (key, the body the Reconciler re-reads from)."""
        out: list[tuple[Key, dict[str, Any]]] = []
        with self._cond:
            while self._heap and self._heap[0][0] <= now:
                when, _, key = heapq.heappop(self._heap)
                entry = self._entries.get(key)
                if entry is None or entry.running or entry.queued != when:
                    continue  # a stale item: the entry was rescheduled or forgotten since
                entry.queued, entry.poked, entry.running = None, None, True
                # The pass judges every deadline reached by now, so all of them are done with after it.
                reached = [d for d in entry.deadlines if d <= now and (entry.fired is None or d > entry.fired)]
                entry.firing = max(reached, default=None)
                body = {"metadata": {"namespace": key[0], "name": key[1], "uid": entry.uid}}
                out.append((key, body))
        return out

    def finished(self, key: Key, now: float, *, ok: bool = True, skipped: bool = False) -> None:
        """A pass ended: the deadline it was started for is done with. A failed pass is retried with backoff,
        and one skipped (this replica does not act) is tried again later; each such retry is a full pass,
        which judges the deadline from status again."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is None:
                return
            entry.running = False
            if entry.firing is not None:
                entry.fired = entry.firing
            if skipped:
                entry.poked = now + ACTING_CHECK_SECONDS
            elif not ok:
                entry.failures += 1
                entry.poked = now + min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** (entry.failures - 1))
            else:
                entry.failures = 0
                if entry.again:
                    entry.poked = now + POKE_SECONDS
            entry.firing, entry.again = None, False
            self._push(key, entry)

    def _push(self, key: Key, entry: _Entry) -> None:
        due = entry.due()
        if entry.running or due is None or due == entry.queued:
            return
        entry.queued = due
        heapq.heappush(self._heap, (due, next(self._seq), key))
        if len(self._heap) > 2 * len(self._entries) + 64:  # drop stale items left by rescheduling
            self._heap = [item for item in self._heap if (e := self._entries.get(item[2])) and e.queued == item[0]]
            heapq.heapify(self._heap)
        self._cond.notify()

    # -- the thread --------------------------------------------------------------------------------------------
    def start(self, acting: Callable[[], bool] | None = None) -> None:
        """`acting`: whether this replica acts (kopf peering); a standby's entries wait, its deadlines kept."""
        if acting is not None:
            self._acting = acting
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="wakeup")
        self._thread = threading.Thread(target=self._loop, name="wakeups", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            with self._cond:  # taken and waited on under one lock, so no push slips in between unnoticed
                now = self._clock()
                due = self.take_due(now)
                if not due:
                    wait = self._heap[0][0] - now if self._heap else IDLE_WAIT_SECONDS
                    self._cond.wait(timeout=max(0.0, min(wait, IDLE_WAIT_SECONDS)))
                    continue
            acting = self._acting_now()
            for key, body in due:
                if not acting:
                    self.finished(key, self._clock(), skipped=True)
                elif self._pool is not None:
                    self._pool.submit(self._run, key, body)

    def _acting_now(self) -> bool:
        if time.monotonic() - self._acting_at >= ACTING_CHECK_SECONDS:
            try:
                self._is_acting = self._acting()
            except Exception as err:  # unknown is not acting: the acting replica has the same deadlines
                log.debug("cannot tell whether this replica acts: %s", err)
                self._is_acting = False
            self._acting_at = time.monotonic()
        return self._is_acting

    def _run(self, key: Key, body: dict[str, Any]) -> None:
        ok = True
        try:
            self._reconcile(body)
        except Exception as err:  # the Reconciler raises only what a retry may cure (typed_retries' transient)
            log.warning("remediation %s/%s: woken pass failed, retrying: %s", *key, err)
            ok = False
        self.finished(key, self._clock(), ok=ok)
