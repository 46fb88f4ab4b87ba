"""The plugin's commands against a recorded fake cluster: what is validated locally (nothing is sent), which
requests the commands make, and the exit codes. The real API server is in tests/integration/test_plugin.py."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from remediator import api
from remediator.plugin import cli
from remediator.plugin.kube import EXIT_CLUSTER, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Connection, PluginError
from remediator.plugin.render import Preview


def remediation(phase: str | None = "PendingApproval", **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {
            "name": "grow",
            "namespace": "shop",
            "generation": 3,
            "resourceVersion": "42",
            "creationTimestamp": "2026-12-02T11:00:00Z",
        },
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.8,
        },
    }
    if phase:
        body["status"] = {"phase": phase, **status}
    return body


class FakeCluster:
    """Records every request; answers from `objects`."""

    default_namespace = "shop"

    def __init__(self, rem: dict[str, Any] | None = None, me: str = "alice", refuse: PluginError | None = None):
        self.rem, self.me, self.refuse = rem, me, refuse
        self.patches: list[tuple[str, str, dict[str, Any]]] = []
        self.targets: dict[tuple[str, str], dict[str, Any]] = {}

    def close(self) -> None:
        pass

    def whoami(self) -> str:
        return self.me

    def remediations(self, namespace: str | None) -> list[dict[str, Any]]:
        return [self.rem] if self.rem else []

    def remediation(self, namespace: str, name: str) -> dict[str, Any]:
        if self.rem is None or name != self.rem["metadata"]["name"]:
            raise PluginError(f"cannot get remediation {name}: not found", EXIT_REFUSED)
        return self.rem

    def errorevent(self, namespace: str, name: str) -> dict[str, Any]:
        raise PluginError("cannot get errorevent: not found", EXIT_REFUSED)

    def preview(self, rem: dict[str, Any]) -> Preview:
        return Preview(description="grow", before={"m": "64Mi"}, after={"m": "96Mi"})

    def patch_remediation(self, namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        if self.refuse:
            raise self.refuse
        self.patches.append((namespace, name, body))
        return {**(self.rem or {}), "patched": body}

    def read_target(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return self.targets.get((kind, name), {"metadata": {"name": name, "resourceVersion": "7"}})

    def patch_target(self, kind: str, namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        self.patches.append((kind, name, body))
        return {"metadata": {"name": name}}


class Run:
    def __init__(self, fake: FakeCluster | None) -> None:
        self.fake, self.connected = fake, False

    def __call__(self, *argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()

        def connect(conn: Connection) -> Any:
            self.connected = True
            if self.fake is None:
                raise PluginError("no kubeconfig at /x: pass --kubeconfig FILE", EXIT_CLUSTER)
            return self.fake

        code = cli.main(list(argv), stdout=out, stderr=err, environ=environ or {}, connect=connect)
        return code, out.getvalue(), err.getvalue()


# -- validated locally: exit 2, nothing sent, not even a connection ------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("feedback", "grow", "incorrect", "--action", "reboot"),
        ("feedback", "grow", "incorrect", "--type", "gremlins"),
        ("feedback", "grow", "maybe"),
        ("feedback", "grow", "correct", "--action", "notify"),
        ("approve", "Grow!"),
        ("approve", "grow", "-n", "Bad_NS"),
        ("approve", "grow", "--generation", "0"),
        ("approve", "grow", "--wait", "-1"),
        ("approve", "grow", "-A"),
        ("reject", "grow", "--reason", "line one\nline two"),
        ("reject", "grow", "--reason", "\x1b[31mred"),
        ("reject", "grow", "--reason", "x" * 513),
        ("reject", "grow", "--reason", "   "),
        ("pause", "replicaset/web"),
        ("pause", "deployment/"),
        ("pause", "web"),
        ("pause", "deployment/Web"),
        ("list", "--as-group", "admins"),
        ("list", "--as", "alice\r\nImpersonate-Group: system:masters"),
        ("list", "--as", ""),
        ("explain",),
        ("frobnicate",),
        ("list", "-o", "xml"),
    ],
)
def test_bad_input_is_a_usage_error_and_sends_nothing(argv: tuple[str, ...]) -> None:
    fake = FakeCluster(remediation())
    run = Run(fake)
    try:
        code, _, err = run(*argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code, err = int(exit_.code or 0), ""
    assert code == EXIT_USAGE, err
    assert not run.connected and fake.patches == []


def test_an_unknown_action_says_which_ones_exist() -> None:
    code, _, err = Run(FakeCluster(remediation()))("feedback", "grow", "incorrect", "--action", "reboot")
    assert code == EXIT_USAGE and err.count("\n") == 1
    assert "'reboot' is not an action; use one of restart_pod, rollback, scale_up" in err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and "0  done" in text and "2  usage" in text and "3  cannot talk" in text
    with pytest.raises(SystemExit):
        cli.main(["approve", "--help"])
    assert "exit codes:" in capsys.readouterr().out


def test_options_are_accepted_before_and_after_the_command() -> None:
    fake = FakeCluster(remediation())
    assert Run(fake)("-n", "shop", "-o", "json", "list")[0] == EXIT_OK
    assert Run(fake)("list", "-n", "shop", "-o", "json")[0] == EXIT_OK


# -- approve / reject -----------------------------------------------------------------------------------
def test_approve_names_the_user_and_binds_generation_and_resource_version() -> None:
    fake = FakeCluster(remediation())
    code, out, _ = Run(fake)("approve", "grow", "-n", "shop")
    assert code == EXIT_OK
    ((ns, name, body),) = fake.patches
    assert (ns, name) == ("shop", "grow")
    assert body == {
        "metadata": {
            "resourceVersion": "42",
            "annotations": {
                api.APPROVE: "true",
                api.REJECT: None,
                api.APPROVER: "alice",
                api.APPROVED_GENERATION: "3",
                api.REJECT_REASON: None,
            },
        }
    }
    assert out.strip() == (
        "remediation.remediator.dev/grow approved by alice (generation 3: increase_memory of Deployment/web)"
    )


def test_reject_with_a_reason() -> None:
    fake = FakeCluster(remediation())
    code, out, _ = Run(fake)("reject", "grow", "--reason", "the sidecar OOMs, not app")
    assert code == EXIT_OK
    annotations = fake.patches[0][2]["metadata"]["annotations"]
    assert annotations[api.REJECT] == "true" and annotations[api.APPROVE] is None
    assert annotations[api.APPROVER] == "alice" and annotations[api.REJECT_REASON] == "the sidecar OOMs, not app"
    assert "rejected by alice" in out and "the sidecar OOMs" in out


def test_a_stale_generation_is_refused_before_sending() -> None:
    fake = FakeCluster(remediation())
    code, _, err = Run(fake)("approve", "grow", "--generation", "2")
    assert code == EXIT_REFUSED and fake.patches == []
    assert "you reviewed generation 2, but remediation grow is at generation 3" in err


@pytest.mark.parametrize("phase", ["Succeeded", "Applying", "Rejected", "Expired"])
def test_only_a_pending_remediation_can_be_decided(phase: str) -> None:
    fake = FakeCluster(remediation(phase))
    code, _, err = Run(fake)("approve", "grow")
    assert code == EXIT_REFUSED and fake.patches == [] and f"grow is {phase}" in err


def test_a_proposed_remediation_without_status_can_be_approved() -> None:
    fake = FakeCluster(remediation(None))
    assert Run(fake)("approve", "grow")[0] == EXIT_OK and len(fake.patches) == 1


def test_a_refusal_from_the_cluster_is_one_sentence_and_exit_1() -> None:
    refusal = PluginError(
        "the cluster refused to approve remediation grow in namespace shop: may only be changed "
        "by a user allowed to 'approve'",
        EXIT_REFUSED,
    )
    code, out, err = Run(FakeCluster(remediation(), refuse=refusal))("approve", "grow")
    assert code == EXIT_REFUSED and out == ""
    assert err.startswith("error: the cluster refused") and err.count("\n") == 1


def test_not_found_says_what_to_do() -> None:
    code, _, err = Run(FakeCluster(None))("explain", "nope", "-n", "shop")
    assert code == EXIT_REFUSED
    assert "there is no remediation nope in namespace shop: `kubectl remediator list -n shop`" in err


def test_no_kubeconfig_is_exit_3() -> None:
    code, _, err = Run(None)("list")
    assert code == EXIT_CLUSTER and "pass --kubeconfig FILE" in err


def test_self_approval_is_sent_with_a_note() -> None:
    fake = FakeCluster(remediation(requestedBy=["alice"]))
    code, _, err = Run(fake)("approve", "grow")
    assert code == EXIT_OK and "you (alice) asked for this change" in err


# -- feedback ----------------------------------------------------------------------------------------------
def test_feedback_names_the_judge_and_clears_corrections_not_given() -> None:
    fake = FakeCluster(remediation("Succeeded"))
    code, out, _ = Run(fake)("feedback", "grow", "incorrect", "--action", "notify")
    assert code == EXIT_OK
    annotations = fake.patches[0][2]["metadata"]["annotations"]
    assert annotations == {
        api.FEEDBACK: "incorrect",
        api.CORRECT_ACTION: "notify",
        api.CORRECT_TYPE: None,
        api.FEEDBACK_BY: "alice",
    }
    assert out.strip() == "remediation.remediator.dev/grow judged incorrect -> notify by alice"


# -- pause / resume ---------------------------------------------------------------------------------------
def test_pause_a_workload_and_resume_clears_a_label_too() -> None:
    fake = FakeCluster()
    code, out, _ = Run(fake)("pause", "deploy/web", "-n", "shop")
    assert code == EXIT_OK and "deployment/web in namespace shop paused" in out
    assert fake.patches[-1] == (
        "Deployment",
        "web",
        {"metadata": {"annotations": {api.IGNORE: "true"}}},
    )
    fake.targets[("Deployment", "web")] = {"metadata": {"labels": {api.IGNORE: "true"}, "resourceVersion": "8"}}
    code, out, _ = Run(fake)("resume", "deployment/web")
    assert code == EXIT_OK and "resumed" in out
    assert fake.patches[-1][2] == {"metadata": {"annotations": {api.IGNORE: None}, "labels": {api.IGNORE: None}}}


def test_pause_without_a_target_pauses_the_namespace() -> None:
    fake = FakeCluster()
    assert Run(fake)("pause", "-n", "shop")[0] == EXIT_OK
    assert fake.patches[-1][:2] == ("Namespace", "shop")


# -- output --------------------------------------------------------------------------------------------------
def test_list_json_parses_and_text_has_no_colour_off_a_tty() -> None:
    fake = FakeCluster(remediation(evidence=["checked"]))
    code, out, _ = Run(fake)("list", "-o", "json")
    assert code == EXIT_OK and json.loads(out)["items"][0]["metadata"]["name"] == "grow"
    code, out, _ = Run(fake)("list")
    assert code == EXIT_OK and "\x1b" not in out and out.splitlines()[1].split()[1] == "grow"
    code, out, _ = Run(fake)("list", "--color", "always")
    assert "\x1b[" in out


def test_explain_json_carries_the_remediation_the_errorevent_problem_and_the_plan() -> None:
    fake = FakeCluster(remediation())
    code, out, _ = Run(fake)("explain", "grow", "-o", "json")
    doc = json.loads(out)
    assert code == EXIT_OK and doc["remediation"]["metadata"]["name"] == "grow"
    assert doc["plannedChange"]["after"] == {"m": "96Mi"} and doc["errorEvent"] is None


def test_text_built_from_cluster_data_is_made_inert() -> None:
    """Even the one-line results: a user name or a status message with escape sequences prints escaped."""
    fake = FakeCluster(remediation(), me="eve\x1b]0;owned\x07")
    code, out, _ = Run(fake)("approve", "grow")
    assert code == EXIT_OK and "\x1b" not in out and "\\x1b]0;owned\\x07" in out


def test_a_conflict_from_a_status_write_is_retried_and_a_moved_generation_is_refused() -> None:
    fake = FakeCluster(remediation())
    conflicts = [PluginError("changed", EXIT_REFUSED, kind="conflict")]
    original = fake.patch_remediation

    def flaky(namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        if conflicts:
            fake.rem["metadata"]["resourceVersion"] = "43"  # type: ignore[index]  # the operator wrote status
            raise conflicts.pop()
        return original(namespace, name, body, what)

    fake.patch_remediation = flaky  # type: ignore[method-assign]
    assert Run(fake)("approve", "grow")[0] == EXIT_OK
    assert fake.patches[0][2]["metadata"]["resourceVersion"] == "43"

    moved = FakeCluster(remediation())

    def edited(namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        moved.rem["metadata"]["generation"] = 4  # type: ignore[index]  # someone edited the spec meanwhile
        raise PluginError("changed", EXIT_REFUSED, kind="conflict")

    moved.patch_remediation = edited  # type: ignore[method-assign]
    code, _, err = Run(moved)("approve", "grow")
    assert code == EXIT_REFUSED and "it was at generation 3, but remediation grow is at generation 4" in err
