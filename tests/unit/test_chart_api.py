"""`helm template` of the chart's HTTP API (`api.*`, templates/api.yaml): off by default; when on, its own
Deployment (2 replicas, probes, resources, the operator's securityContext), Service, NetworkPolicy, optional
Ingress with TLS, and RBAC that is TokenReview + SubjectAccessReview + impersonate and nothing else."""

from __future__ import annotations

from typing import Any

from tests.fixtures.helm import helm_template, rendered_objects

ON = ["api.enabled=true"]
NAME = "kr-kube-remediator-api"


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects if o["metadata"]["name"] == NAME}


def test_off_by_default() -> None:
    assert not [o for o in rendered_objects() if o["metadata"]["name"].endswith("-api")]


def test_the_deployment_is_like_the_operators() -> None:
    objects = rendered_objects(*ON)
    api = _by_kind(objects)
    assert set(api) == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service",
                        "PodDisruptionBudget", "NetworkPolicy"}  # fmt: skip
    operator = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] != NAME)
    dep = api["Deployment"]
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    [c] = pod["containers"]
    [op] = operator["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["api"] and c["image"] == op["image"]
    assert c["securityContext"] == op["securityContext"]
    assert pod["securityContext"] == operator["spec"]["template"]["spec"]["securityContext"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["REMEDIATOR_API_HOST"] == "0.0.0.0" and env["REMEDIATOR_API_PORT"] == "8000"
    assert env["REMEDIATOR_API_RATE"] == "20" and env["REMEDIATOR_API_BURST"] == "40"
    assert pod["serviceAccountName"] == NAME
    selector = dep["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == "api"
    assert api["Service"]["spec"]["selector"] == selector
    assert api["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"] == selector
    # the operator's Service and NetworkPolicy do not select the API Pods, nor the other way round
    assert operator["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "operator"


def test_rbac_is_review_and_impersonate_only() -> None:
    role = _by_kind(rendered_objects(*ON))["ClusterRole"]
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]}
    assert rules == {
        (("authentication.k8s.io",), ("tokenreviews",), ("create",)),
        (("authorization.k8s.io",), ("subjectaccessreviews",), ("create",)),
        (("",), ("users", "groups", "serviceaccounts"), ("impersonate",)),
    }
    # in particular nothing on remediator.dev: never remediations/status, which would exempt it from admission
    assert not any("remediator.dev" in r["apiGroups"] for r in role["rules"])


def test_network_policy_admits_callers_on_the_api_port_and_egress_to_the_api_server_and_dns() -> None:
    pol = _by_kind(rendered_objects(*ON, "api.networkPolicy.clientCidrs={10.1.0.0/16}"))["NetworkPolicy"]["spec"]
    [ingress] = pol["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert {"ipBlock": {"cidr": "10.1.0.0/16"}} in ingress["from"]
    ports = sorted(p["port"] for rule in pol["egress"] for p in rule["ports"])
    assert ports == [53, 53, 443, 6443]


def test_ingress_with_tls_and_in_pod_tls() -> None:
    objects = rendered_objects(
        *ON, "api.ingress.enabled=true", "api.ingress.host=remediator.example.com", "api.ingress.tlsSecret=api-tls",
        "api.ingress.className=nginx", "api.tls.secretName=api-pod-tls",
    )  # fmt: skip
    api = _by_kind(objects)
    ing = api["Ingress"]["spec"]
    assert ing["tls"] == [{"hosts": ["remediator.example.com"], "secretName": "api-tls"}]
    assert ing["ingressClassName"] == "nginx"
    assert ing["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == NAME
    [c] = api["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert c["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["REMEDIATOR_API_TLS_CERT"].endswith("tls.crt")


def test_tls_on_the_ingress_needs_a_host_and_unknown_keys_fail() -> None:
    out = helm_template(*ON, "api.ingress.enabled=true", "api.ingress.tlsSecret=api-tls", check=False)
    assert out.returncode != 0 and "api.ingress.host is required" in out.stderr
    out = helm_template(*ON, "api.replica=3", check=False)
    assert out.returncode != 0 and "replica" in out.stderr
