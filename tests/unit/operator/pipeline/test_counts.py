"""ErrorEvent counts: one patch per incident per flush, exact under conflicts, nothing lost on failure or stop."""

from __future__ import annotations

import threading
from typing import Any

from remediator import api
from remediator.adapters.kubeapi import ApiException
from remediator.domain.cluster_facts import errorevent_entry
from remediator.pipeline.cluster_view import Caches, ClusterView
from remediator.pipeline.counts import Counts
from tests.unit.operator.pipeline.fake_kube import FakeKube

NS = "shop"


def _errorevent(kube: FakeKube, name: str = "deployment-web-crash-1234", count: int = 1) -> dict[str, Any]:
    obj = {
        "metadata": {"name": name, "namespace": NS, "uid": f"u-{name}", "resourceVersion": "1"},
        "spec": {"count": count, "lastSeen": "2026-01-01T00:00:00Z"},
    }
    return kube.put_cr(api.ERROREVENTS, obj)


def _count(kube: FakeKube, name: str = "deployment-web-crash-1234") -> int:
    return int(kube.objects[(api.ERROREVENTS, NS, name)]["spec"]["count"])


def _setup(cached: bool = True) -> tuple[FakeKube, dict[Any, list[Any]], Counts]:
    kube = FakeKube()
    obj = _errorevent(kube)
    index: dict[Any, list[Any]] = {(NS, obj["metadata"]["name"]): [errorevent_entry(obj)]} if cached else {}
    view = ClusterView(kube, Caches(errorevents=index))  # type: ignore[arg-type]
    return kube, index, Counts(kube, view)  # type: ignore[arg-type]


def test_many_increments_between_flushes_are_one_patch() -> None:
    kube, _, counts = _setup()
    for _ in range(9):
        counts.add(NS, "deployment-web-crash-1234")
    assert counts.flush() == 1
    assert _count(kube) == 10
    assert kube.requests["patch"] == 1 and kube.requests["get_cr"] == 0  # the version came from the cache
    assert counts.flush() == 0  # nothing pending, nothing sent


def test_a_conflict_rereads_and_reapplies_the_same_delta() -> None:
    kube, _, counts = _setup()
    others = {"n": 0}

    def another_writer(plural: str, ns: str, name: str) -> None:  # someone counts at the same moment, 3 times
        if others["n"] < 3:
            others["n"] += 1
            obj = kube.objects[(plural, ns, name)]
            obj["spec"]["count"] += 1
            obj["metadata"]["resourceVersion"] = f"other-{others['n']}"

    kube.before_patch = another_writer
    for _ in range(5):
        counts.add(NS, "deployment-web-crash-1234")
    counts.flush()
    assert _count(kube) == 1 + 3 + 5  # theirs and ours: not one lost
    assert kube.requests["patch"] == 4 and kube.requests["get_cr"] == 3


def test_concurrent_increments_during_conflicting_flushes_are_exact() -> None:
    kube, _, counts = _setup()
    flips = {"n": 0}

    def sometimes(plural: str, ns: str, name: str) -> None:  # every other patch finds the object changed
        flips["n"] += 1
        if flips["n"] % 2:
            obj = kube.objects[(plural, ns, name)]
            obj["metadata"]["resourceVersion"] = f"status-write-{flips['n']}"

    kube.before_patch = sometimes
    threads = [
        threading.Thread(target=lambda: [counts.add(NS, "deployment-web-crash-1234") for _ in range(250)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        counts.flush()
    for t in threads:
        t.join()
    counts.flush()
    assert _count(kube) == 1 + 1000


def test_the_cache_a_step_behind_our_own_patch_costs_no_conflict() -> None:
    kube, _, counts = _setup()
    counts.add(NS, "deployment-web-crash-1234")
    counts.flush()
    # the watch has not delivered our patch yet: the index still holds the version we patched from
    counts.add(NS, "deployment-web-crash-1234", 2)
    counts.flush()
    assert _count(kube) == 4 and kube.requests["patch"] == 2 and kube.requests["get_cr"] == 0


def test_an_errorevent_the_cache_does_not_know_is_read_once() -> None:
    kube, _, counts = _setup(cached=False)
    counts.add(NS, "deployment-web-crash-1234", 3)
    counts.flush()
    assert _count(kube) == 4 and kube.requests["get_cr"] == 1


def test_increments_survive_an_api_server_error_and_are_sent_on_stop() -> None:
    kube, _, counts = _setup()
    failing = {"on": True}

    def down(plural: str, ns: str, name: str) -> None:
        if failing["on"]:
            raise ApiException(status=503, reason="Service Unavailable")

    kube.before_patch = down
    counts.add(NS, "deployment-web-crash-1234", 4)
    counts.flush()
    assert _count(kube) == 1 and counts.pending(NS, "deployment-web-crash-1234") == 4
    counts.add(NS, "deployment-web-crash-1234")
    failing["on"] = False
    counts.stop()  # shutdown writes what is pending
    assert _count(kube) == 6 and counts.pending(NS, "deployment-web-crash-1234") == 0


def test_a_deleted_errorevent_drops_its_increments_without_error() -> None:
    kube, _, counts = _setup(cached=False)
    del kube.objects[(api.ERROREVENTS, NS, "deployment-web-crash-1234")]
    counts.add(NS, "deployment-web-crash-1234", 2)
    assert counts.flush() == 0
    assert counts.pending(NS, "deployment-web-crash-1234") == 0


def test_the_count_never_passes_the_crds_maximum() -> None:
    kube, _, counts = _setup(cached=False)
    kube.objects[(api.ERROREVENTS, NS, "deployment-web-crash-1234")]["spec"]["count"] = 999_999
    counts.add(NS, "deployment-web-crash-1234", 5)
    counts.flush()
    assert _count(kube) == 1_000_000
