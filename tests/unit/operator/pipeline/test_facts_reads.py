"""facts.facts_and_history: a decision's reads are in flight together (two rounds: what needs only the workload's
name, then what needs its selector or uid), and the answers are the ones the reads gave."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from remediator.domain.types import WorkloadRef
from remediator.pipeline.facts import facts_and_history
from tests.unit.operator.pipeline.fake_kube import FakeKube

NS = "shop"
REF = WorkloadRef("Deployment", "web", NS)


def deployment() -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"readyReplicas": 1},
    }


class NotCached:
    """Caches that know the namespace (not opted out) and nothing else: every other read goes out."""

    def namespace_opted_out(self, namespace: str) -> bool:
        return False

    def selector(self, ref: WorkloadRef) -> None:
        return None

    def replicasets_of(self, ref: WorkloadRef) -> None:
        return None

    def has_hpa(self, ref: WorkloadRef) -> None:
        return None


class RendezvousKube(FakeKube):
    """Each read of a round waits until every read of its round has started: reads sent one after the other
    never meet, and the barrier breaks (its timeout) instead of the test hanging."""

    def __init__(self) -> None:
        super().__init__()
        # round 1: the workload GET, the HPA list, the namespace's Remediations (history)
        self.first = threading.Barrier(3, timeout=5)
        # round 2: the Pods and the ReplicaSets of the workload the GET returned
        self.second = threading.Barrier(2, timeout=5)
        self.hpa = True

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        self.first.wait()
        return super().get(ref)

    def has_hpa(self, ref: WorkloadRef) -> bool:
        self.first.wait()
        return self.hpa

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        if plural == "remediations":
            self.first.wait()
        return super().list_cr(plural, namespace, label_selector)

    def pods_of(self, workload: dict[str, Any]) -> list[dict[str, Any]]:
        assert workload["spec"]["selector"] == {"matchLabels": {"app": "web"}}  # the GET's answer
        self.second.wait()
        return super().pods_of(workload)

    def replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        self.second.wait()
        return []

    def pod_usage(self, workload: dict[str, Any]) -> None:
        raise AssertionError("no replica is ready: its usage could not change the decision")


def test_a_decisions_reads_are_sent_together_and_their_answers_kept() -> None:
    kube = RendezvousKube()
    kube.add(deployment())
    kube.pods = [{"metadata": {"name": "web-1", "namespace": NS, "labels": {"app": "web"}}, "status": {}}]
    kube.objects[("remediations", NS, "earlier")] = {
        "metadata": {"name": "earlier", "namespace": NS},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "restart_pod"},
        "status": {"phase": "Proposed"},
    }

    facts, obj, history = facts_and_history(kube, REF, NotCached())

    assert obj is not None and obj["metadata"]["name"] == "web"
    assert (facts.exists, facts.replicas, facts.ready_replicas, facts.pod_count, facts.has_hpa) == (True, 2, 1, 1, True)
    assert history.active_for_workload  # the fresh LIST's Remediation, not a cached one


def test_a_missing_workload_is_reported_and_its_history_still_read() -> None:
    kube = FakeKube()
    kube.objects[("remediations", NS, "earlier")] = {
        "metadata": {"name": "earlier", "namespace": NS},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "restart_pod"},
        "status": {"phase": "Proposed"},
    }
    facts, obj, history = facts_and_history(kube, REF)
    assert (facts.exists, obj) == (False, None)
    assert history.active_for_workload


def test_a_failing_read_fails_the_decision() -> None:
    class Broken(FakeKube):
        def pods_of(self, workload: dict[str, Any]) -> list[dict[str, Any]]:
            raise OSError("connection reset")

    kube = Broken()
    kube.add(deployment())
    with pytest.raises(OSError):
        facts_and_history(kube, REF, NotCached())


class Cached(NotCached):
    """Caches that know the workload's selector, its ReplicaSets and its HPA (as the watch's indexes do)."""

    def __init__(self, selector: dict[str, str], replicasets: list[dict[str, Any]], hpa: bool) -> None:
        self._selector, self._replicasets, self._hpa = selector, replicasets, hpa

    def selector(self, ref: WorkloadRef) -> dict[str, str]:  # type: ignore[override]
        return self._selector

    def replicasets_of(self, ref: WorkloadRef) -> list[dict[str, Any]]:  # type: ignore[override]
        return self._replicasets

    def has_hpa(self, ref: WorkloadRef) -> bool:  # type: ignore[override]
        return self._hpa


class OneRoundKube(FakeKube):
    """The workload GET, its Pods and the namespace's Remediations each wait for all three: they meet only when
    sent together. The ReplicaSets and HPAs must not be read at all; the usage only once a replica is ready."""

    def __init__(self) -> None:
        super().__init__()
        self.round = threading.Barrier(3, timeout=5)
        self.selectors: list[dict[str, Any]] = []
        self.usages = 0

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        self.round.wait()
        return super().get(ref)

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        self.round.wait()
        return super().list_cr(plural, namespace, label_selector)

    def pods_of(self, workload: dict[str, Any]) -> list[dict[str, Any]]:
        self.selectors.append(workload["spec"]["selector"])
        if len(self.selectors) == 1:
            self.round.wait()
        return super().pods_of(workload)

    def pod_usage(self, workload: dict[str, Any]) -> dict[str, Any]:
        self.usages += 1
        return {"web-1": {"app": (950, 10 * 2**20)}}

    def replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        raise AssertionError("the ReplicaSets are the cache's")

    def has_hpa(self, ref: WorkloadRef) -> bool:
        raise AssertionError("the HPAs are the cache's")


def _replicaset(revision: int, hash_: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{hash_}",
            "creationTimestamp": created,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "labels": {"pod-template-hash": hash_},
        }
    }


def test_with_the_caches_a_decision_reads_in_one_round_and_uses_their_replicasets_and_hpas() -> None:
    kube = OneRoundKube()
    kube.add(deployment())
    kube.pods = [{"metadata": {"name": "web-1", "namespace": NS, "labels": {"app": "web", "pod-template-hash": "b"}},
                  "status": {}}]  # fmt: skip
    cached = Cached({"app": "web"}, [_replicaset(1, "a", "2024-04-01T08:00:00Z"),
                                     _replicaset(2, "b", "2024-04-02T08:00:00Z")], hpa=True)  # fmt: skip

    facts, obj, _ = facts_and_history(kube, REF, cached)

    assert obj is not None and facts.exists and facts.has_hpa and facts.pod_count == 1
    assert facts.rollout is not None and facts.rollout.revision == 2 and facts.rollout.previous_revision == 1
    assert facts.rollout.failing_on_newest
    assert kube.selectors == [{"matchLabels": {"app": "web"}}]  # listed once, with the GET
    assert kube.usages == 0 and facts.saturation is None  # no replica ready: usage is not asked for


def test_with_a_ready_replica_its_usage_is_read_after_the_pods() -> None:
    kube = OneRoundKube()
    kube.add(deployment())
    kube.pods = [{"metadata": {"name": "web-1", "namespace": NS, "labels": {"app": "web"}},
                  "spec": {"containers": [{"name": "app", "resources": {"limits": {"cpu": "1"}}}]},
                  "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]  # fmt: skip
    facts, _, _ = facts_and_history(kube, REF, Cached({"app": "web"}, [], hpa=False))
    assert kube.usages == 1
    assert facts.saturation is not None and (facts.saturation.ready, facts.saturation.saturated) == (1, 1)


def test_a_selector_the_workload_no_longer_has_lists_its_pods_again() -> None:
    """The cache's selector is of an older object of that name (deleted and made anew): the Pods are the GET's."""
    kube = OneRoundKube()
    kube.add(deployment())
    cached = Cached({"app": "old-web"}, [], hpa=False)
    facts, _, _ = facts_and_history(kube, REF, cached)
    assert facts.exists and not facts.has_hpa
    assert kube.selectors == [{"matchLabels": {"app": "old-web"}}, {"matchLabels": {"app": "web"}}]
