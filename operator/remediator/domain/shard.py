"""Which replica set serves a namespace: shard i of n by a stable hash of the namespace's name (docs/sharding.md).

Every object the operator acts on for one incident (Pods, their owners, ErrorEvents, Remediations, the
namespace's RemediationPolicy) lives in one namespace, so sharding by namespace keeps an incident, and the
invariants read for it (one active Remediation per workload, namespace limits), inside one shard. The hash is
sha256, not Python's hash(): that one is salted per process, and every replica must agree."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_SHARD_SUFFIX = re.compile(r"-shard-\d+-of-\d+")


class ShardError(ValueError):
    """A shard index or count that cannot describe a shard; the message is one sentence saying what to set."""


def validate(index: int, count: int) -> None:
    if count < 1:
        raise ShardError(f"shard count must be at least 1 (got {count}): 1 is one shard serving every namespace")
    if not 0 <= index < count:
        raise ShardError(
            f"shard index must be between 0 and {count - 1} for {count} shard(s) (got {index}): "
            "shards are numbered from 0"
        )


def shard_of(namespace: str, count: int) -> int:
    """The shard of `namespace` among `count`: the first 8 bytes of sha256(name), big-endian, modulo count."""
    if count < 1:
        validate(0, count)
    digest = hashlib.sha256(namespace.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """This process's shard; Shard() is the whole cluster, as with no sharding at all."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        validate(self.index, self.count)

    @property
    def sharded(self) -> bool:
        return self.count > 1

    def owns(self, namespace: str) -> bool:
        return owns(namespace, self.index, self.count)

    def peering(self, base: str) -> str:
        """The kopf peering of this shard: replicas of one shard elect their acting replica among themselves.
        Unsharded it is `base` itself, so a single shard keeps today's peering object."""
        return f"{base}-shard-{self.index}-of-{self.count}" if self.sharded else base

    def finalizer(self, default: str) -> str:
        """kopf's finalizer for this shard. Shards must not share one: a shard that does not own an object
        removes the finalizer it finds but needs none for (kopf's rule), and the owner adds it back."""
        return f"{default}-shard-{self.index}-of-{self.count}" if self.sharded else default

    def describe(self) -> str:
        return f"shard {self.index} of {self.count}" if self.sharded else "unsharded"


def owns(namespace: str, index: int, count: int) -> bool:
    """Whether shard `index` of `count` serves `namespace` (every namespace with one shard)."""
    validate(index, count)
    return count == 1 or shard_of(namespace, count) == index


def stale_finalizers(finalizers: Iterable[str], default: str, own: Shard) -> list[str]:
    """kopf finalizers that this operator set under another shard layout (unsharded: `default`; shard i of n:
    `default-shard-i-of-n`) and that this one no longer uses: after resharding no running process removes them,
    so a Remediation carrying one would never finish deleting. Another controller's finalizer is never one."""
    mine = own.finalizer(default)
    return [
        f
        for f in finalizers
        if f != mine and (f == default or (f.startswith(default) and _SHARD_SUFFIX.fullmatch(f[len(default) :])))
    ]
