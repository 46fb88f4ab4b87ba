"""actions/scale_up.py: +25% (at least 1) or the requested count, capped, never with an HPA."""

from __future__ import annotations

import pytest

from remediator.domain.actions import Plan, PlanContext, Refusal, plan, undo
from remediator.domain.policy import Policy
from tests.unit.domain.builders import deployment, pod, statefulset


@pytest.mark.parametrize(("current", "expected"), [(1, 2), (2, 3), (4, 5), (5, 7), (8, 10)])
def test_scale_up_adds_a_quarter_at_least_one(current: int, expected: int) -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=current)))
    assert isinstance(result, Plan)
    assert result.before == {"replicas": current} and result.after == {"replicas": expected}
    [patch] = result.patches
    assert patch.body == {"spec": {"replicas": expected}} and patch.patch_type == "merge"


def test_scale_up_never_exceeds_max_replicas() -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=9), parameters={"replicas": 50}))
    assert isinstance(result, Plan) and result.after == {"replicas": 10}
    assert "capped at maxReplicas 10" in result.description
    at_max = plan("scale_up", PlanContext(deployment(replicas=10)))
    assert isinstance(at_max, Refusal) and at_max.code == "AtMaxReplicas"


def test_scale_up_with_hpa_is_refused() -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=3), has_hpa=True))
    assert isinstance(result, Refusal) and result.code == "HPAOwnsReplicas"


def test_scale_up_to_requested_replicas_and_statefulset() -> None:
    result = plan(
        "scale_up",
        PlanContext(statefulset(replicas=3), parameters={"replicas": 5}, policy=Policy(max_replicas=8)),
    )
    assert (
        isinstance(result, Plan) and result.after == {"replicas": 5} and result.target.kind == "StatefulSet"
    )
    down = plan("scale_up", PlanContext(deployment(replicas=3), parameters={"replicas": 2}))
    assert isinstance(down, Refusal) and down.code == "NotAnIncrease"


def test_scale_up_of_a_pod_is_refused() -> None:
    result = plan("scale_up", PlanContext(pod("web-1")))
    assert isinstance(result, Refusal) and result.code == "ActionNotSupported"


def test_undo_scale_up_restores_and_refuses_after_drift() -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=4)))
    assert isinstance(result, Plan)
    change = result.change()
    back = undo("scale_up", change, PlanContext(deployment(replicas=5)))
    assert isinstance(back, Plan) and back.patches[0].body == {"spec": {"replicas": 4}}
    drift = undo("scale_up", change, PlanContext(deployment(replicas=8)))
    assert isinstance(drift, Refusal) and drift.code == "Drifted"


@pytest.mark.parametrize("replicas", ["50", 2.5, True, 0, -3, 10**6, None])
def test_unusable_replicas_are_refused_not_raised(replicas: object) -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=3), parameters={"replicas": replicas}))
    if replicas is None:  # absent: the default step
        assert isinstance(result, Plan)
    else:
        assert isinstance(result, Refusal) and result.code == "InvalidParameter"


def test_requested_replicas_are_clamped_to_a_stricter_policy() -> None:
    result = plan("scale_up", PlanContext(deployment(replicas=2), parameters={"replicas": 1000},
                                          policy=Policy(max_replicas=3)))
    assert isinstance(result, Plan) and result.after == {"replicas": 3}
