"""The Helm chart against the local control plane: every rendered object is accepted for real, the RBAC is
least privilege, and the operator really runs on nothing but the chart's ServiceAccount."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.cluster import REPO, Cluster
from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for
from tests.fixtures.procs import in_ci

pytestmark = pytest.mark.integration

CHART = REPO / "charts" / "kube-remediator"
KUBE_VERSION = "1.34.4"


def _helm() -> Path:
    cache = os.environ.get("REMEDIATOR_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kube-remediator"
    )
    helm = Path(cache) / "bin" / "helm"
    if not helm.exists():
        why = f"helm not found at {helm}: bash hack/build-tools.sh helm"
        if in_ci():
            pytest.fail(why)
        pytest.skip(why)
    return helm


@dataclass
class Release:
    name: str
    namespace: str
    fullname: str
    objects: list[dict[str, Any]]
    watched: str  # the namespace the rendered operator serves


@pytest.fixture(scope="module")
def release(cluster: Cluster) -> Iterator[Release]:
    """The chart rendered with helm and applied (for real, not a dry run) into a fresh namespace."""
    helm = _helm()
    suffix = uuid.uuid4().hex[:8]
    name, ns, watched = f"kr-{suffix}", f"chart-{suffix}", f"chart-w-{suffix}"
    rendered = subprocess.run(
        [
            str(helm), "template", name, str(CHART), "--namespace", ns, "--kube-version", KUBE_VERSION,
            "--set", f"operator.namespaces={{{watched}}}",
            "--set", "mongodb.bundled.enabled=true",
            "--set", "serviceAccount.roleArn=arn:aws:iam::111122223333:role/operator",
            "--set", "training.serviceAccount.roleArn=arn:aws:iam::111122223333:role/training",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
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
    ("list", "replicasets.apps"), ("list", "horizontalpodautoscalers.autoscaling"), ("patch", "configmaps"),
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
