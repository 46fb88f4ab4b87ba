"""actions/update_config.py and notify.py."""

from __future__ import annotations

from remediator.domain.actions import Plan, PlanContext, Refusal, plan, undo
from tests.unit.domain.builders import NS, T0, container_spec, deployment, pod

CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "app-config", "namespace": NS},
    "data": {"LOG_LEVEL": "debug", "DATABASE_URL": "postgres://db:5432/shop"},
}
# The workload must read the ConfigMap update_config edits (ConfigMapNotReferenced otherwise).
USES_CM = [{**container_spec(), "envFrom": [{"configMapRef": {"name": "app-config"}}]}]
RESTART = {
    "spec": {
        "template": {
            "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}}
        }
    }
}


def test_update_config_without_config_patch_is_refused() -> None:
    result = plan("update_config", PlanContext(deployment(), now=T0))
    assert isinstance(result, Refusal) and result.code == "NoConfigPatch"


def test_update_config_patches_configmap_then_restarts_rollout() -> None:
    params = {"configMapName": "app-config", "configPatch": {"data": {"LOG_LEVEL": "info", "NEW_KEY": "1"}}}
    result = plan(
        "update_config", PlanContext(deployment(containers=USES_CM), parameters=params, configmap=CM, now=T0)
    )
    assert isinstance(result, Plan)
    cm_patch, restart = result.patches
    assert (cm_patch.target.kind, cm_patch.target.name, cm_patch.patch_type) == (
        "ConfigMap",
        "app-config",
        "merge",
    )
    assert cm_patch.body == {"data": {"LOG_LEVEL": "info", "NEW_KEY": "1"}}
    assert restart.target.kind == "Deployment" and restart.body == RESTART
    assert result.before == {"configMap": "app-config", "data": {"LOG_LEVEL": "debug", "NEW_KEY": None}}


def test_update_config_undo_restores_configmap_values() -> None:
    params = {"configMapName": "app-config", "configPatch": {"LOG_LEVEL": "info"}}
    result = plan(
        "update_config", PlanContext(deployment(containers=USES_CM), parameters=params, configmap=CM, now=T0)
    )
    assert isinstance(result, Plan)
    changed = {**CM, "data": {**CM["data"], "LOG_LEVEL": "info"}}
    back = undo("update_config", result.change(), PlanContext(deployment(), configmap=changed, now=T0))
    assert isinstance(back, Plan) and back.patches[0].body == {"data": {"LOG_LEVEL": "debug"}}
    drift = undo("update_config", result.change(), PlanContext(deployment(), configmap=CM, now=T0))
    assert isinstance(drift, Refusal) and drift.code == "Drifted"


def test_update_config_workload_patch_merges_restart_annotation() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "env": [{"name": "POOL_SIZE", "value": "20"}]}]}
            }
        }
    }
    result = plan("update_config", PlanContext(deployment(), parameters={"configPatch": patch}, now=T0))
    assert isinstance(result, Plan)
    [p] = result.patches
    assert p.patch_type == "strategic"
    tmpl = p.body["spec"]["template"]
    assert tmpl["spec"]["containers"][0]["env"] == [{"name": "POOL_SIZE", "value": "20"}]
    assert tmpl["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == "2024-05-01T12:00:00Z"
    # POOL_SIZE did not exist before: its slot in the recorded before values is None.
    assert result.before["patch"]["spec"]["template"]["spec"]["containers"][0]["env"] == [None]
    refused = undo("update_config", result.change())
    assert isinstance(refused, Refusal) and refused.code == "NotReversible"


def test_update_config_rejects_selector_and_unknown_fields() -> None:
    # The patch guard (test_patch_guard.py) refuses these before anything else, naming the path.
    bad = plan(
        "update_config",
        PlanContext(deployment(), now=T0, parameters={"configPatch": {"spec": {"selector": {}}}}),
    )
    assert isinstance(bad, Refusal) and bad.code == "ForbiddenPatchField" and "spec.selector" in bad.message
    bad = plan(
        "update_config", PlanContext(deployment(), now=T0, parameters={"configPatch": {"kind": "Job"}})
    )
    assert isinstance(bad, Refusal) and bad.code == "ForbiddenPatchField" and "kind" in bad.message


def test_notify_changes_nothing_and_carries_the_note() -> None:
    result = plan(
        "notify",
        PlanContext(
            deployment(),
            pod_name="web-1",
            container_name="app",
            parameters={"note": "check the payments DB credentials"},
        ),
    )
    assert isinstance(result, Plan) and result.changes_nothing
    assert result.description == (
        "Deployment shop/web (Pod web-1, container app) needs a human: check the payments DB credentials"
    )
    assert isinstance(undo("notify", result.change()), Refusal)


def test_unknown_action_is_refused() -> None:
    result = plan("delete_namespace", PlanContext(pod("x")))
    assert isinstance(result, Refusal) and result.code == "UnknownAction"
