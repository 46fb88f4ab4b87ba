"""Who calls, and how often: a bounded TokenReview cache and a per-user token bucket.

Tokens are never stored: the cache is keyed by the SHA-256 of the token. An entry lives `ttl` seconds (a
revoked token keeps working at most that long; a rejected one is remembered for the same time, so a flood of
one bad token costs one TokenReview per ttl). The cache holds at most `limit` entries; when full, the oldest
go first.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from remediator.adapters.apiserver import Identity


class TokenCache:
    def __init__(self, ttl: float = 10.0, limit: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.limit, self._clock = ttl, limit, clock
        self._entries: OrderedDict[str, tuple[float, Identity | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> tuple[bool, Identity | None]:
        """(found, identity); identity None for a token the API server refused."""
        if self.ttl <= 0:
            return False, None
        k, now = self.key(token), self._clock()
        with self._lock:
            entry = self._entries.get(k)
            if entry is None:
                return False, None
            if now - entry[0] > self.ttl:
                del self._entries[k]
                return False, None
            return True, entry[1]

    def put(self, token: str, identity: Identity | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[self.key(token)] = (self._clock(), identity)
            self._entries.move_to_end(self.key(token))
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class RateLimiter:
    """A token bucket per key (the authenticated user name): `rate` requests a second, bursts of `burst`."""

    def __init__(
        self, rate: float = 20.0, burst: int = 40, limit: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.limit, self._clock = rate, burst, limit, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """(allowed, seconds until the next token when refused)."""
        if self.rate <= 0:
            return True, 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.limit:  # forgetting a bucket only ever refills it
                self._buckets.popitem(last=False)
            return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate
