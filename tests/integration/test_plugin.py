"""`kubectl remediator` as a subprocess against the local control plane, with the operator running.

The plugin runs as the user: impersonated with --as (the fixture's kubeconfig is cluster-admin, which may
impersonate). `alice` holds kube-remediator-approver + kube-remediator-requester and the built-in `edit` role
in the test namespace; `mallory` holds kube-remediator-requester only. RBAC and the admission policies, not
the plugin, decide what each may do; the plugin must make that visible and change nothing on a refusal.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from remediator import api
from remediator_dev.devcluster import binaries
from tests.fixtures.cluster import REPO, Cluster
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
RBAC_GROUP = "rbac.authorization.k8s.io"
PLUGIN = [sys.executable, "-m", "remediator.plugin"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR")}
    # the worktree's packages, whether or not pytest was started with PYTHONPATH
    paths = [str(REPO / "operator"), str(REPO / "model"), str(REPO / "dev"), str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Plugin:
    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster, self.namespace = cluster, namespace

    def __call__(
        self, *args: str, user: str | None = None, argv0: list[str] | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        who = ["--as", user] if user else []
        argv = [*(argv0 or PLUGIN), "--kubeconfig", str(self.cluster.kubeconfig), "-n", self.namespace, *who, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env or _env(), cwd=REPO)


@pytest.fixture
def plugin(cluster: Cluster, namespace: str) -> Plugin:
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for user, role in (
        ("alice", "kube-remediator-approver"),
        ("alice", "kube-remediator-requester"),
        ("alice", "edit"),
        ("mallory", "kube-remediator-requester"),
    ):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"{user}-{role}"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}],
            },
        )

    def effective() -> bool:  # RoleBindings reach the authorizer's cache asynchronously
        for user, verb, resource in (
            ("alice", "approve", "remediations.remediator.dev"),
            ("alice", "patch", "deployments.apps"),
            ("mallory", "list", "remediations.remediator.dev"),
        ):
            out = cluster.kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", user, check=False)
            if out.stdout.strip() != "yes":
                return False
        return True

    wait_for(effective, 30, "the RoleBindings of alice and mallory in effect")
    return Plugin(cluster, namespace)


@pytest.fixture
def pending(run_operator: OperatorFactory, ops: Ops, namespace: str) -> str:
    """A healthy Deployment `app` (64Mi) and a Remediation `grow` raising its memory, waiting for approval."""
    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    ops.remediation("grow", "app", "increase_memory", error_type="oom", confidence=0.8)
    ops.wait_phase("remediations", "grow", "PendingApproval")
    return "grow"


def _annotations(ops: Ops, name: str) -> dict[str, str]:
    return dict(((ops.get("remediations", name) or {}).get("metadata") or {}).get("annotations") or {})


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- list ---------------------------------------------------------------------------------------------------
def test_list_shows_the_pending_proposal_first(plugin: Plugin, ops: Ops, pending: str) -> None:
    # A newer Remediation, alphabetically first, that is already final: pending still comes first.
    ops.deployment("other", 1)
    ops.remediation("aaa-done", "other", "restart_pod", confidence=0.7)
    ops.wait_phase("remediations", "aaa-done", "PendingApproval")
    ops.reject("aaa-done")
    ops.wait_phase("remediations", "aaa-done", "Rejected")

    result = plugin("list", user="mallory")
    assert result.returncode == 0, result.stderr
    header, first, second = result.stdout.splitlines()
    assert header.split() == [
        "NAMESPACE",
        "NAME",
        "TARGET",
        "ACTION",
        "CONFIDENCE",
        "PHASE",
        "REASON",
        "AGE",
        "EVIDENCE",
    ]
    assert first.split()[1:7] == [
        "grow",
        "Deployment/app",
        "increase_memory",
        "0.80",
        "PendingApproval",
        "UserProposal",
    ]
    assert second.split()[1] == "aaa-done" and "Rejected" in second.split()
    assert header.index("PHASE") == first.index("PendingApproval") == second.index("Rejected")  # aligned
    evidence = (ops.get("remediations", "grow") or {})["status"]["evidence"][0].split("\n")[0]
    assert first.endswith(evidence[:40]) or evidence[:40] in first
    assert "\x1b" not in result.stdout  # not a terminal: no colour

    as_json = plugin("list", "-o", "json", user="mallory")
    doc = json.loads(as_json.stdout)
    assert [i["metadata"]["name"] for i in doc["items"]] == ["grow", "aaa-done"]
    as_yaml = yaml.safe_load(plugin("list", "-o", "yaml", user="mallory").stdout)
    assert [i["metadata"]["name"] for i in as_yaml["items"]] == ["grow", "aaa-done"]


def test_kubectl_finds_the_plugin_in_path(plugin: Plugin, pending: str, tmp_path: Path) -> None:
    """`kubectl remediator ...` runs any `kubectl-remediator` in PATH: here a wrapper for this worktree (the
    installed console script of the same name is what `pip install` puts in PATH)."""
    wrapper = tmp_path / "bin" / "kubectl-remediator"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m remediator.plugin "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    kubectl = binaries.bin_dir() / "kubectl"
    env = {**_env(), "PATH": f"{wrapper.parent}{os.pathsep}{kubectl.parent}{os.pathsep}/usr/bin:/bin"}
    listed = subprocess.run([str(kubectl), "plugin", "list"], capture_output=True, text=True, env=env, timeout=30)
    assert str(wrapper) in listed.stdout, listed.stdout + listed.stderr
    result = plugin("list", user="alice", argv0=[str(kubectl), "remediator"], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[1] == "grow"


# -- explain ------------------------------------------------------------------------------------------------
def test_explain_before_and_after_applying(plugin: Plugin, ops: Ops, pending: str) -> None:
    before = plugin("explain", pending, user="alice")
    assert before.returncode == 0, before.stderr
    for expected in (
        "Remediation ",
        "Policy gates and reasons",
        "- BelowThreshold",
        "Change (planned, not applied)",
        "-  memory: 64Mi",
        "+  memory: 96Mi",
        "PATCH Deployment/app",
        "waiting for a human",
        f"kubectl remediator approve {pending}",
    ):
        assert expected in before.stdout, f"{expected!r} not in:\n{before.stdout}"
    planned = json.loads(plugin("explain", pending, "-o", "json", user="alice").stdout)["plannedChange"]
    assert planned["after"]["limits"]["memory"] == "96Mi" and planned["patches"], planned

    approved = plugin("approve", pending, "--wait", "40", user="alice")
    assert approved.returncode == 0, approved.stderr
    ops.wait_phase("remediations", pending, *FINAL, timeout=40)
    after = plugin("explain", pending, user="alice")
    for expected in (
        "Change (applied: Deployment/app)",
        "+  memory: 96Mi",
        "Outcome",
        "Result:",
        "approved by alice",
    ):
        assert expected in after.stdout, f"{expected!r} not in:\n{after.stdout}"
    assert "Change (planned" not in after.stdout


def test_explain_shows_the_classification_of_the_errorevent(plugin: Plugin, ops: Ops, pending: str) -> None:
    ops.deployment("web", 1)
    ops.errorevent(
        "web-crash",
        {
            "target": {"kind": "Deployment", "name": "web"},
            "message": "container app exited with code 1",
            "reason": "CrashLoopBackOff",
            "exitCode": 1,
            "source": "api",
        },
    )

    def remediation_name() -> str | None:
        status = (ops.get("errorevents", "web-crash") or {}).get("status") or {}
        return (status.get("remediationRef") or {}).get("name")

    name = wait_for(remediation_name, 60, "a Remediation for the ErrorEvent")
    ops.wait_phase("remediations", name, "PendingApproval", *FINAL, timeout=30)
    ee = ops.get("errorevents", "web-crash") or {}
    classification = ee["status"]["classification"]
    out = plugin("explain", name, user="alice")
    assert out.returncode == 0, out.stderr
    assert "ErrorEvent:   web-crash (source api" in out.stdout, out.stdout
    assert f"Type:         {classification['errorType']} (" in out.stdout, out.stdout
    assert "Reported:     container app exited with code 1" in out.stdout
    doc = json.loads(plugin("explain", name, "-o", "json", user="alice").stdout)
    assert doc["errorEvent"]["metadata"]["name"] == "web-crash"


# -- approve / reject ---------------------------------------------------------------------------------------
def test_approve_records_the_approver_and_the_remediation_proceeds(plugin: Plugin, ops: Ops, pending: str) -> None:
    generation = str((ops.get("remediations", pending) or {})["metadata"]["generation"])
    result = plugin("approve", pending, "--generation", generation, user="alice")
    assert result.returncode == 0, result.stderr
    assert f"remediation.remediator.dev/{pending} approved by alice (generation {generation}" in result.stdout
    done = ops.wait_phase("remediations", pending, *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    check(done["status"]["approvedBy"] == "alice", done["status"])
    check(done["status"]["approval"]["by"] == "alice", done["status"])
    check(ops.memory_limit("app") == "96Mi", ops.memory_limit("app"))


def test_a_user_without_the_approve_verb_is_refused_clearly_and_nothing_changes(
    plugin: Plugin, ops: Ops, pending: str
) -> None:
    before = _annotations(ops, pending)
    for verb in ("approve", "reject"):
        result = plugin(verb, pending, user="mallory")
        assert result.returncode == 1, result
        line = _one_line_error(result)
        assert "the cluster refused to" in line and "'approve' remediations.remediator.dev" in line, line
        assert "'mallory' is not" in line and "kube-remediator-approver" in line, line
        assert result.stdout == ""
    assert _annotations(ops, pending) == before
    holds_for(
        lambda: ops.phase("remediations", pending) == "PendingApproval" and ops.memory_limit("app") == "64Mi",
        3,
        "nothing approved, nothing applied",
    )


def _service_account_kubeconfig(cluster: Cluster, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig with a real ServiceAccount token (TokenRequest API), no impersonation: the user's own
    credentials, as a person's kubeconfig holds them. Its context's namespace is the test namespace."""
    core = client.CoreV1Api(cluster.api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    request = {"spec": {"audiences": [], "expirationSeconds": 600}}
    token = core.create_namespaced_service_account_token(name, namespace, request).status.token
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    server = next(c for c in admin["clusters"] if c["name"] == context["cluster"])["cluster"]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "sa",
                "clusters": [{"name": "sa", "cluster": server}],
                "contexts": [{"name": "sa", "context": {"cluster": "sa", "user": "sa", "namespace": namespace}}],
                "users": [{"name": "sa", "user": {"token": token}}],
            }
        )
    )
    return path


def test_a_service_account_approves_in_its_own_name_and_cannot_borrow_another(
    plugin: Plugin, ops: Ops, namespace: str, pending: str, tmp_path: Path
) -> None:
    """With its own token (no --as): the approver is whoever the API server authenticates (SelfSubjectReview),
    the namespace comes from the context, and --as someone else is the API server's to refuse."""
    kubeconfig = _service_account_kubeconfig(plugin.cluster, namespace, "carol", tmp_path / "carol.yaml")
    carol = f"system:serviceaccount:{namespace}:carol"
    rbac = client.RbacAuthorizationV1Api(plugin.cluster.api)
    for role in ("kube-remediator-approver", "kube-remediator-requester"):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"carol-{role}"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": "carol", "namespace": namespace}],
            },
        )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PLUGIN, "--kubeconfig", str(kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
            cwd=REPO,
        )

    wait_for(lambda: run("list").returncode == 0, 30, "carol's RoleBindings in effect")
    borrowed = run("approve", pending, "--as", "alice")
    assert borrowed.returncode == 1 and "impersonate" in _one_line_error(borrowed), borrowed.stderr
    assert api.APPROVE not in _annotations(ops, pending)

    approved = run("approve", pending, "--wait", "40")
    assert approved.returncode == 0, approved.stderr
    done = ops.wait_phase("remediations", pending, *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded" and done["status"]["approvedBy"] == carol, done["status"])
    assert _annotations(ops, pending).get(api.APPROVER, carol) == carol


def test_reject_with_a_reason_lands_in_status(plugin: Plugin, ops: Ops, pending: str) -> None:
    result = plugin("reject", pending, "--reason", "the sidecar is the one that OOMs", user="alice")
    assert result.returncode == 0, result.stderr
    done = ops.wait_phase("remediations", pending, *FINAL)
    check(done["status"]["phase"] == "Rejected", done["status"])
    check(done["status"]["message"] == "rejected by alice: the sidecar is the one that OOMs", done["status"])
    check(done["status"]["approval"]["by"] == "alice", done["status"])
    holds_for(lambda: ops.memory_limit("app") == "64Mi", 2, "the Deployment unchanged")


def test_nobody_but_an_approver_can_write_a_rejection_reason(plugin: Plugin, ops: Ops, pending: str) -> None:
    """Planting words for a later rejection (or a fake one) is an approval-annotation change: refused."""
    result = plugin.cluster.kubectl(
        "annotate",
        "-n",
        plugin.namespace,
        "remediation",
        pending,
        f"{api.REJECT_REASON}=approved by the CTO",
        "--as",
        "mallory",
        check=False,
    )
    assert result.returncode != 0 and "may only be changed by a user allowed to 'approve'" in result.stderr
    assert api.REJECT_REASON not in _annotations(ops, pending)


def test_a_stale_review_is_refused_before_anything_is_sent(plugin: Plugin, ops: Ops, pending: str) -> None:
    generation = int((ops.get("remediations", pending) or {})["metadata"]["generation"])
    ops.cluster.kubectl(
        "patch",
        "-n",
        plugin.namespace,
        "remediation",
        pending,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"parameters": {"memoryLimit": "200Mi"}}}),
    )
    result = plugin("approve", pending, "--generation", str(generation), user="alice")
    assert result.returncode == 1
    assert f"you reviewed generation {generation}, but remediation {pending} is at generation" in result.stderr
    assert api.APPROVE not in _annotations(ops, pending)


# -- feedback ----------------------------------------------------------------------------------------------
def test_feedback_incorrect_with_the_right_action_lands_in_status(plugin: Plugin, ops: Ops, pending: str) -> None:
    result = plugin("feedback", pending, "incorrect", "--action", "notify", "--wait", "30", user="alice")
    assert result.returncode == 0, result.stderr
    judgments = (ops.get("remediations", pending) or {})["status"]["judgments"]
    mine = [j for j in judgments if j["by"] == "alice"]
    check(len(mine) == 1 and mine[0]["label"] == "incorrect" and mine[0]["correctAction"] == "notify", judgments)
    check(mine[0]["verified"] is True, mine)
    assert _annotations(ops, pending)[api.FEEDBACK_BY] == "alice"


def test_an_unknown_action_is_refused_locally_and_nothing_is_patched(plugin: Plugin, ops: Ops, pending: str) -> None:
    def users_part(rem: dict[str, Any]) -> tuple[Any, Any]:
        # What the plugin would write: the spec and the feedback annotations. Not resourceVersion: the
        # operator's own status writes (notifications, kopf's progress) move it meanwhile.
        annotations = rem["metadata"].get("annotations") or {}
        return rem["spec"], {k: v for k, v in annotations.items() if k.startswith("remediator.dev/")}

    before = users_part(ops.get("remediations", pending) or {})
    result = plugin("feedback", pending, "incorrect", "--action", "reboot", user="alice")
    assert result.returncode == 2
    assert "'reboot' is not an action; use one of" in _one_line_error(result)
    time.sleep(1)
    assert users_part(ops.get("remediations", pending) or {}) == before


# -- pause / resume ---------------------------------------------------------------------------------------
def test_pause_makes_the_operator_skip_the_workload_and_resume_undoes_it(
    plugin: Plugin, ops: Ops, pending: str
) -> None:
    ops.deployment("web", 1)
    result = plugin("pause", "deployment/web", user="alice")
    assert result.returncode == 0, result.stderr
    assert "deployment/web in namespace" in result.stdout and "paused" in result.stdout
    assert ops.get_deployment("web")["metadata"]["annotations"][api.IGNORE] == "true"

    ops.remediation("restart-web", "web", "restart_pod", confidence=0.99)
    done = ops.wait_phase("remediations", "restart-web", *FINAL)
    check(done["status"]["phase"] == "Skipped" and done["status"]["reason"] == "OptedOut", done["status"])

    result = plugin("resume", "deployment/web", user="alice")
    assert result.returncode == 0, result.stderr
    assert api.IGNORE not in (ops.get_deployment("web")["metadata"].get("annotations") or {})


def test_pausing_a_namespace_without_the_right_is_forbidden_and_changes_nothing(
    plugin: Plugin, ops: Ops, namespace: str
) -> None:
    result = plugin("pause", user="mallory")
    assert result.returncode == 1
    line = _one_line_error(result)
    assert line.startswith(f"error: you may not get namespace {namespace}") or "you may not" in line, line
    ns = client.CoreV1Api(plugin.cluster.api).read_namespace(namespace)
    assert api.IGNORE not in (ns.metadata.annotations or {})


# -- errors that say what to do -------------------------------------------------------------------------------
def test_errors_are_one_sentence_with_the_exit_code_scripts_test(plugin: Plugin, tmp_path: Path) -> None:
    missing = plugin("explain", "no-such-remediation", user="alice")
    assert missing.returncode == 1
    assert f"there is no remediation no-such-remediation in namespace {plugin.namespace}" in _one_line_error(missing)

    no_config = subprocess.run(
        [*PLUGIN, "--kubeconfig", str(tmp_path / "nope"), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
    )
    assert no_config.returncode == 3 and "pass --kubeconfig FILE" in _one_line_error(no_config)

    no_context = plugin("list", "--context", "no-such-context")
    assert no_context.returncode == 3 and "pick one that `kubectl config get-contexts` lists" in no_context.stderr

    unreachable = tmp_path / "unreachable.yaml"
    unreachable.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "x",
                "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
                "users": [{"name": "x", "user": {"token": "t"}}],
            }
        )
    )
    down = subprocess.run(
        [*PLUGIN, "--kubeconfig", str(unreachable), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
    )
    assert down.returncode == 3 and "cannot reach the API server at https://127.0.0.1:1" in _one_line_error(down)

    unknown = plugin("list", "--as", "nobody-at-all", user=None)
    # an unknown user has no rights at all: forbidden, not a crash
    assert unknown.returncode == 1 and "you may not list remediations" in _one_line_error(unknown)
