"""domain/corroborate.py: a claim changes a workload automatically only when its Pods show it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediator.domain.corroborate import PodSignals, corroborate, observe
from remediator.domain.decide import DecisionInputs, WorkloadFacts, decide
from remediator.domain.evidence import Rollout
from remediator.domain.policy import Policy
from remediator.domain.types import Classification, WorkloadRef
from tests.unit.domain.builders import NS, T0, crashloop_status, pod, running_status, waiting_status

WEB = WorkloadRef("Deployment", "web", NS)


def healthy(name: str = "web-1") -> dict:
    return pod(name)


def oom(name: str = "web-1") -> dict:
    return pod(name, [crashloop_status(exit_code=137, reason="OOMKilled")], ready=False)


def test_healthy_pods_show_nothing() -> None:
    signals = observe([healthy("web-1"), healthy("web-2")], T0)
    assert signals == PodSignals(pods=2, ready=2, restarts=0, families=frozenset(), examples=())


@pytest.mark.parametrize(
    ("pod_", "family"),
    [
        (pod("web-1", [crashloop_status()], ready=False), "crash"),
        (oom(), "oom"),
        (pod("web-1", [waiting_status("ImagePullBackOff", "Back-off pulling image")], ready=False), "image"),
        (
            pod("web-1", [waiting_status("CreateContainerConfigError", 'configmap "x" not found')], ready=False),
            "config",
        ),
        (pod("web-1", [running_status(ready=False)], ready=False), "notready"),
    ],
)
def test_each_failure_state_is_seen_as_its_family(pod_: dict, family: str) -> None:
    signals = observe([pod_, healthy("web-2")], T0)
    assert family in signals.families and signals.pods == 2 and signals.ready == 1
    assert any(e.startswith("Pod web-1: ") for e in signals.examples)


def test_an_old_termination_of_a_ready_pod_is_history_not_a_failure() -> None:
    # Crashed once two hours ago (lastState), running and ready since then.
    status = {**running_status(restarts=1), "lastState": crashloop_status()["lastState"]}
    assert observe([pod("web-1", [status])], T0 + timedelta(hours=2)).families == frozenset()


def test_terminating_pods_are_not_evidence() -> None:
    signals = observe([pod("web-1", [crashloop_status()], ready=False, deleting=True)], T0)
    assert signals.pods == 0 and signals.families == frozenset()


@pytest.mark.parametrize(
    ("error_type", "action", "families", "code"),
    [
        ("image_pull", "rollback", {"image"}, "Corroborated"),
        ("image_pull", "rollback", {"crash"}, "NotCorroborated"),  # crashing, but not an image problem
        ("oom", "increase_memory", {"oom"}, "Corroborated"),
        ("app_crash", "increase_memory", {"crash"}, "NotCorroborated"),  # more memory needs an observed OOM
        ("probe_failure", "restart_pod", {"notready"}, "Corroborated"),
        ("timeout", "scale_up", set(), "NotCorroborated"),
        ("timeout", "scale_up", {"notready"}, "Corroborated"),
        ("resource_exhaustion", "scale_up", {"evicted"}, "Corroborated"),
    ],
)
def test_the_claim_needs_the_family_it_implies(error_type: str, action: str, families: set[str], code: str) -> None:
    reason = corroborate(error_type, action, PodSignals(pods=2, ready=1, families=frozenset(families)), "web")
    assert reason.code == code
    assert "checked web: 1/2 Pods ready" in reason.message


def _decide(pods: list[dict], error_type: str = "image_pull", action: str = "rollback") -> tuple[str, list[str]]:
    # An image_pull right after a rollout, so the rollback's own evidence holds and only corroboration varies.
    facts = WorkloadFacts(ref=WEB, replicas=len(pods), pod_count=len(pods), signals=observe(pods, T0),
                          rollout=Rollout(2, 60, True, 1, 86400))
    decision = decide(
        DecisionInputs(
            classification=Classification(error_type, action, 0.99),
            policy=Policy.model_validate({"autoApplyThreshold": 0.5}),
            workload=facts,
            now=T0,
        )
    )
    return decision.mode, decision.codes()


def test_a_made_up_image_pull_about_a_healthy_deployment_is_only_proposed() -> None:
    mode, codes = _decide([healthy("web-1"), healthy("web-2")])
    assert mode == "approval" and codes[0] == "NotCorroborated"


def test_the_same_claim_with_pods_in_image_pull_back_off_auto_applies() -> None:
    failing = pod("web-1", [waiting_status("ImagePullBackOff", "Back-off pulling image")], ready=False)
    mode, codes = _decide([failing, healthy("web-2")])
    assert mode == "auto" and codes == ["PolicyAllows"]


def test_the_evidence_is_part_of_the_decision() -> None:
    facts = WorkloadFacts(ref=WEB, replicas=1, pod_count=1, signals=observe([oom()], T0))
    decision = decide(DecisionInputs(Classification("oom", "increase_memory", 0.99), Policy(), facts, T0))
    assert decision.mode == "auto"
    assert decision.evidence and "Corroborated" not in decision.evidence[0]  # a sentence, not a code
    assert "oom" in decision.evidence[0] and "Pod web-1: OOMKilled" in decision.evidence[0]


def test_notify_needs_no_corroboration() -> None:
    mode, codes = _decide([healthy()], "timeout", "notify")
    assert mode == "auto" and codes == ["NotifyOnly"]


def test_saturated_replicas_corroborate_a_timeout_but_not_a_crash() -> None:
    calm = PodSignals(pods=2, ready=2)
    assert corroborate("timeout", "scale_up", calm, "web", saturated="2/2 ready replicas").code == "Corroborated"
    assert corroborate("app_crash", "rollback", calm, "web", saturated="2/2 ready replicas").code == "NotCorroborated"
    assert corroborate("timeout", "scale_up", calm, "web").code == "NotCorroborated"
