"""actions/increase_memory.py: limit x factor (or explicit), request kept <= limit, capped at the ceiling."""

from __future__ import annotations

from remediator.domain.actions import Plan, PlanContext, Refusal, plan, undo
from remediator.domain.policy import Policy
from tests.unit.domain.builders import container_spec, crashloop_status, deployment, pod


def resources_patch(result: Plan) -> dict:
    [patch] = result.patches
    assert patch.patch_type == "strategic"
    [container] = patch.body["spec"]["template"]["spec"]["containers"]
    return container


def test_increase_memory_grows_limit_and_request_by_factor() -> None:
    result = plan("increase_memory", PlanContext(deployment(), container_name="app"))
    assert isinstance(result, Plan)
    assert result.before == {
        "container": "app",
        "containerList": "containers",
        "limits": {"memory": "256Mi"},
        "requests": {"memory": "128Mi"},
    }
    assert result.after["limits"] == {"memory": "384Mi"} and result.after["requests"] == {"memory": "192Mi"}
    assert resources_patch(result) == {
        "name": "app",
        "resources": {"limits": {"memory": "384Mi"}, "requests": {"memory": "192Mi"}},
    }


def test_increase_memory_never_exceeds_ceiling() -> None:
    d = deployment(containers=[container_spec(memory_limit="3Gi", memory_request="3Gi")])
    result = plan("increase_memory", PlanContext(d, container_name="app"))
    assert isinstance(result, Plan)
    assert result.after["limits"] == {"memory": "4Gi"} and result.after["requests"] == {"memory": "4Gi"}
    assert "capped" in result.description
    explicit = plan(
        "increase_memory", PlanContext(deployment(), container_name="app", parameters={"memoryLimit": "16Gi"})
    )
    assert isinstance(explicit, Plan) and explicit.after["limits"] == {"memory": "4Gi"}
    at_ceiling = deployment(containers=[container_spec(memory_limit="4096Mi")])
    refused = plan("increase_memory", PlanContext(at_ceiling, container_name="app"))
    assert isinstance(refused, Refusal) and refused.code == "AtMemoryCeiling"


def test_decimal_units_and_parameters_factor() -> None:
    d = deployment(containers=[container_spec(memory_limit="500M", memory_request=None)])
    result = plan("increase_memory", PlanContext(d, container_name="app", parameters={"memoryFactor": 2}))
    assert isinstance(result, Plan)
    assert result.after == {
        "container": "app",
        "containerList": "containers",
        "limits": {"memory": "954Mi"},
        "requests": {},
    }
    assert "requests" not in resources_patch(result)["resources"]


def test_no_limit_needs_explicit_memory_limit() -> None:
    d = deployment(containers=[container_spec(memory_limit=None, memory_request="128Mi")])
    refused = plan("increase_memory", PlanContext(d, container_name="app"))
    assert isinstance(refused, Refusal) and refused.code == "NoMemoryLimit"
    result = plan("increase_memory", PlanContext(d, container_name="app", parameters={"memoryLimit": "1Gi"}))
    assert isinstance(result, Plan) and result.after["limits"] == {"memory": "1024Mi"}
    assert result.after["requests"] == {"memory": "128Mi"}


def test_oomkilled_container_is_found_among_several() -> None:
    d = deployment(containers=[container_spec("app"), container_spec("proxy", memory_limit="64Mi")])
    failing = pod("web-1", [crashloop_status("proxy", exit_code=137, reason="OOMKilled")], ready=False)
    result = plan("increase_memory", PlanContext(d, [failing], pod_name="web-1"))
    assert isinstance(result, Plan) and result.after["container"] == "proxy"
    assert result.after["limits"] == {"memory": "96Mi"}
    ambiguous = plan("increase_memory", PlanContext(d, [pod("web-2")]))
    assert isinstance(ambiguous, Refusal) and ambiguous.code == "AmbiguousContainer"


def test_undo_restores_previous_resources_and_removes_added_request() -> None:
    d = deployment(containers=[container_spec(memory_limit="256Mi", memory_request=None)])
    result = plan(
        "increase_memory", PlanContext(d, container_name="app", policy=Policy(memory_growth_factor=2))
    )
    assert isinstance(result, Plan)
    bumped = deployment(containers=[container_spec(memory_limit="512Mi", memory_request=None)])
    back = undo("increase_memory", result.change(), PlanContext(bumped))
    assert isinstance(back, Plan)
    container = resources_patch(back)
    assert container == {"name": "app", "resources": {"limits": {"memory": "256Mi"}}}
    drifted = undo("increase_memory", result.change(), PlanContext(deployment()))
    assert isinstance(drifted, Refusal) and drifted.code == "Drifted"


def test_unusable_memory_parameters_are_refused_not_raised() -> None:
    for params in ({"memoryLimit": "lots"}, {"memoryLimit": 512}, {"memoryLimit": "0"}, {"memoryFactor": "2"},
                   {"memoryFactor": 9}, {"memoryFactor": float("nan")}, {"memoryFactor": True}):
        result = plan("increase_memory", PlanContext(deployment(), container_name="app", parameters=params))
        assert isinstance(result, Refusal) and result.code == "InvalidParameter", params


def test_a_large_factor_is_still_capped_at_the_ceiling() -> None:
    result = plan("increase_memory", PlanContext(deployment(), container_name="app", parameters={"memoryFactor": 8},
                                                 policy=Policy(memory_ceiling="1Gi")))
    assert isinstance(result, Plan) and result.after["limits"] == {"memory": "1Gi"}
