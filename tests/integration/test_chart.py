"""The Helm chart against the local control plane: every rendered object is accepted for real, the RBAC is
least privilege, and the operator really runs on nothing but the chart's ServiceAccount."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.cluster import Cluster
from tests.fixtures.helm import helm_template
from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for

pytestmark = pytest.mark.integration

# The learning loop's values, to see them arrive in both the operator and the training container.
LEARNING = {
    "learning.logsBucket": ("REMEDIATOR_LOGS_BUCKET", "kr-logs"),
    "learning.modelsBucket": ("REMEDIATOR_MODELS_BUCKET", "kr-ml"),
    "learning.modelPollSeconds": ("REMEDIATOR_MODEL_POLL_SECONDS", "90"),
    "learning.retentionDays": ("REMEDIATOR_RETENTION_DAYS", "7"),
}


@dataclass
class Release:
    name: str
    namespace: str
    fullname: str
    objects: list[dict[str, Any]]
    watched: str  # the namespace the rendered operator serves


@pytest.fixture(scope="module")
def release(cluster: Cluster) -> Iterator[Release]:
    """The chart rendered with helm, CRDs included, and applied (for real, not a dry run) into a fresh
    namespace. The session's CRDs came from crds/ with the same field manager, so applying the chart's
    copies of them must be a no-op apart from the keep annotation."""
    suffix = uuid.uuid4().hex[:8]
    name, ns, watched = f"kr-{suffix}", f"chart-{suffix}", f"chart-w-{suffix}"
    rendered = helm_template(
        f"operator.namespaces={{{watched}}}",
        "mongodb.bundled.enabled=true",
        "serviceAccount.roleArn=arn:aws:iam::111122223333:role/operator",
        "training.serviceAccount.roleArn=arn:aws:iam::111122223333:role/training",
        *(f"{key}={value}" for key, (_, value) in LEARNING.items()),
        release=name,
        namespace=ns,
    )
    objects = [o for o in yaml.safe_load_all(rendered.stdout) if o]
    for n in (ns, watched):
        cluster.kubectl("create", "namespace", n)
    try:
        applied = cluster.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=rendered.stdout, check=False)
        assert applied.returncode == 0, f"the API server refused part of the chart:\n{applied.stderr}"
        lines = [line for line in applied.stdout.splitlines() if line.strip()]
        assert len(lines) == len(objects), f"{len(objects)} objects rendered, {len(lines)} applied:\n{applied.stdout}"
        yield Release(name, ns, f"{name}-kube-remediator", objects, watched)
    finally:
        for kind in ("clusterrolebinding", "clusterrole"):
            cluster.kubectl("delete", kind, f"{name}-kube-remediator", "--ignore-not-found", check=False)
        for n in (ns, watched):
            cluster.kubectl("delete", "namespace", n, "--wait=false", check=False)


def _kinds(rel: Release) -> set[str]:
    return {o["kind"] for o in rel.objects}


def test_every_object_is_accepted_and_the_core_ones_exist(cluster: Cluster, release: Release) -> None:
    assert {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service"} <= _kinds(release)
    assert {"PodDisruptionBudget", "NetworkPolicy", "CronJob", "RemediationPolicy", "StatefulSet"} <= _kinds(release)
    assert "CustomResourceDefinition" in _kinds(release)
    ns, full = release.namespace, release.fullname
    for ref in (
        f"deployment/{full}",
        f"serviceaccount/{full}",
        f"service/{full}-metrics",
        f"poddisruptionbudget/{full}",
        "remediationpolicy/cluster-default",
    ):
        cluster.kubectl("get", "-n", ns, ref)
    cluster.kubectl("get", f"clusterrole/{full}")
    sa = json.loads(cluster.kubectl("get", "-n", ns, f"serviceaccount/{full}", "-o", "json").stdout)
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/operator")
    dep = json.loads(cluster.kubectl("get", "-n", ns, f"deployment/{full}", "-o", "json").stdout)
    pod = dep["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert dep["spec"]["replicas"] == 2
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    assert env["REMEDIATOR_NAMESPACES"]["value"] == release.watched
    assert "REMEDIATOR_MONGODB_URI" in env
    cron = json.loads(cluster.kubectl("get", "-n", ns, f"cronjob/{full}-training", "-o", "json").stdout)
    [training] = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    training_env = {e["name"]: e for e in training["env"]}
    for var, value in LEARNING.values():
        assert env[var]["value"] == value, var
        assert training_env[var]["value"] == value, var
    assert training_env["REMEDIATOR_MONGODB_URI"] == env["REMEDIATOR_MONGODB_URI"]
    for crd in (o for o in release.objects if o["kind"] == "CustomResourceDefinition"):
        live = json.loads(cluster.kubectl("get", f"crd/{crd['metadata']['name']}", "-o", "json").stdout)
        assert live["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_cluster_role_has_no_wildcards_and_no_secrets(cluster: Cluster, release: Release) -> None:
    role = json.loads(cluster.kubectl("get", f"clusterrole/{release.fullname}", "-o", "json").stdout)
    for rule in role["rules"]:
        for field in ("verbs", "resources", "apiGroups"):
            assert "*" not in rule.get(field, []), f"wildcard in {field}: {rule}"
        assert "secrets" not in rule.get("resources", []), rule
        assert not rule.get("nonResourceURLs"), rule


def _can(cluster: Cluster, release: Release, verb: str, resource: str, namespace: str | None = None) -> bool:
    sa = f"system:serviceaccount:{release.namespace}:{release.fullname}"
    resource, _, sub = resource.partition("/")  # kubectl reads "pods/x" as the Pod named x
    args = ["auth", "can-i", verb, resource, f"--as={sa}"] + ([f"--subresource={sub}"] if sub else [])
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    out = cluster.kubectl(*args, check=False)
    return out.stdout.strip() == "yes"


ALLOWED = [
    ("get", "pods"), ("watch", "pods"), ("get", "pods/log"), ("create", "pods/eviction"),
    ("create", "events"), ("get", "namespaces"), ("patch", "deployments.apps"), ("patch", "statefulsets.apps"),
    ("watch", "deployments.apps"), ("watch", "statefulsets.apps"), ("watch", "daemonsets.apps"),
    ("list", "replicasets.apps"), ("list", "horizontalpodautoscalers.autoscaling"), ("patch", "configmaps"),
    ("watch", "horizontalpodautoscalers.autoscaling"),
    ("watch", "replicasets.apps"), ("watch", "deployments.apps"), ("watch", "daemonsets.apps"),
    ("watch", "namespaces"),
    ("list", "pods.metrics.k8s.io"),
    ("create", "errorevents.remediator.dev"), ("delete", "errorevents.remediator.dev"),
    ("patch", "remediations.remediator.dev/status"), ("list", "remediationpolicies.remediator.dev"),
    ("create", "clusterkopfpeerings.kopf.dev"), ("patch", "kopfpeerings.kopf.dev"),
]  # fmt: skip
DENIED = [
    ("get", "secrets"), ("list", "secrets"), ("watch", "secrets"), ("delete", "pods"), ("create", "pods"),
    ("delete", "deployments.apps"), ("create", "deployments.apps"), ("update", "deployments.apps"),
    ("create", "pods/exec"), ("delete", "remediations.remediator.dev"),
    ("create", "remediationpolicies.remediator.dev"),
    ("create", "clusterroles.rbac.authorization.k8s.io"), ("bind", "clusterroles.rbac.authorization.k8s.io"),
    ("impersonate", "serviceaccounts"), ("create", "serviceaccounts/token"), ("delete", "namespaces"),
    ("patch", "nodes"), ("*", "*"),
]  # fmt: skip


@pytest.mark.parametrize(("verb", "resource"), ALLOWED)
def test_service_account_may_do_what_the_operator_does(
    cluster: Cluster, release: Release, verb: str, resource: str
) -> None:
    assert _can(cluster, release, verb, resource, "default"), f"{verb} {resource} should be allowed"


@pytest.mark.parametrize(("verb", "resource"), DENIED)
def test_service_account_may_do_nothing_more(cluster: Cluster, release: Release, verb: str, resource: str) -> None:
    assert not _can(cluster, release, verb, resource), f"{verb} {resource} must be denied"


def _token_kubeconfig(cluster: Cluster, release: Release, path: Path) -> Path:
    """A kubeconfig that authenticates as the chart's ServiceAccount (a TokenRequest, like a Pod gets)."""
    token = cluster.kubectl(
        "create", "token", release.fullname, "-n", release.namespace, "--duration=1h"
    ).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    ctx = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    clus = next(c for c in admin["clusters"] if c["name"] == ctx["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [clus],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": clus["name"], "user": "sa"}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_operator_runs_on_the_charts_rbac_alone(
    cluster: Cluster, release: Release, run_operator: OperatorFactory, tmp_path: Path
) -> None:
    """`remediator run` with only the ServiceAccount's token: a crashing Deployment still gets its ErrorEvent and
    Remediation, and nothing the operator or kopf asks for is forbidden."""
    kubeconfig = _token_kubeconfig(cluster, release, tmp_path / "sa.kubeconfig")
    op = run_operator(
        release.watched,
        env={"KUBECONFIG": str(kubeconfig), "REMEDIATOR_POLICY_NAMESPACE": release.namespace},
    )
    ops = Ops(cluster, release.watched)
    ops.deployment("crasher", 1, fail="crashloop")
    wait_for(lambda: ops.items("errorevents"), 60, "an ErrorEvent made under the chart's RBAC")
    rem = wait_for(lambda: ops.items("remediations"), 60, "a Remediation made under the chart's RBAC")[0]
    wait_for(lambda: ops.phase("remediations", rem["metadata"]["name"]), 30, "the Remediation's first phase")
    log = op.log()
    for word in ("Forbidden", "forbidden", "Not enough permissions", " 403"):
        check(word not in log, f"the operator hit a permission error ({word!r})")
