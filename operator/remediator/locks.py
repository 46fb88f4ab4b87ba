"""One lock per key (a workload, a Remediation), so passes over one object run one at a time.

Peering (or leader election) makes one process the only one acting, so in-process locks suffice. Keys are
pruned by the caller when their object disappears.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def __call__(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def forget(self, key: Hashable) -> None:
        with self._guard:
            self._locks.pop(key, None)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)
