"""actions/restart_pod.py: evict only failing, controller-managed Pods, within the blast radius."""

from __future__ import annotations

from remediator.domain.actions import Plan, PlanContext, Refusal, plan, undo
from remediator.domain.policy import Policy
from tests.unit.domain.builders import crashloop_status, deployment, pod


def healthy(name: str) -> dict:
    return pod(name)


def crashing(name: str, restarts: int = 5) -> dict:
    return pod(name, [crashloop_status(restarts=restarts)], ready=False)


def test_restart_evicts_the_failing_pod_only() -> None:
    pods = [crashing("web-1"), healthy("web-2"), healthy("web-3")]
    result = plan("restart_pod", PlanContext(deployment(replicas=3), pods, pod_name="web-1"))
    assert isinstance(result, Plan)
    assert result.evict == ("web-1",) and result.patches == ()
    assert result.before == {"pods": 3, "readyPods": 2} and result.after == {"evicted": ["web-1"]}


def test_restart_pod_respects_blast_radius() -> None:
    pods = [crashing(f"web-{i}", restarts=i) for i in range(6)] + [healthy(f"web-ok-{i}") for i in range(4)]
    result = plan("restart_pod", PlanContext(deployment(replicas=10), pods, pod_name="web-1"))
    assert isinstance(result, Plan)
    # floor(10 * 0.34) = 3, the triggering Pod first, then the most restarted.
    assert result.evict == ("web-1", "web-5", "web-4")
    assert "3 more failing Pod(s) left for later" in result.description


def test_at_least_one_pod_even_for_a_tiny_workload() -> None:
    result = plan("restart_pod", PlanContext(deployment(replicas=1), [crashing("web-1")], pod_name="web-1"))
    assert isinstance(result, Plan) and result.evict == ("web-1",)


def test_a_ready_pod_is_never_evicted_even_when_the_errorevent_names_it() -> None:
    # A forged "Readiness probe failed" about a Ready Pod: the Pod's own status says it is fine.
    pods = [healthy("web-1"), crashing("web-2")]
    policy = Policy.model_validate({"blastRadius": {"maxPodFraction": 1.0, "minReadyPods": 0}})
    result = plan("restart_pod", PlanContext(deployment(replicas=2), pods, pod_name="web-1", policy=policy))
    assert isinstance(result, Plan) and result.evict == ("web-2",)
    only_ready = plan(
        "restart_pod", PlanContext(deployment(replicas=1), [healthy("web-1")], pod_name="web-1", policy=policy)
    )
    assert isinstance(only_ready, Refusal) and only_ready.code == "NoFailingPods"


def test_bare_pod_is_not_restarted() -> None:
    bare = pod("debug", [crashloop_status()], ready=False, owner=None)
    result = plan("restart_pod", PlanContext(bare, [bare], pod_name="debug"))
    assert isinstance(result, Refusal) and result.code == "NotControllerManaged"


def test_terminating_and_healthy_pods_are_not_evicted() -> None:
    pods = [pod("web-1", [crashloop_status()], ready=False, deleting=True), healthy("web-2")]
    result = plan("restart_pod", PlanContext(deployment(replicas=2), pods))
    assert isinstance(result, Refusal) and result.code == "NoFailingPods"


def test_restart_cannot_be_undone() -> None:
    result = plan("restart_pod", PlanContext(deployment(replicas=1), [crashing("web-1")], pod_name="web-1"))
    assert isinstance(result, Plan)
    refusal = undo("restart_pod", result.change())
    assert isinstance(refusal, Refusal) and refusal.code == "NotReversible"
