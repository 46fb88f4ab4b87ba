"""The action follows from what the cluster shows, not from the text alone (domain/evidence.py), against the
real operator, API server and controllers: a crash right after a rollout is rolled back by itself; the same
crash with nothing to go back to is notified, not proposed; a timeout without saturated replicas notifies, naming the
dependency; a missing Secret is notified, naming it, and one of another namespace is never named."""

from __future__ import annotations

import time
from typing import Any

import pytest

from remediator.adapters.usage import PodUsage
from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"autoApplyThreshold": 0.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
DECIDED = ("PendingApproval", "Approved", "Applying", "Verifying", *FINAL)
TIMEOUT = 'Get "http://payments.shop.svc:8080/charge": context deadline exceeded'


def _image(ops: Ops, name: str) -> str:
    return str(ops.get_deployment(name)["spec"]["template"]["spec"]["containers"][0]["image"])


def _claim_timeout(ops: Ops, target: str) -> None:
    ops.errorevent(
        "slow",
        {
            "target": {"kind": "Deployment", "name": target},
            "reason": "Error",
            "exitCode": 1,
            "source": "api",
            "message": TIMEOUT,
        },
    )


def _first_remediation(ops: Ops) -> dict[str, Any]:
    rem = wait_for(lambda: next(iter(ops.items("remediations")), None), 40, "a Remediation")
    return ops.wait_phase("remediations", rem["metadata"]["name"], *DECIDED)


def test_a_crash_right_after_a_rollout_is_rolled_back_by_itself(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**FAST, evidence={"previousHealthySeconds": 5})
    ops.deployment("web", 1)
    ops.running_pods("web", 1)
    time.sleep(6)  # revision 1 serves longer than previousHealthySeconds
    run_operator(namespace)
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"sim.remediator.dev/fail": "crashloop"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:2.0"}]},
            }
        }
    }
    ops.apps.patch_namespaced_deployment("web", namespace, patch)
    rem = _first_remediation(ops)
    status = rem["status"]
    check(rem["spec"]["action"] == "rollback" and status.get("approvedBy") == "policy", status)
    check(any("rolled out" in e and "revision 1 ran" in e for e in status.get("evidence") or []), status)
    done = ops.wait_phase("remediations", rem["metadata"]["name"], *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    check(_image(ops, "web") == "registry.example/app:1.0", f"image now {_image(ops, 'web')}")


def _decided(status: dict[str, Any]) -> str:
    """The decision's message: the Approved condition's (it stays when the phase moves on)."""
    return next((c["message"] for c in status.get("conditions", []) if c.get("type") == "Approved"), "")


def test_the_same_crash_without_an_earlier_revision_notifies_instead_of_proposing_a_rollback(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**FAST)
    run_operator(namespace)
    ops.deployment("web", 1, fail="crashloop")
    rem = _first_remediation(ops)
    status = rem["status"]
    # Approved, a rollback could only end "no revision before 1": the operator says so and notifies.
    # A notify is decided and done within milliseconds: read the decision's reasons and its Approved condition,
    # not the phase's reason, which may already be the notify's own (NotifiedHuman).
    check(rem["spec"]["action"] == "notify" and "NoPreviousRevision" in status.get("reasons", []), status)
    check("no earlier revision to roll back to" in _decided(status), status)
    holds_for(lambda: _image(ops, "web") == "registry.example/app:1.0", 3, "the Deployment untouched")


def test_a_timeout_without_saturated_replicas_notifies_naming_the_dependency(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**FAST)
    run_operator(namespace, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    ops.deployment("checkout", 2)
    ops.running_pods("checkout", 2)
    _claim_timeout(ops, "checkout")
    rem = _first_remediation(ops)
    done = ops.wait_phase("remediations", rem["metadata"]["name"], *FINAL)
    status = done["status"]
    check(done["spec"]["action"] == "notify" and done["spec"]["errorType"] == "timeout", done["spec"])
    check("NoSaturation" in status.get("reasons", []), status)
    check(any("payments.shop.svc:8080" in e for e in status.get("evidence") or []), status)
    check(ops.get_deployment("checkout")["spec"]["replicas"] == 2, "replicas changed")


def test_a_timeout_with_saturated_replicas_scales_up(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    metrics_cluster: Cluster,
) -> None:
    ops.policy(**FAST)
    run_operator(namespace, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    # 60Mi of a 64Mi limit on both replicas, as metrics.k8s.io reports it (simulated by kwok).
    ops.deployment(
        "checkout",
        2,
        memory="64Mi",
        template_annotations={"sim.remediator.dev/memory-usage": "60Mi", "sim.remediator.dev/cpu-usage": "200m"},
    )
    pods = {p["metadata"]["name"] for p in ops.running_pods("checkout", 2)}
    reader = PodUsage(metrics_cluster.kube_api)
    wait_for(
        lambda: pods <= set((reader.read(namespace, "app=checkout") or {}).keys()),
        90,
        "usage of both replicas in metrics.k8s.io",
    )
    _claim_timeout(ops, "checkout")
    rem = _first_remediation(ops)
    status = rem["status"]
    check(rem["spec"]["action"] == "scale_up" and status.get("approvedBy") == "policy", status)
    check(any("2/2 ready replicas saturated" in e for e in status.get("evidence") or []), status)
    done = ops.wait_phase("remediations", rem["metadata"]["name"], *FINAL, timeout=60)
    check(ops.get_deployment("checkout")["spec"]["replicas"] == 3, f"not scaled: {done['status']}")


def test_a_missing_secret_notifies_naming_it_instead_of_proposing_update_config(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**FAST)
    run_operator(namespace)
    missing = {"sim.remediator.dev/message": 'secret "db-credentials" not found'}
    ops.deployment("api", 1, fail="config", template_annotations=missing)
    rem = _first_remediation(ops)
    status = rem["status"]
    # update_config writes no Secret: approved unchanged it could only end "needs parameters.configPatch".
    check(rem["spec"]["action"] == "notify" and "MissingSecret" in status.get("reasons", []), status)
    check("Secret db-credentials is missing" in _decided(status), status)


def test_a_claim_naming_another_namespaces_secret_names_nothing_of_it(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    """The tenant writes an ErrorEvent about its own Deployment claiming a key of kube-system's Secret is
    missing: the operator neither names that Secret nor proposes anything about it (a Pod only uses its own
    namespace's), and the Deployment is left alone. (A Warning Event of the config family makes no ErrorEvent:
    the Pod's own status reports such failures.)"""
    ops.policy(**FAST)
    run_operator(namespace, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    ops.deployment("api", 1)
    ops.running_pods("api", 1)
    generation = ops.get_deployment("api")["metadata"]["generation"]
    ops.errorevent(
        "forged-config",
        {
            "target": {"kind": "Deployment", "name": "api"},
            "reason": "CreateContainerConfigError",
            "message": "Error: couldn't find key token in Secret kube-system/admin-token",
            "source": "user",
        },
    )
    rem = _first_remediation(ops)
    status = rem["status"]
    check("MissingSecret" not in status.get("reasons", []), status)
    decided = f"{_decided(status)} {' '.join(status.get('evidence') or [])} {rem['spec'].get('parameters') or {}}"
    check("admin-token" not in decided and "kube-system" not in decided, status)
    holds_for(lambda: ops.get_deployment("api")["metadata"]["generation"] == generation, 3, "the Deployment untouched")
