"""patch_guard.py: an update_config configPatch may touch container env, envFrom, args and resources only."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.domain.actions import Plan, PlanContext, Refusal, plan
from remediator.domain.patch_guard import (
    DNS1123_SUBDOMAIN,
    check_config_patch,
    is_dns1123_subdomain,
    patch_refusal,
    referenced_names,
)
from remediator.domain.policy import Policy
from tests.unit.domain.builders import T0, container_spec, deployment, statefulset

PS = "spec.template.spec"
APP = f"{PS}.containers[app]"


def workload() -> dict[str, Any]:
    """A Deployment whose container already reads Secret db-credentials and ConfigMap app-config."""
    app = {
        **container_spec(),
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "pw"}}}],
        "envFrom": [{"configMapRef": {"name": "app-config"}}],
    }
    d = deployment(containers=[app])
    d["spec"]["template"]["spec"]["initContainers"] = [container_spec("migrate")]
    d["spec"]["template"]["spec"]["volumes"] = [{"name": "tls", "secret": {"secretName": "web-tls"}}]
    return d


def pod_patch(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": pod_spec}}}


def container_patch(**fields: Any) -> dict[str, Any]:
    return pod_patch({"containers": [{"name": "app", **fields}]})


def paths(patch: Any, wl: dict[str, Any] | None = None, ceiling: int | None = None) -> list[str]:
    return [v.path for v in check_config_patch(patch, wl or workload(), memory_ceiling_bytes=ceiling)]


# -- allowed -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "patch",
    [
        container_patch(env=[{"name": "POOL_SIZE", "value": "20"}]),
        container_patch(resources={"limits": {"memory": "512Mi", "cpu": "1"}, "requests": {"cpu": "250m"}}),
        container_patch(envFrom=[{"configMapRef": {"name": "app-config-v2"}, "prefix": "APP_"}]),
        container_patch(envFrom=[{"secretRef": {"name": "web-tls", "optional": True}}]),
        container_patch(args=["--workers=4", "--log-level=info"]),
        container_patch(env=[
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "pw2"}}},
            {"name": "FLAG", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "feature.x"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
        ]),
        container_patch(env=None, args=None),
    ],
)
def test_allowed_patches_pass(patch: dict[str, Any]) -> None:
    assert check_config_patch(patch, workload()) == ()
    assert patch_refusal(patch, workload()) is None


def test_referenced_names_cover_env_envfrom_and_volumes() -> None:
    configmaps, secrets = referenced_names(workload())
    assert configmaps == {"app-config"}
    assert secrets == {"db-credentials", "web-tls"}


# -- forbidden, each with its path ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("patch", "path"),
    [
        (pod_patch({"containers": [{"name": "sidecar", "image": "evil:1"}]}), f"{PS}.containers[sidecar]"),
        (pod_patch({"initContainers": [{"name": "x", "image": "evil:1"}]}), f"{PS}.initContainers[x].image"),
        (pod_patch({"containers": [{"name": "migrate", "env": []}]}), f"{PS}.containers[migrate]"),
        (pod_patch({"ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}),
         f"{PS}.ephemeralContainers[dbg].image"),
        (container_patch(image="evil:1"), f"{APP}.image"),
        (container_patch(command=["sh", "-c", "id"]), f"{APP}.command"),
        (pod_patch({"securityContext": {"runAsUser": 0}}), f"{PS}.securityContext.runAsUser"),
        (container_patch(securityContext={"runAsNonRoot": False}), f"{APP}.securityContext.runAsNonRoot"),
        (container_patch(securityContext={"privileged": True}), f"{APP}.securityContext.privileged"),
        (container_patch(securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}),
         f"{APP}.securityContext.capabilities.add"),
        (pod_patch({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}), f"{PS}.volumes[root].hostPath.path"),
        (pod_patch({"volumes": [{"name": "c", "configMap": {"name": "app-config"}}]}),
         f"{PS}.volumes[c].configMap.name"),
        (container_patch(volumeMounts=[{"name": "root", "mountPath": "/host"}]), f"{APP}.volumeMounts[root].mountPath"),
        (pod_patch({"hostNetwork": True}), f"{PS}.hostNetwork"),
        (pod_patch({"hostPID": True}), f"{PS}.hostPID"),
        (pod_patch({"hostIPC": True}), f"{PS}.hostIPC"),
        (pod_patch({"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db"]}]}), f"{PS}.hostAliases[0].ip"),
        (pod_patch({"serviceAccountName": "admin"}), f"{PS}.serviceAccountName"),
        (pod_patch({"serviceAccount": "admin"}), f"{PS}.serviceAccount"),
        (pod_patch({"automountServiceAccountToken": True}), f"{PS}.automountServiceAccountToken"),
        (pod_patch({"nodeName": "control-plane"}), f"{PS}.nodeName"),
        (pod_patch({"tolerations": [{"operator": "Exists"}]}), f"{PS}.tolerations[0].operator"),
        (pod_patch({"priorityClassName": "system-node-critical"}), f"{PS}.priorityClassName"),
        (pod_patch({"runtimeClassName": "unconfined"}), f"{PS}.runtimeClassName"),
        ({"spec": {"replicas": 50}}, "spec.replicas"),
        ({"metadata": {"labels": {"argocd.argoproj.io/instance": None}}},
         "metadata.labels.argocd.argoproj.io/instance"),
        ({"spec": {"template": {"metadata": {"labels": {"role": "db-client"}}}}},
         "spec.template.metadata.labels.role"),
        (pod_patch({"$patch": "replace", "containers": [{"name": "app", "env": []}]}), f"{PS}.$patch"),
        (pod_patch({"containers": [{"name": "app", "$patch": "replace"}]}), f"{APP}.$patch"),
        (pod_patch({"$setElementOrder/containers": [{"name": "app"}], "containers": [{"name": "app"}]}),
         f"{PS}.$setElementOrder/containers"),
        ({"spec": {"template": {"$retainKeys": ["metadata"]}}}, "spec.template.$retainKeys"),
        (container_patch(env=[{"name": "X", "$patch": "delete"}]), f"{APP}.env[X].$patch"),
        ([{"op": "add", "path": "/spec/template/spec/hostPID", "value": True}], "/spec/template/spec/hostPID"),
        (container_patch(env=[{"name": "STOLEN", "valueFrom": {"secretKeyRef": {"name": "admin-token", "key": "t"}}}]),
         f"{APP}.env[STOLEN].valueFrom.secretKeyRef.name"),
        (container_patch(envFrom=[{"secretRef": {"name": "admin-token"}}]), f"{APP}.envFrom[0].secretRef.name"),
        (container_patch(envFrom=[{"configMapRef": {"name": "../kube-system/x"}}]),
         f"{APP}.envFrom[0].configMapRef.name"),
        (container_patch(resources=None), f"{APP}.resources"),
        (container_patch(resources={"limits": None}), f"{APP}.resources.limits"),
        (container_patch(resources={"limits": {"memory": None}}), f"{APP}.resources.limits.memory"),
        (container_patch(resources={"limits": {"nvidia.com/gpu": "8"}}), f"{APP}.resources.limits.nvidia.com/gpu"),
        (container_patch(resources={"claims": [{"name": "gpu"}]}), f"{APP}.resources.claims[gpu]"),
        (container_patch(args="--debug"), f"{APP}.args"),
        ("not a patch", ""),
    ],
)
def test_forbidden_fields_fail_with_their_path(patch: Any, path: str) -> None:
    assert path in paths(patch)
    refused = patch_refusal(patch, workload())
    assert isinstance(refused, Refusal) and refused.code == "ForbiddenPatchField"
    assert path in refused.message


def test_every_forbidden_field_of_one_patch_is_named() -> None:
    patch = pod_patch({
        "hostPID": True,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [
            {"name": "app", "env": [{"name": "POOL", "value": "2"}], "securityContext": {"privileged": True}},
            {"name": "pwn", "image": "evil:1"},
        ],
    })
    assert paths(patch) == [
        f"{PS}.hostPID",
        f"{PS}.volumes[root].hostPath.path",
        f"{APP}.securityContext.privileged",
        f"{PS}.containers[pwn]",
    ]


def test_memory_above_the_policy_ceiling_is_refused() -> None:
    patch = container_patch(resources={"limits": {"memory": "64Gi"}, "requests": {"memory": "1Gi"}})
    assert paths(patch, ceiling=4 * 2**30) == [f"{APP}.resources.limits.memory"]
    assert paths(patch) == []  # without a ceiling only the shape is checked


def test_duplicate_and_nameless_containers_are_refused() -> None:
    patch = pod_patch({"containers": [{"name": "app"}, {"name": "app"}, {"env": []}]})
    assert paths(patch) == [f"{PS}.containers[app]", f"{PS}.containers[2]"]


def test_json_patch_is_refused_op_by_op() -> None:
    ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/env", "value": []}, {"op": "test"}]
    assert paths(ops) == ["/spec/template/spec/containers/0/env", "[1]"]


def test_statefulset_patch_uses_its_own_containers() -> None:
    patch = pod_patch({"containers": [{"name": "postgres", "env": [{"name": "X", "value": "1"}]}]})
    assert paths(patch, statefulset()) == []
    assert paths(pod_patch({"containers": [{"name": "app"}]}), statefulset()) == [f"{PS}.containers[app]"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [("app-config", True), ("a.b-c", True), ("a" * 253, True), ("a" * 254, False), ("App", False),
     ("x/y", False), ("-x", False), ("", False), (None, False), (7, False)],
)
def test_dns1123_subdomain(name: object, ok: bool) -> None:
    assert is_dns1123_subdomain(name) is ok


# -- wired into update_config ----------------------------------------------------------------------------------
def update_config(params: dict[str, Any], wl: dict[str, Any] | None = None, **kw: Any) -> Plan | Refusal:
    return plan("update_config", PlanContext(wl or workload(), parameters=params, now=T0, **kw))


def test_update_config_refuses_a_privileged_patch_before_anything_else() -> None:
    patch = pod_patch({"hostPID": True, "containers": [{"name": "app", "securityContext": {"privileged": True}}]})
    # Even for a kind update_config cannot handle: the guard comes first.
    wl = {**workload(), "kind": "Pod"}
    for target in (workload(), wl):
        result = update_config({"configPatch": patch}, target)
        assert isinstance(result, Refusal) and result.code == "ForbiddenPatchField"
        assert "hostPID" in result.message


def test_update_config_refuses_json_patch() -> None:
    ops = [{"op": "add", "path": "/spec/template/spec/hostPID", "value": True}]
    result = update_config({"configPatch": ops})
    assert isinstance(result, Refusal) and result.code == "ForbiddenPatchField"
    assert "/spec/template/spec/hostPID" in result.message


def test_update_config_applies_the_memory_ceiling_of_the_policy() -> None:
    patch = container_patch(resources={"limits": {"memory": "8Gi"}})
    refused = update_config({"configPatch": patch}, policy=Policy(memory_ceiling="2Gi"))
    assert isinstance(refused, Refusal) and refused.code == "ForbiddenPatchField"
    assert isinstance(update_config({"configPatch": patch}, policy=Policy(memory_ceiling="8Gi")), Plan)


def test_update_config_sends_an_allowed_patch() -> None:
    result = update_config({"configPatch": container_patch(env=[{"name": "POOL_SIZE", "value": "20"}])})
    assert isinstance(result, Plan) and result.patches[0].patch_type == "strategic"


CM = {"kind": "ConfigMap", "metadata": {"name": "app-config"}, "data": {"A": "1"}}


@pytest.mark.parametrize("name", ["../app-config", "app-config/x", "App-Config", "", "a" * 254, 42])
def test_update_config_refuses_an_invalid_configmap_name(name: object) -> None:
    result = update_config({"configMapName": name, "configPatch": {"A": "2"}}, configmap=CM)
    assert isinstance(result, Refusal) and result.code == "InvalidParameter"


def test_update_config_only_edits_a_configmap_the_workload_reads() -> None:
    other = {"kind": "ConfigMap", "metadata": {"name": "billing-config"}, "data": {}}
    result = update_config({"configMapName": "billing-config", "configPatch": {"A": "2"}}, configmap=other)
    assert isinstance(result, Refusal) and result.code == "ConfigMapNotReferenced"
    assert isinstance(update_config({"configMapName": "app-config", "configPatch": {"A": "2"}}, configmap=CM), Plan)


def test_update_config_refuses_invalid_configmap_keys() -> None:
    result = update_config({"configMapName": "app-config", "configPatch": {"a/b": "2"}}, configmap=CM)
    assert isinstance(result, Refusal) and result.code == "InvalidConfigPatch"


def test_the_crd_checks_the_same_names() -> None:
    import pathlib

    import yaml

    crd = pathlib.Path(__file__).resolve().parents[3] / "crds" / "remediations.remediator.dev.yaml"
    schema = yaml.safe_load(crd.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = schema["properties"]["spec"]["properties"]
    for field in (spec["parameters"]["properties"]["configMapName"], spec["target"]["properties"]["podName"],
                  spec["errorEventRef"]["properties"]["name"]):
        assert field["pattern"] == DNS1123_SUBDOMAIN.pattern and field["maxLength"] == 253
