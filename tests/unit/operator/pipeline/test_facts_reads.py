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


class RendezvousKube(FakeKube):
    """Each read of a round waits until every read of its round has started: reads sent one after the other
    never meet, and the barrier breaks (its timeout) instead of the test hanging."""

    def __init__(self) -> None:
        super().__init__()
        # round 1: the workload GET, the HPA list, the namespace's Remediations (history)
        self.first = threading.Barrier(3, timeout=5)
        # round 2: the Pods, the ReplicaSets and the usage of the workload the GET returned
        self.second = threading.Barrier(3, timeout=5)
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
        self.second.wait()
        return None


def test_a_decisions_reads_are_sent_together_and_their_answers_kept() -> None:
    kube = RendezvousKube()
    kube.add(deployment())
    kube.pods = [{"metadata": {"name": "web-1", "namespace": NS, "labels": {"app": "web"}}, "status": {}}]
    kube.objects[("remediations", NS, "earlier")] = {
        "metadata": {"name": "earlier", "namespace": NS},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "restart_pod"},
        "status": {"phase": "Proposed"},
    }

    facts, obj, history = facts_and_history(kube, REF, lambda ns: False)

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
        facts_and_history(kube, REF, lambda ns: False)
