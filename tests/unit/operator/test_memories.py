from __future__ import annotations

import asyncio
import json

from remediator.memories import CompactMemories


def _listed(uid: str, name: str) -> dict[str, object]:
    return json.loads(json.dumps({"metadata": {"uid": uid, "name": name}, "spec": {"containers": []}}))


def test_an_object_is_remembered_under_a_uid_string_of_its_own() -> None:
    memories = CompactMemories()
    body = _listed("0c6e-uid", "web-1")
    asyncio.run(memories.recall(body, noticed_by_listing=True))
    (key,) = memories._items
    assert key == "0c6e-uid"
    assert key is not body["metadata"]["uid"]  # type: ignore[index]  # the decoded object can be freed whole


def test_the_same_object_finds_its_memory_again_and_loses_it_when_deleted() -> None:
    memories = CompactMemories()
    first = asyncio.run(memories.recall(_listed("0c6e-uid", "web-1"), noticed_by_listing=True))
    first.fully_handled_once = True
    again = asyncio.run(memories.recall(_listed("0c6e-uid", "web-1")))  # a later watch event: a new dict
    assert again is first and again.noticed_by_listing and again.fully_handled_once
    other = asyncio.run(memories.recall(_listed("77aa-uid", "web-2")))
    assert other is not first
    asyncio.run(memories.forget(_listed("0c6e-uid", "web-1")))
    assert list(memories._items) == ["77aa-uid"]


def test_the_operator_imports_neither_the_aws_sdk_nor_pymongo_until_configured_to_use_them() -> None:
    import subprocess
    import sys

    probe = "import sys, remediator.run, remediator.handlers; print(sorted({'boto3', 'pymongo'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"  # each costs RSS in every replica (bench/results/memory.json)
