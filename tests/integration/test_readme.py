"""The README's quick-start, demo and local-control-plane commands, run verbatim and in order as a newcomer would
type them into one terminal, each followed by a check of what the README says it does.

The run has its own home directory (so `~/.kube-remediator/dev-cluster` is a private dev cluster on its own
ports, never the developer's) in which `~/.cache/kube-remediator` links to the real binary cache. `make` runs
with `-o $VENV/bin/python`: the test must not reinstall the environment it runs in. Every README command needs
a check below, so a command added to the README without one fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from remediator_dev.demo import NEXT_STEPS
from remediator_dev.devcluster import binaries
from tests.fixtures.procs import missing_component
from tests.fixtures.readme import README, Command, readme_commands

pytestmark = pytest.mark.integration

REPO = README.parent
NAMESPACE = "remediator-demo"
# `make demo` also runs `make tools`, which must find everything built (a cold build takes minutes).
NEEDED = (*binaries.CONTROL_PLANE, "metrics-server", "ferretdb", "helm")
# The README's own claim; the demo has 240 s per phase, the README test allows that plus start-up.
DEMO_SECONDS = 600


@dataclass
class Terminal:
    """One shell session: variables assigned or exported by a command are seen by the next ones."""

    home: Path
    env: dict[str, str]
    state: Path
    background: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, line: str, timeout: float) -> subprocess.CompletedProcess[str]:
        script = (
            f"set -a; . {self.state}; set -eo pipefail\n"
            'make() { command make -o "$VENV/bin/python" "$@"; }\n'
            f"{line}\n"
            f"export -p > {self.state}.next\n"
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode == 0:
            Path(f"{self.state}.next").replace(self.state)
        return result

    def var(self, name: str) -> str:
        out = subprocess.run(
            ["bash", "-c", f'. {self.state}; printf %s "${name}"'], env=self.env, capture_output=True, text=True
        )
        return out.stdout

    # -- what a check reads, with the same kubeconfig and kubectl the README's commands use ---------------
    @property
    def cluster_dir(self) -> Path:
        return self.home / ".kube-remediator" / "dev-cluster"

    def kubectl_json(self, *args: str) -> Any:
        kubectl = self.home / ".cache" / "kube-remediator" / "bin" / "kubectl"
        out = subprocess.run(
            [str(kubectl), f"--kubeconfig={self.cluster_dir / 'kubeconfig'}", *args, "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(out.stdout)

    def remediations(self) -> dict[str, dict[str, Any]]:
        items = self.kubectl_json("get", "remediations", "-n", NAMESPACE)["items"]
        return {r["spec"]["target"]["name"]: r for r in items}

    def phases(self) -> dict[str, str]:
        return {name: (r.get("status") or {}).get("phase", "") for name, r in self.remediations().items()}

    def operator_pid(self) -> int | None:
        path = self.cluster_dir / "demo-operator.json"
        return int(json.loads(path.read_text())["pid"]) if path.exists() else None

    def cluster_pids(self) -> dict[str, int]:
        return dict(json.loads((self.cluster_dir / "state.json").read_text()).get("pids", {}))


def _processes_naming(path: Path) -> list[str]:
    """Command lines of live processes that mention `path` (every control-plane component names its state
    directory; the demo's operator is found by its pid)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline and _alive(int(proc.name)):
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _eventually(predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}")


class PhaseWatch:
    """`kubectl get rem -w` (the README's way to watch) in the background: the phases one Remediation passed."""

    def __init__(self, t: Terminal, name: str) -> None:
        kubectl = t.home / ".cache" / "kube-remediator" / "bin" / "kubectl"
        self.proc = subprocess.Popen(
            [str(kubectl), "get", "rem", "-w"],
            env={**t.env, "KUBECONFIG": str(t.cluster_dir / "kubeconfig")},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        t.background.append(self.proc)  # ended by the fixture if a check fails before stop()
        self.name = name
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            cells = line.split()
            if cells and cells[0] == self.name and len(cells) >= 5:
                phase = cells[4]
                if not self.seen or self.seen[-1] != phase:
                    self.seen.append(phase)

    def stop(self) -> list[str]:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return self.seen


@dataclass
class Run:
    """What the checks remember between commands."""

    t: Terminal
    demos: int = 0
    first_operator_pid: int | None = None
    last_operator_pid: int | None = None
    watch: PhaseWatch | None = None
    cluster_pids_seen: set[int] = field(default_factory=set)
    checkout: str = ""


# -- checks: one per README command, matched on the command without its comment --------------------------------
def check_make_demo(run: Run, out: str) -> None:
    run.demos += 1
    assert "== summary" in out and "make demo-down" in out, out[-2000:]
    printed = {line.strip() for line in out.splitlines()}
    assert all(step in printed for step in NEXT_STEPS.splitlines()), "the demo prints the README's next steps"
    pid = run.t.operator_pid()
    assert pid is not None and _alive(pid), "the demo's operator is not running after make demo"
    assert str(run.t.cluster_dir / "logs" / "demo-operator.log") in out  # the log path is printed
    assert all(_alive(p) for p in run.t.cluster_pids().values())
    run.cluster_pids_seen |= set(run.t.cluster_pids().values())
    phases = run.t.phases()
    assert phases == {
        "frontend": "Succeeded",
        "orders": "Succeeded",
        "search": "Succeeded",
        "checkout": "PendingApproval",
        "billing": "PendingApproval",
    }, phases
    run.last_operator_pid = pid
    if run.demos == 1:
        run.first_operator_pid = pid
        return
    # Again: the previous operator is gone and the namespace was recreated (the edit and the rejection are gone).
    assert run.first_operator_pid is not None and pid != run.first_operator_pid
    assert not _alive(run.first_operator_pid)
    assert run.t.remediations()["checkout"]["spec"].get("parameters", {}).get("memoryLimit") is None


def check_exports(run: Run, out: str) -> None:
    assert run.t.var("KUBECONFIG") == str(run.t.cluster_dir / "kubeconfig")
    assert run.t.var("PATH").split(":")[0] == str(run.t.home / ".cache" / "kube-remediator" / "bin")


def check_set_namespace(run: Run, out: str) -> None:
    view = run.t.kubectl_json("config", "view", "--minify")
    assert view["contexts"][0]["context"]["namespace"] == NAMESPACE


def check_get_rem(run: Run, out: str) -> None:
    waiting = {line.split()[1] for line in out.splitlines()[1:] if "PendingApproval" in line}
    assert waiting == {"checkout", "billing"}, out


def check_me(run: Run, out: str) -> None:
    whoami = run.t.kubectl_json("auth", "whoami")["status"]["userInfo"]["username"]
    assert run.t.var("ME") == whoami != ""


def check_rem(run: Run, out: str) -> None:
    run.checkout = run.t.remediations()["checkout"]["metadata"]["name"]
    assert run.t.var("REM") == f"remediation.remediator.dev/{run.checkout}"
    run.watch = PhaseWatch(run.t, run.checkout)


def check_patch(run: Run, out: str) -> None:
    rem = run.t.remediations()["checkout"]
    assert rem["spec"]["parameters"]["memoryLimit"] == "256Mi"
    assert rem["metadata"]["generation"] == 2 and rem["status"]["phase"] == "PendingApproval"


def check_gen(run: Run, out: str) -> None:
    assert run.t.var("GEN") == str(run.t.remediations()["checkout"]["metadata"]["generation"])


def check_approve(run: Run, out: str) -> None:
    approval = _eventually(lambda: (run.t.remediations()["checkout"].get("status") or {}).get("approval"), "approved")
    assert approval["generation"] == 2 and approval["by"] == run.t.var("ME"), approval


def check_verifying(run: Run, out: str) -> None:
    assert run.t.phases()["checkout"] in ("Verifying", "Succeeded")


def check_succeeded(run: Run, out: str) -> None:
    assert run.t.phases()["checkout"] == "Succeeded"
    deployment = run.t.kubectl_json("get", "deployment", "checkout", "-n", NAMESPACE)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    assert run.watch is not None
    time.sleep(1)  # the watch's last line
    seen = run.watch.stop()
    assert [p for p in seen if p in ("Applying", "Verifying", "Succeeded")] == ["Applying", "Verifying", "Succeeded"]


def check_reject(run: Run, out: str) -> None:
    def rejected() -> dict[str, Any] | None:
        status = run.t.remediations()["billing"].get("status") or {}
        return status if status.get("phase") == "Rejected" and status.get("feedback") else None

    status = _eventually(rejected, "billing is Rejected with negative feedback")
    assert status["feedback"]["label"] == "incorrect" and status["feedback"]["source"] == "rejection"


def check_feedback(run: Run, out: str) -> None:
    def human() -> dict[str, Any] | None:  # a person's verdict lives in status.judgments, one per judge
        judgments = (run.t.remediations()["orders"].get("status") or {}).get("judgments") or []
        return judgments[0] if judgments else None

    assert _eventually(human, "orders carries the human feedback")["label"] == "correct"


def check_report(run: Run, out: str) -> None:
    rows = {line.split()[0].split("/")[-1]: line for line in out.splitlines() if line.startswith(f"{NAMESPACE}/")}
    assert len(rows) == 5, out
    by_target = {line.split()[1].split("/")[-1]: line for line in rows.values()}
    assert "rejected" in by_target["billing"] and "applied" in by_target["checkout"]
    assert "(human: correct)" in by_target["orders"]
    assert "applied and verified: 4/4 succeeded" in out


def check_classify_flags(run: Run, out: str) -> None:
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["type"] == "oom" and fields["action"].startswith("increase_memory"), out


def check_classify_json(run: Run, out: str) -> None:
    result = json.loads(out)
    assert result["error_type"] == "image_pull" and 0 <= result["confidence"] <= 1


def check_predict_stdio(run: Run, out: str) -> None:
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(rows) == 1 and rows[0]["reason"] == "CrashLoopBackOff" and "action" in rows[0]
    assert not (REPO / "-").exists()  # not a file named "-"


def check_demo_down(run: Run, out: str) -> None:
    assert run.last_operator_pid is not None and not _alive(run.last_operator_pid)
    assert run.t.operator_pid() is None
    assert run.t.cluster_pids() == {}
    assert not any(_alive(p) for p in run.cluster_pids_seen), "a control-plane process outlived make demo-down"
    assert _processes_naming(run.t.home) == []  # nothing else the demo started runs on either


def check_cluster_up(run: Run, out: str) -> None:
    assert str(run.t.cluster_dir / "kubeconfig") in out.splitlines()
    assert all(_alive(p) for p in run.t.cluster_pids().values()) and run.t.cluster_pids()


def check_export_kubeconfig(run: Run, out: str) -> None:
    assert run.t.var("KUBECONFIG") == str(run.t.cluster_dir / "kubeconfig")


def check_get_nodes(run: Run, out: str) -> None:
    ready = [line.split()[0] for line in out.splitlines()[1:] if line.split()[1] == "Ready"]
    assert ready == ["kwok-node-0", "kwok-node-1", "kwok-node-2"], out


def check_apply_crds(run: Run, out: str) -> None:
    assert "customresourcedefinition.apiextensions.k8s.io/remediations.remediator.dev" in out


def check_cluster_status(run: Run, out: str) -> None:
    report = dict(line.split(None, 1) for line in out.splitlines())
    assert report["apiserver-ready"] == "yes" and report["kube-apiserver"].startswith("running"), out


def check_cluster_down(run: Run, out: str) -> None:
    assert run.t.cluster_pids() == {}
    assert (run.t.cluster_dir / "state.json").exists()  # the state directory is kept


# (pattern of the command without comment, check, timeout in seconds)
CHECKS: list[tuple[str, Callable[[Run, str], None], float]] = [
    (r"make demo", check_make_demo, DEMO_SECONDS),
    (r"export KUBECONFIG=~/\.kube-remediator/dev-cluster/kubeconfig PATH=.*", check_exports, 10),
    (r"kubectl config set-context --current --namespace=remediator-demo", check_set_namespace, 30),
    (r"kubectl get rem", check_get_rem, 30),
    (r"ME=\$\(kubectl auth whoami .*\)", check_me, 30),
    (r"REM=\$\(kubectl get rem -l remediator\.dev/target-name=checkout -o name\)", check_rem, 30),
    (r"kubectl patch \$REM .*memoryLimit.*", check_patch, 30),
    (r"GEN=\$\(kubectl get \$REM .*\)", check_gen, 30),
    (r"kubectl annotate \$REM remediator\.dev/approve=true .*", check_approve, 30),
    (r"kubectl wait \$REM .*=Verifying .*", check_verifying, 90),
    (r"kubectl wait \$REM .*=Succeeded .*", check_succeeded, 150),
    (r"kubectl annotate rem -l remediator\.dev/target-name=billing remediator\.dev/reject=true .*", check_reject, 30),
    (
        r"kubectl annotate rem -l remediator\.dev/target-name=orders remediator\.dev/feedback=correct "
        r"remediator\.dev/feedback-by=\$ME",
        check_feedback,
        30,
    ),
    (r"remediator report --since 1h", check_report, 60),
    (r"make demo-down", check_demo_down, 120),
    (r"remediator model classify --reason OOMKilled .*", check_classify_flags, 60),
    (r"echo '\{.*\}' \| remediator model classify -o json", check_classify_json, 60),
    (r"echo '\{.*\}' \| remediator model predict --input - --output -", check_predict_stdio, 60),
    (r"remediator-dev cluster up", check_cluster_up, 240),
    (r"export KUBECONFIG=~/\.kube-remediator/dev-cluster/kubeconfig", check_export_kubeconfig, 10),
    (r"kubectl get nodes", check_get_nodes, 30),
    (r"kubectl apply -f crds/ && kubectl get remediations", check_apply_crds, 60),
    (r"remediator-dev cluster status", check_cluster_status, 30),
    (r"remediator-dev cluster down", check_cluster_down, 60),
]
# `make test` is the suite that runs this test: running it here would recurse.
NOT_RUN = {"make test"}


def _check_for(command: Command) -> tuple[Callable[[Run, str], None], float]:
    matches = [(check, timeout) for pattern, check, timeout in CHECKS if re.fullmatch(pattern, command.command)]
    assert len(matches) == 1, f"README command {command.command!r} needs exactly one check in {__file__}"
    return matches[0]


def test_every_readme_command_has_a_check() -> None:
    for command in readme_commands():
        if command.command not in NOT_RUN:
            _check_for(command)


@pytest.fixture
def terminal() -> Any:
    missing = [n for n in NEEDED if not (binaries.bin_dir() / n).exists()]
    if missing:
        missing_component(f"{', '.join(missing)} not built in {binaries.bin_dir()}: run make tools")
    home = Path(tempfile.mkdtemp(prefix="readme-home-"))
    (home / ".cache").mkdir()
    (home / ".cache" / "kube-remediator").symlink_to(binaries.cache_dir().resolve())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REMEDIATOR_", "KUBECONFIG", "XDG_CACHE"))}
    venv = Path(sys.prefix)
    env.update(HOME=str(home), VENV=str(venv), PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}")
    state = home / "terminal.env"
    state.write_text("")
    t = Terminal(home, env, state)
    yield t
    # Whatever a failed step left running: the watch, the demo's operator and the private control plane.
    for proc in t.background:
        proc.kill()
        proc.wait(timeout=10)
    for name in ("demo", "cluster"):
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "remediator_dev.cli", name, "down"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
    # The link first, so removing the home can never reach the real binary cache.
    (home / ".cache" / "kube-remediator").unlink()
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.timeout(1500)
def test_readme_commands_do_what_the_readme_says(terminal: Terminal) -> None:
    run = Run(terminal)
    timings = []
    for command in readme_commands():
        if command.command in NOT_RUN:
            continue
        check, timeout = _check_for(command)
        started = time.monotonic()
        result = terminal.run(command.line, timeout)
        timings.append(f"{time.monotonic() - started:6.1f} s  {command.command}")
        assert result.returncode == 0, (
            f"README command failed ({result.returncode}): {command.line}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
        check(run, result.stdout + result.stderr)
    assert run.demos == 2
    print("\n".join(timings))
