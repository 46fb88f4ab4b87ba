"""The HTTP API's TokenReview cache and per-caller token bucket (remediator.web.auth), on a fake clock."""

from __future__ import annotations

from remediator.adapters.apiserver import Identity
from remediator.web.auth import RateLimiter, TokenCache


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_cache_remembers_for_ttl_then_forgets() -> None:
    clock = Clock()
    cache = TokenCache(ttl=10, limit=100, clock=clock)
    alice = Identity("alice", groups=("system:authenticated",))
    assert cache.get("tok") == (False, None)
    cache.put("tok", alice)
    cache.put("bad", None)  # a refused token is remembered as refused
    assert cache.get("tok") == (True, alice)
    assert cache.get("bad") == (True, None)
    clock.t += 10.5
    assert cache.get("tok") == (False, None)


def test_token_cache_is_bounded_and_keeps_no_token() -> None:
    cache = TokenCache(ttl=60, limit=3, clock=Clock())
    for i in range(10):
        cache.put(f"token-{i}", Identity(f"u{i}"))
    assert len(cache) == 3
    assert cache.get("token-0") == (False, None) and cache.get("token-9")[0]
    assert all("token-" not in k for k in cache._entries)  # only hashes


def test_ttl_zero_disables_the_cache() -> None:
    cache = TokenCache(ttl=0)
    cache.put("tok", Identity("alice"))
    assert cache.get("tok") == (False, None)


def test_token_bucket_bursts_refills_and_is_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.allow("alice")[0] for _ in range(4)] == [True, True, True, False]
    allowed, wait = limiter.allow("alice")
    assert not allowed and 0 < wait <= 0.5
    assert limiter.allow("bob")[0]
    clock.t += 0.5  # one token back
    assert limiter.allow("alice")[0] and not limiter.allow("alice")[0]
    clock.t += 100  # never more than the burst
    assert [limiter.allow("alice")[0] for _ in range(4)] == [True, True, True, False]


def test_token_bucket_forgets_the_oldest_keys_beyond_its_bound() -> None:
    limiter = RateLimiter(rate=1, burst=1, limit=2, clock=Clock())
    for key in ("a", "b", "c"):
        assert limiter.allow(key)[0]
    assert len(limiter._buckets) == 2
    assert limiter.allow("a")[0]  # forgotten, so full again: forgetting never refuses anyone


def test_rate_zero_is_unlimited() -> None:
    limiter = RateLimiter(rate=0, burst=1)
    assert all(limiter.allow("x")[0] for _ in range(100))
