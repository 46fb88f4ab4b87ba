"""ErrorEvents this process has just created are triaged at once, not after their watch event and a free kopf worker.

Intake hands each ErrorEvent it creates to `submit`; triage runs on a small pool of its own. The ErrorEvent's
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

log = logging.getLogger(__name__)
R = TypeVar("R")
# A claim nobody took within this long is dropped (its ErrorEvent was deleted, or its event went to a standby).
CLAIM_SECONDS = 600.0


class Handoff(Generic[R]):
    def __init__(self, triage: Callable[[dict[str, Any]], R], workers: int = 4) -> None:
        self._triage = triage
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="triage")
        # uid -> (when, the handed-over triage; None: the watch's handler came first and triages it itself)
        self._claims: dict[str, tuple[float, Future[R] | None]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _uid(ee: Mapping[str, Any]) -> str:
        return str((ee.get("metadata") or {}).get("uid") or "")

    def submit(self, ee: dict[str, Any]) -> None:
        """Triage an ErrorEvent just created (the create's answer), unless its handler has claimed it already."""
        uid = self._uid(ee)
        if not uid:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._claims) > 1000:
                self._claims = {k: v for k, v in self._claims.items() if now - v[0] < CLAIM_SECONDS}
            if uid in self._claims:  # the watch was faster: its handler triages it
                del self._claims[uid]
                return
            self._claims[uid] = (now, self._pool.submit(self._triage, ee))

    def take(self, ee: Mapping[str, Any]) -> R | None:
        """The handed-over triage's result (waiting for it; its error is raised here, so the handler retries,
        then with a triage of its own); None when nothing was handed over, or it has not started yet (then it
        is called off): the caller triages, so a kopf worker never waits for a queue."""
        uid = self._uid(ee)
        if not uid:
            return None
        with self._lock:
            claim = self._claims.pop(uid, None)
            if claim is None:
                self._claims[uid] = (time.monotonic(), None)
                return None
        future = claim[1]
        if future is None or future.cancel():  # still queued (a burst): the handler's own thread triages it now
            return None
        return future.result()

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
