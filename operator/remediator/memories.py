"""kopf's per-object memories, keyed by a copy of the uid rather than the uid string of the decoded object.

kopf remembers every object it has seen (a ResourceMemory per uid, kept until the object is deleted) under the
uid string it finds in the object's decoded JSON. That one small string, alive for the object's lifetime, keeps
the memory blocks around it (the rest of the decoded object, freed long ago) from going back to the OS: Python's
allocator returns a block of memory only when every object in it is gone. The start-up listing decodes every
Pod of the cluster in one go, so a few dozen bytes kept per Pod held all of it: RSS grew by ~30 KB per Pod and
stayed there (bench/operator/memory.py). A copy is allocated after the listing, among kopf's other per-object
state, and lets the decoded objects' memory go.

kopf's ResourceMemories is not part of its public API (kopf.operator takes an instance, though): the unit test
pins the behaviour this relies on, so a kopf release that changes it fails the test rather than the memory.
"""

from __future__ import annotations

from kopf._cogs.structs import bodies
from kopf._core.reactor.inventory import ResourceMemories


class CompactMemories(ResourceMemories):
    def _build_key(self, raw_body: bodies.RawBody) -> str:
        uid = super()._build_key(raw_body)
        return uid.encode().decode()  # an equal string of its own, not the one inside the decoded object
