"""facts.decide_on_history: one LIST of the workload's Remediations per decision; the cluster-wide LIST only when
the limits it counts (the cluster's rate, the namespace's changes in flight) can change the outcome, and then
they still hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from remediator.domain import clock
from remediator.domain.decide import DecisionInputs
from remediator.domain.policy import BlastRadius, Policy, RateLimit
from remediator.pipeline.facts import decide_on_history
from tests.unit.domain.builders import NS, T0
from tests.unit.domain.test_decide import FACTS, inputs
from tests.unit.operator.pipeline.fake_kube import FakeKube


class CountingKube(FakeKube):
    def __init__(self) -> None:
        super().__init__()
        self.lists: list[str | None] = []  # the namespace of every LIST of Remediations (None: cluster-wide)

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        if plural == "remediations":
            self.lists.append(namespace)
        return super().list_cr(plural, namespace, label_selector)


def started(kube: FakeKube, name: str, namespace: str, target: str, seconds_ago: float) -> None:
    kube.objects[("remediations", namespace, name)] = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"target": {"kind": "Deployment", "name": target}, "action": "restart_pod"},
        "status": {"phase": "Verifying", "appliedAt": clock.format_time(T0 - timedelta(seconds=seconds_ago))},
    }


def limited(per_minute: int) -> DecisionInputs:
    return inputs(policy=Policy(rate_limit=RateLimit(cluster_per_minute=per_minute)))


def test_a_decision_that_waits_anyway_reads_only_its_namespace() -> None:
    kube = CountingKube()
    d = decide_on_history(kube, replace(limited(10), classification=replace(inputs().classification, confidence=0.5)))
    assert d.mode == "approval" and "BelowThreshold" in d.codes()
    assert kube.lists == [NS]


def test_an_automatic_change_also_counts_the_cluster_and_the_limit_holds() -> None:
    kube = CountingKube()
    for i in range(2):  # two changes started elsewhere in the cluster within the minute
        started(kube, f"other-{i}", "payments", f"api-{i}", seconds_ago=20)
    assert decide_on_history(kube, limited(3)).mode == "auto"
    assert kube.lists == [NS, None]

    kube.lists.clear()
    d = decide_on_history(kube, limited(2))
    assert d.mode == "approval" and d.codes() == ["RateLimitedCluster"]
    assert "2 remediations started cluster-wide" in d.reason.message
    assert kube.lists == [NS, None]


def test_starts_older_than_a_minute_and_the_remediation_itself_do_not_count() -> None:
    kube = CountingKube()
    started(kube, "old", "payments", "api", seconds_ago=90)
    started(kube, "me", NS, "other", seconds_ago=5)
    assert decide_on_history(kube, limited(1), exclude="me").mode == "auto"
    assert decide_on_history(kube, limited(1)).codes() == ["RateLimitedCluster"]
    started(kube, "me", "payments", "api", seconds_ago=5)  # the same name in another namespace still counts
    assert decide_on_history(kube, limited(1), exclude="me").codes() == ["RateLimitedCluster"]


def test_the_workload_history_comes_from_the_same_namespace_list() -> None:
    kube = CountingKube()
    started(kube, "prev", NS, FACTS.ref.name, seconds_ago=10)  # the workload's own change, still in flight
    d = decide_on_history(kube, limited(10))
    assert d.mode == "skip" and d.codes() == ["ActiveRemediationExists"]
    assert kube.lists == [NS]


def test_the_namespaces_in_flight_limit_is_counted_for_an_automatic_change_and_holds() -> None:
    kube = CountingKube()
    started(kube, "busy", NS, "other", seconds_ago=120)  # another workload's change, still verifying
    started(kube, "elsewhere", "payments", "api", seconds_ago=120)  # in flight, but in another namespace
    one = inputs(policy=Policy(blast_radius=BlastRadius(max_in_flight_per_namespace=1)))
    d = decide_on_history(kube, one)
    assert d.mode == "approval" and d.codes() == ["InFlightLimit"]
    assert "1 remediations are in flight" in d.reason.message
    assert kube.lists == [NS, None]
    kube.lists.clear()
    two = inputs(policy=Policy(blast_radius=BlastRadius(max_in_flight_per_namespace=2)))
    assert decide_on_history(kube, two).mode == "auto"
    assert decide_on_history(kube, one, exclude="busy").mode == "auto"  # the one being decided does not count
    waits = replace(one, classification=replace(one.classification, confidence=0.5))
    kube.lists.clear()
    assert decide_on_history(kube, waits).codes() == ["BelowThreshold"]  # waits anyway: not counted
    assert kube.lists == [NS]
