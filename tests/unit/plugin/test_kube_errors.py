"""How the plugin turns API errors into one sentence and an exit code (the API server's answers, recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from remediator.plugin.kube import EXIT_CLUSTER, EXIT_REFUSED, Cluster, Connection, PluginError


def cluster(crds: bool = True) -> Cluster:
    c = Cluster.__new__(Cluster)  # no kubeconfig needed to translate errors
    c.server = "https://127.0.0.1:6443"
    c.crds_installed = lambda: crds  # type: ignore[method-assign]
    return c


def error(status: int, message: str, reason: str = "") -> ApiException:
    err = ApiException(status=status, reason=reason or "Error")
    err.body = json.dumps({"kind": "Status", "message": message, "code": status})
    return err


ADMISSION = (
    'remediations.remediator.dev "grow" is forbidden: ValidatingAdmissionPolicy '
    "'remediator-approval.remediator.dev' with binding 'remediator-approval.remediator.dev' denied request: "
    "remediator.dev/approve, reject, approver, approved-generation and reject-reason may only be changed by a user "
    "allowed to 'approve' remediations.remediator.dev in namespace shop; 'mallory' is not (ask for the "
    "kube-remediator-approver ClusterRole in a RoleBinding)"
)


def test_an_admission_refusal_keeps_the_policys_sentence() -> None:
    out = cluster().translate(error(403, ADMISSION, "Forbidden"), "approve remediation grow in namespace shop")
    assert out.code == EXIT_REFUSED
    assert out.message.startswith("the cluster refused to approve remediation grow in namespace shop: ")
    assert out.message.endswith("'mallory' is not (ask for the kube-remediator-approver ClusterRole in a RoleBinding)")
    assert "ValidatingAdmissionPolicy" not in out.message


def test_rbac_forbidden_says_who_may_not_do_what() -> None:
    rbac = (
        'remediations.remediator.dev is forbidden: User "bob" cannot list resource "remediations" in API group '
        '"remediator.dev" in the namespace "shop"'
    )
    out = cluster().translate(error(403, rbac, "Forbidden"), "list remediations in namespace shop")
    assert out.code == EXIT_REFUSED and out.message.startswith("you may not list remediations in namespace shop")
    assert 'User "bob" cannot list' in out.message and "kubectl auth can-i" in out.message


def test_not_found_and_missing_crds_differ() -> None:
    nf = 'remediations.remediator.dev "x" not found'
    assert cluster(crds=True).translate(error(404, nf), "get remediation x").code == EXIT_REFUSED
    missing = cluster(crds=False).translate(error(404, "the server could not find the requested resource"), "get x")
    assert missing.code == EXIT_CLUSTER and "install the CRDs" in missing.message


@pytest.mark.parametrize(
    ("status", "code", "phrase"),
    [
        (401, EXIT_CLUSTER, "did not accept your credentials"),
        (409, EXIT_REFUSED, "changed since it was read"),
        (422, EXIT_REFUSED, "the API server refused to"),
        (503, EXIT_CLUSTER, "retry when it is healthy"),
        (429, EXIT_CLUSTER, "retry when it is healthy"),
    ],
)
def test_other_statuses(status: int, code: int, phrase: str) -> None:
    out = cluster().translate(error(status, "something"), "approve remediation grow")
    assert out.code == code and phrase in out.message and "\n" not in out.message


def test_a_body_that_is_not_json_still_gives_a_sentence() -> None:
    err = ApiException(status=502, reason="Bad Gateway")
    err.body = "<html>proxy</html>"
    out = cluster().translate(err, "list remediations")
    assert out.code == EXIT_CLUSTER and "502 Bad Gateway" in out.message


def test_a_missing_kubeconfig_and_an_unknown_context(tmp_path: Path) -> None:
    with pytest.raises(PluginError) as missing:
        Cluster(Connection(kubeconfig=str(tmp_path / "nope")))
    assert missing.value.code == EXIT_CLUSTER and "pass --kubeconfig FILE" in missing.value.message
    config = tmp_path / "config"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "a",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    with pytest.raises(PluginError) as unknown:
        Cluster(Connection(kubeconfig=str(config), context="b"))
    assert unknown.value.code == EXIT_CLUSTER and "(it has: a)" in unknown.value.message
    ok = Cluster(Connection(kubeconfig=str(config)))
    assert ok.default_namespace == "shop" and ok.server == "https://127.0.0.1:1"
    ok.close()
