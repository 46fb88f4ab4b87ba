"""Each action end to end through a human-written Remediation: the operator decides, applies and verifies it."""

from __future__ import annotations

from typing import Any

import pytest

from remediator_dev.devcluster.simulate import fail_pod
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
# The cluster watch is off here: these tests are about actions, so no ErrorEvent of the operator's own
# (for the failures the tests cause on purpose) competes with the Remediation a test writes.
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}


def _template_annotations(dep: dict[str, Any]) -> dict[str, str]:
    return dict(dep["spec"]["template"]["metadata"].get("annotations") or {})


def test_restart_pod_evicts_the_failing_pod_and_it_is_replaced(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("web", 3, memory="128Mi")
    pods = ops.running_pods("web", 3)
    victim = pods[0]["metadata"]["name"]
    fail_pod(ops.cluster.api, namespace, victim, "crashloop")

    ops.remediation("restart-web", "web", "restart_pod", podName=victim, containerName="app", approve=True)
    done = ops.wait_phase("remediations", "restart-web", "Succeeded", "Failed", "Skipped", timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(done["status"]["change"]["evict"] == [victim], done["status"]["change"])
    after = ops.running_pods("web", 3)
    check(victim not in {p["metadata"]["name"] for p in after}, "the failing Pod is still there")


def test_rollback_returns_to_the_healthy_template(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("api", 2, memory="128Mi", fail="crashloop", earlier_revision=True)  # revision 2 crashes
    wait_for(
        lambda: any(
            (s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
            for p in ops.pods("api")
            for s in p.get("status", {}).get("containerStatuses") or []
        ),
        20,
        "a crashing Pod of revision 2",
    )

    ops.remediation("rollback-api", "api", "rollback", approve=True)
    done = ops.wait_phase("remediations", "rollback-api", "Succeeded", "Failed", "Skipped", timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    dep = ops.get_deployment("api")
    check("sim.remediator.dev/fail" not in _template_annotations(dep), f"template still failing: {dep['spec']}")
    check(done["status"]["change"]["before"]["revision"] == 2, done["status"]["change"])
    check(done["status"]["change"]["after"]["revision"] == 1, done["status"]["change"])
    ops.running_pods("api", 2)


def test_scale_up_raises_replicas_but_never_above_max_replicas(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, maxReplicas=3, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("queue", 2, memory="128Mi")
    ops.running_pods("queue", 2)

    ops.remediation(
        "scale-queue", "queue", "scale_up", error_type="resource_exhaustion", parameters={"replicas": 8}, approve=True
    )
    done = ops.wait_phase("remediations", "scale-queue", "Succeeded", "Failed", "Skipped", timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.get_deployment("queue")["spec"]["replicas"] == 3, "replicas are not capped at maxReplicas 3")
    check(done["status"]["change"]["after"] == {"replicas": 3}, done["status"]["change"])
    ops.running_pods("queue", 3)


def test_scale_up_with_an_hpa_becomes_notify_and_changes_nothing(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("front", 2, memory="128Mi")
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "front"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "front"},
            "minReplicas": 2,
            "maxReplicas": 6,
        },
    }
    ops.cluster.kubectl("apply", "-n", namespace, "-f", "-", input=__import__("json").dumps(hpa))
    generation = ops.get_deployment("front")["metadata"]["generation"]

    ops.remediation("scale-front", "front", "scale_up", error_type="resource_exhaustion")
    done = ops.wait_phase("remediations", "scale-front", "Succeeded", "Failed", "Skipped", timeout=30)
    status = done["status"]
    check(status["phase"] == "Skipped" and status["reason"] == "NotifiedHuman", f"ended {status}")
    check(done["status"]["change"].get("patches") in (None, []), status["change"])
    dep = ops.get_deployment("front")
    check(dep["spec"]["replicas"] == 2 and dep["metadata"]["generation"] == generation, "the Deployment changed")
    warnings = [e for e in ops.events_for("scale-front", "Remediation") if e["type"] == "Warning"]
    check(any(e["reason"] == "NotifiedHuman" for e in warnings), f"no NotifiedHuman Warning: {warnings}")


def test_increase_memory_grows_by_the_factor_up_to_the_ceiling(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, memoryGrowthFactor=4, memoryCeiling="200Mi", **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("cache", 1, memory="64Mi")
    ops.running_pods("cache", 1)

    ops.remediation("grow-cache", "cache", "increase_memory", error_type="oom", approve=True)
    done = ops.wait_phase("remediations", "grow-cache", "Succeeded", "Failed", "Skipped", timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    check(ops.memory_limit("cache") == "200Mi", f"64Mi x 4 is not capped at 200Mi: {ops.memory_limit('cache')}")
    pods = ops.running_pods("cache", 1)
    check(pods[0]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "200Mi", pods[0]["spec"])


def test_update_config_patches_the_configmap_and_restarts_after_approval(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "app-config"}, "data": {"LOG_LEVEL": "info"}}
    )
    ops.deployment("worker", 1, memory="128Mi", env_from_configmap="app-config")  # only a ConfigMap it reads
    ops.running_pods("worker", 1)

    params = {"configMapName": "app-config", "configPatch": {"data": {"DATABASE_URL": "postgres://db:5432/app"}}}
    ops.remediation("config-worker", "worker", "update_config", error_type="config_issue", parameters=params)
    pending = ops.wait_phase("remediations", "config-worker", "PendingApproval")
    check("ActionNotAutoApplicable" in pending["status"]["reasons"], pending["status"])
    holds_for(
        lambda: "DATABASE_URL" not in (ops.core.read_namespaced_config_map("app-config", namespace).data or {}),
        2,
        "the ConfigMap unchanged before approval",
    )

    ops.approve("config-worker")
    done = ops.wait_phase("remediations", "config-worker", "Succeeded", "Failed", "Skipped", timeout=40)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    data = ops.core.read_namespaced_config_map("app-config", namespace).data
    check(data == {"LOG_LEVEL": "info", "DATABASE_URL": "postgres://db:5432/app"}, f"ConfigMap data {data}")
    check(
        "kubectl.kubernetes.io/restartedAt" in _template_annotations(ops.get_deployment("worker")),
        "no restartedAt annotation on the template",
    )


def test_notify_changes_nothing_and_warns_on_the_remediation(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)  # notify needs no approval even at threshold 1.0
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("legacy", 1, memory="128Mi")
    before = ops.get_deployment("legacy")

    ops.remediation(
        "tell-someone",
        "legacy",
        "notify",
        error_type="permission_denied",
        parameters={"note": "the service account lacks get on secrets"},
    )
    done = ops.wait_phase("remediations", "tell-someone", "Succeeded", "Failed", "Skipped", timeout=30)
    check(done["status"]["reason"] == "NotifiedHuman", f"ended {done['status']}")
    check("lacks get on secrets" in done["status"]["message"], done["status"]["message"])
    after = ops.get_deployment("legacy")
    check(after["metadata"]["generation"] == before["metadata"]["generation"], "notify changed the Deployment")
    events = wait_for(
        lambda: [
            e
            for e in ops.events_for("tell-someone", "Remediation")
            if e["type"] == "Warning" and e["reason"] == "NotifiedHuman"
        ],
        10,
        "a Warning Event on the Remediation",
    )
    check("lacks get on secrets" in events[0]["message"], events[0]["message"])
