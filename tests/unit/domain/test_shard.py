"""Shard of a namespace: stable across processes and versions, spread evenly, and refused when it cannot exist."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from remediator.domain.shard import Shard, ShardError, owns, shard_of, stale_finalizers, validate

# The first 16 hex digits of sha256(name), from `printf %s NAME | sha256sum` (coreutils, not this module).
DIGESTS = {
    "default": 0x37A8EEC1CE19687D,
    "kube-system": 0x88007F70666DBD81,
    "shop": 0x8D9001D32C6A703D,
    "payments": 0xDF384AE97C77AD30,
    "team-a": 0x96C2886C51D1DFB4,
}


def test_a_namespace_shard_is_the_first_eight_bytes_of_its_sha256_modulo_n() -> None:
    # Written out by hand from DIGESTS, so a change of hash, byte order or width fails here.
    expected = {
        ("default", 2): 1,
        ("default", 3): 1,
        ("default", 7): 4,
        ("kube-system", 7): 1,
        ("shop", 7): 2,
        ("payments", 2): 0,
        ("payments", 7): 1,
        ("team-a", 2): 0,
        ("team-a", 7): 3,
    }
    for (name, n), shard in expected.items():
        assert DIGESTS[name] % n == shard  # the table agrees with the digest
        assert shard_of(name, n) == shard, (name, n)


def test_the_shard_does_not_depend_on_the_process() -> None:
    # Python's hash() of a str is salted per process: a second interpreter with another seed must agree.
    code = "from remediator.domain.shard import shard_of; print([shard_of(n, 5) for n in ('a', 'shop', 'kube-system')])"
    out = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": seed, **_pythonpath()}, capture_output=True, text=True
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert out == {str([shard_of(n, 5) for n in ("a", "shop", "kube-system")])}


def _pythonpath() -> dict[str, str]:
    import os

    return {"PYTHONPATH": os.pathsep.join(sys.path)}


def test_ten_thousand_namespaces_spread_evenly_over_the_shards() -> None:
    for n in (2, 3, 8):
        counts = Counter(shard_of(f"team-{i}", n) for i in range(10_000))
        assert set(counts) == set(range(n))
        expected = 10_000 / n
        # within 5% of an even share (binomial sd for n=8 is ~1%, so this fails only if the spread is wrong)
        assert all(abs(c - expected) < 0.05 * expected for c in counts.values()), counts


def test_exactly_one_shard_owns_each_namespace() -> None:
    for name in ("default", "shop", "x", "a-very-long-namespace-name-" + "z" * 30):
        for n in (1, 2, 5):
            assert [i for i in range(n) if owns(name, i, n)] == [shard_of(name, n)]


def test_one_shard_owns_everything() -> None:
    assert all(owns(f"ns-{i}", 0, 1) for i in range(100))
    assert Shard().owns("anything") and not Shard().sharded


@pytest.mark.parametrize(
    ("index", "count", "says"),
    [(0, 0, "count must be at least 1"), (2, 2, "between 0 and 1"), (-1, 3, "between 0 and 2"), (0, -4, "at least 1")],
)
def test_an_impossible_shard_is_refused_with_what_to_set(index: int, count: int, says: str) -> None:
    with pytest.raises(ShardError, match=says):
        validate(index, count)
    with pytest.raises(ShardError):
        Shard(index, count)
    with pytest.raises(ShardError):
        owns("shop", index, count)


def test_each_shard_has_its_own_peering_and_finalizer_and_one_shard_keeps_todays() -> None:
    assert Shard().peering("kube-remediator") == "kube-remediator"
    assert Shard().finalizer("kopf.zalando.org/KopfFinalizerMarker") == "kopf.zalando.org/KopfFinalizerMarker"
    names = {Shard(i, 3).peering("kube-remediator") for i in range(3)}
    assert names == {f"kube-remediator-shard-{i}-of-3" for i in range(3)}
    finalizers = {Shard(i, 3).finalizer("kopf.zalando.org/KopfFinalizerMarker") for i in range(3)}
    assert len(finalizers) == 3
    assert Shard(1, 2).finalizer("kopf.zalando.org/KopfFinalizerMarker") == (
        "kopf.zalando.org/KopfFinalizerMarker-shard-1-of-2"
    )


KOPF = "kopf.zalando.org/KopfFinalizerMarker"


def test_finalizers_of_another_shard_layout_are_stale_and_nobody_elses_are() -> None:
    on_object = [
        KOPF,  # unsharded, before
        f"{KOPF}-shard-1-of-3",  # another layout
        f"{KOPF}-shard-0-of-2",  # this shard's own
        "example.com/keep",  # another controller's
        "foregroundDeletion",
        f"{KOPF}-shard-x-of-2",  # not a name this operator makes
        f"{KOPF}Other",
    ]
    assert stale_finalizers(on_object, KOPF, Shard(0, 2)) == [KOPF, f"{KOPF}-shard-1-of-3"]
    # unsharded, every shard's name is stale and kopf's default is its own
    assert stale_finalizers(on_object, KOPF, Shard()) == [f"{KOPF}-shard-1-of-3", f"{KOPF}-shard-0-of-2"]
    assert stale_finalizers(["example.com/keep"], KOPF, Shard(1, 2)) == []
