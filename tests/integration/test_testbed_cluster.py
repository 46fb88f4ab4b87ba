"""The testbed itself: CRDs accepted and validated by a real API server, workloads really run on kwok nodes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from kubernetes import client

from remediator_dev.devcluster.simulate import fail_pod
from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.integration


def _errorevent(name: str, **spec: Any) -> str:
    body = {
        "target": {"kind": "Deployment", "name": "web"},
        "message": "container app exited with code 1",
        "reason": "CrashLoopBackOff",
        "exitCode": 1,
        "source": "user",
        **spec,
    }
    return yaml.safe_dump(
        {"apiVersion": "remediator.dev/v1alpha1", "kind": "ErrorEvent", "metadata": {"name": name}, "spec": body}
    )


def _remediation(name: str, **spec: Any) -> str:
    body = {
        "target": {"kind": "Deployment", "name": "web"},
        "action": "restart_pod",
        "errorType": "app_crash",
        "confidence": 0.93,
        **spec,
    }
    return yaml.safe_dump(
        {"apiVersion": "remediator.dev/v1alpha1", "kind": "Remediation", "metadata": {"name": name}, "spec": body}
    )


def _wait(predicate: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_simulated_nodes_are_ready(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "nodes", "-l", "type=kwok", "-o", "json").stdout
    nodes = json.loads(out)["items"]
    assert len(nodes) >= 3
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"


def test_errorevent_round_trip_with_printer_columns(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_errorevent("web-crash", count=3))
    status = {
        "status": {
            "phase": "Classified",
            "classification": {
                "errorType": "app_crash",
                "action": "rollback",
                "confidence": 0.91,
                "modelVersion": "test",
            },
        }
    }
    cluster.kubectl(
        "patch",
        "errorevent",
        "web-crash",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )

    table = cluster.kubectl("get", "errorevents", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "TARGET", "TYPE", "CONFIDENCE", "PHASE", "AGE"]
    assert table[1].split()[:5] == ["web-crash", "web", "app_crash", "0.91", "Classified"]

    short = cluster.kubectl("get", "ee", "web-crash", "-n", namespace, "-o", "json").stdout
    assert json.loads(short)["spec"]["count"] == 3


def test_remediations_print_target_action_confidence_phase_age(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_remediation("web-restart"))
    cluster.kubectl(
        "patch",
        "rem",
        "web-restart",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"phase": "PendingApproval"}}),
    )
    table = cluster.kubectl("get", "remediations", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "TARGET", "ACTION", "CONFIDENCE", "PHASE", "AGE"]
    assert table[1].split()[:5] == ["web-restart", "web", "restart_pod", "0.93", "PendingApproval"]
    # The `remediator` category lists both kinds.
    both = cluster.kubectl("get", "remediator", "-n", namespace, "-o", "name").stdout.split()
    assert "remediation.remediator.dev/web-restart" in both


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (_errorevent("no-message", message=""), "spec.message"),
        (_errorevent("huge-logs", logs="x" * 20000), "spec.logs"),
        (_errorevent("bad-source", source="carrier-pigeon"), "spec.source"),
        (_errorevent("bad-target", target={"kind": "Deployment", "name": "Not_A_Name"}), "spec.target.name"),
        (_errorevent("many-labels", context={f"k{i}": "v" for i in range(40)}), "spec.context"),
        (_remediation("bad-action", action="reboot_node"), "spec.action"),
        (_remediation("overconfident", confidence=1.5), "spec.confidence"),
        (
            _remediation("unsafe-config", action="update_config", autoApply=True),
            "update_config may only auto-apply with parameters.configPatch",
        ),
        (
            _remediation("rollback-statefulset", action="rollback", target={"kind": "StatefulSet", "name": "db"}),
            "rollback needs a Deployment target",
        ),
    ],
    ids=[
        "missing-message",
        "oversized-logs",
        "unknown-source",
        "invalid-target-name",
        "too-many-labels",
        "unknown-action",
        "confidence-above-one",
        "update-config-auto-without-patch",
        "rollback-non-deployment",
    ],
)
def test_invalid_objects_are_rejected_by_the_api_server(
    cluster: Cluster, namespace: str, manifest: str, expected: str
) -> None:
    result = cluster.kubectl("apply", "-n", namespace, "-f", "-", input=manifest, check=False)
    assert result.returncode != 0
    assert "Invalid value" in result.stderr or "Unsupported value" in result.stderr or "Too" in result.stderr
    assert expected in result.stderr
    listed = cluster.kubectl("get", "remediator", "-n", namespace, "-o", "name").stdout
    assert listed.strip() == "", "a rejected object must not be stored"


def test_unknown_phase_in_status_is_rejected(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_remediation("web-restart"))
    result = cluster.kubectl(
        "patch",
        "rem",
        "web-restart",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Exploded"}}',
        check=False,
    )
    assert result.returncode != 0
    assert "status.phase" in result.stderr and "Unsupported value" in result.stderr


def _deployment(name: str, replicas: int, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations or {}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example/app:1.0",
                            "resources": {"limits": {"memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def _pods(cluster: Cluster, namespace: str, app: str) -> list[client.V1Pod]:
    pods = client.CoreV1Api(cluster.api).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def _waiting_reason(pod: client.V1Pod) -> str | None:
    for status in pod.status.container_statuses or []:
        if status.state and status.state.waiting:
            return str(status.state.waiting.reason)
    return None


def test_deployment_runs_and_a_deleted_pod_is_replaced(cluster: Cluster, namespace: str) -> None:
    apps = client.AppsV1Api(cluster.api)
    apps.create_namespaced_deployment(namespace, _deployment("web", 3))

    def running() -> list[client.V1Pod]:
        pods = _pods(cluster, namespace, "web")
        ok = [p for p in pods if p.status.phase == "Running" and p.spec.node_name]
        return ok if len(ok) == 3 else []

    pods = _wait(running, what="3 Running pods")
    assert {p.spec.node_name for p in pods} <= {f"kwok-node-{i}" for i in range(10)}
    assert all(p.metadata.owner_references[0].kind == "ReplicaSet" for p in pods)

    victim = pods[0].metadata.name
    client.CoreV1Api(cluster.api).delete_namespaced_pod(victim, namespace)
    replaced = _wait(
        lambda: (
            [p for p in running() if p.metadata.name != victim]
            if not any(p.metadata.name == victim for p in _pods(cluster, namespace, "web"))
            else []
        ),
        what="a replacement pod",
    )
    assert len(replaced) == 3


def test_running_pod_is_driven_into_crashloopbackoff(cluster: Cluster, namespace: str) -> None:
    client.AppsV1Api(cluster.api).create_namespaced_deployment(namespace, _deployment("api", 2))
    pods = _wait(
        lambda: [p for p in _pods(cluster, namespace, "api") if p.status.phase == "Running"], what="a running pod"
    )
    name = pods[0].metadata.name
    fail_pod(cluster.api, namespace, name, "crashloop", exit_code=2)

    pod = client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace)
    status = pod.status.container_statuses[0]
    assert status.state.waiting.reason == "CrashLoopBackOff"
    assert status.last_state.terminated.exit_code == 2
    assert status.restart_count == 4
    table = cluster.kubectl("get", "pod", name, "-n", namespace).stdout
    assert "CrashLoopBackOff" in table
    events = (
        client.CoreV1Api(cluster.api)
        .list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=BackOff")
        .items
    )
    assert events and events[0].type == "Warning"


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("crashloop", "CrashLoopBackOff"),
        ("oom", "CrashLoopBackOff"),
        ("imagepull", "ImagePullBackOff"),
        ("config", "CreateContainerConfigError"),
    ],
)
def test_kwok_stages_start_annotated_pods_in_failure_states(
    cluster: Cluster, namespace: str, failure: str, reason: str
) -> None:
    client.AppsV1Api(cluster.api).create_namespaced_deployment(
        namespace, _deployment("broken", 1, {"sim.remediator.dev/fail": failure})
    )
    pod = _wait(
        lambda: next((p for p in _pods(cluster, namespace, "broken") if _waiting_reason(p)), None),
        what=f"a pod in {reason}",
    )
    assert _waiting_reason(pod) == reason
    if failure == "oom":
        assert pod.status.container_statuses[0].last_state.terminated.reason == "OOMKilled"
        assert pod.status.container_statuses[0].last_state.terminated.exit_code == 137


def test_oom_stage_stops_once_memory_limit_is_raised(cluster: Cluster, namespace: str) -> None:
    apps = client.AppsV1Api(cluster.api)
    apps.create_namespaced_deployment(namespace, _deployment("hungry", 1, {"sim.remediator.dev/fail": "oom"}))
    _wait(lambda: any(_waiting_reason(p) for p in _pods(cluster, namespace, "hungry")), what="an OOM pod")
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "256Mi"}}}]}}}
    }
    apps.patch_namespaced_deployment("hungry", namespace, patch)

    def healthy_new_pod() -> bool:
        pods = _pods(cluster, namespace, "hungry")
        return any(
            p.spec.containers[0].resources.limits["memory"] == "256Mi"
            and p.status.phase == "Running"
            and all(s.ready for s in p.status.container_statuses or [False])
            for p in pods
        )

    _wait(healthy_new_pod, what="a ready pod with the raised limit")
