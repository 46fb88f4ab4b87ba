"""`helm install`, `upgrade` and `uninstall` of the chart for real against the local control plane: the release
takes over CRDs that kubectl created (the upgrade path from chart 0.1.x, as docs/deploy.md describes it),
the cluster-default RemediationPolicy arrives after its CRD, and uninstall keeps the CRDs."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.cluster import ADMISSION, Cluster
from tests.fixtures.helm import CHART, helm_binary

pytestmark = pytest.mark.integration

CRD_NAMES = [
    "errorevents.remediator.dev", "remediations.remediator.dev", "remediationpolicies.remediator.dev",
    "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev",
]  # fmt: skip


class Helm:
    def __init__(self, cluster: Cluster, release: str, namespace: str) -> None:
        self.cluster, self.release, self.namespace = cluster, release, namespace

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(helm_binary()), *args, "--kubeconfig", str(self.cluster.kubeconfig), "-n", self.namespace]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        if check:
            assert out.returncode == 0, f"helm {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out

    def upgrade_install(self, *sets: str) -> None:
        args = ["upgrade", "--install", self.release, str(CHART), "--create-namespace", "--timeout", "2m"]
        for s in sets:
            args += ["--set-json", s]  # --set would keep 0.8 a string
        self(*args)


def _get(cluster: Cluster, *ref: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", *ref, "-o", "json").stdout)


@pytest.fixture
def helm(cluster: Cluster) -> Iterator[Helm]:
    helm_binary()
    suffix = uuid.uuid4().hex[:8]
    h = Helm(cluster, f"kri-{suffix}", f"chart-i-{suffix}")
    # What docs/deploy.md tells 0.1.x users to do: mark the kubectl-created CRDs as this release's.
    for crd in CRD_NAMES:
        cluster.kubectl("label", "crd", crd, "app.kubernetes.io/managed-by=Helm", "--overwrite")
        cluster.kubectl(
            "annotate", "crd", crd, f"meta.helm.sh/release-name={h.release}",
            f"meta.helm.sh/release-namespace={h.namespace}", "--overwrite",
        )  # fmt: skip
    # The session's cluster has the approval admission policy from manifests/admission: adopted the same way.
    policy_file = str(ADMISSION / "remediator-approval.yaml")
    cluster.kubectl("label", "-f", policy_file, "app.kubernetes.io/managed-by=Helm", "--overwrite")
    cluster.kubectl(
        "annotate", "-f", policy_file, f"meta.helm.sh/release-name={h.release}",
        f"meta.helm.sh/release-namespace={h.namespace}", "--overwrite",
    )  # fmt: skip
    try:
        yield h
    finally:
        h("uninstall", h.release, "--ignore-not-found", check=False)
        cluster.kubectl("delete", "namespace", h.namespace, "--wait=false", "--ignore-not-found", check=False)
        # Uninstall removed the policy; the tests after this one need it, as the session fixture made it.
        cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ADMISSION))


def test_install_upgrade_uninstall(cluster: Cluster, helm: Helm) -> None:
    helm.upgrade_install("defaultPolicy.autoApplyThreshold=0.8")
    for crd in CRD_NAMES:
        meta = _get(cluster, "crd", crd)["metadata"]
        assert meta["annotations"]["meta.helm.sh/release-name"] == helm.release
        assert meta["annotations"]["helm.sh/resource-policy"] == "keep"
    policy = _get(cluster, "-n", helm.namespace, "remediationpolicy", "cluster-default")
    assert policy["spec"]["autoApplyThreshold"] == 0.8

    # An upgrade changes the policy (the hook replaces it) and leaves the CRDs the release's.
    helm.upgrade_install("defaultPolicy.autoApplyThreshold=0.85")
    policy = _get(cluster, "-n", helm.namespace, "remediationpolicy", "cluster-default")
    assert policy["spec"]["autoApplyThreshold"] == 0.85
    manifest = helm("get", "manifest", helm.release).stdout
    assert manifest.count("kind: CustomResourceDefinition") == len(CRD_NAMES)
    assert manifest.count("kind: ValidatingAdmissionPolicyBinding") == 4, "the approval and feedback admission policy"

    helm("uninstall", helm.release)
    for crd in CRD_NAMES:  # kept, and with them every custom object of the session
        cluster.kubectl("get", "crd", crd)
