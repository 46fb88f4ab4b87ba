"""The local control plane's first-hour errors say what to do: Go missing or too old (in Python and in
hack/build-tools.sh, which needs Go only to build), a stale state directory, a port taken during start-up.
No component is started here."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster, State
from remediator_dev.devcluster.errors import DevClusterError

BUILD_TOOLS = Path(__file__).resolve().parents[3] / "hack" / "build-tools.sh"


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_go(tmp_path: Path) -> Path:
    """A directory for a fake `go` (and nothing else) to put on PATH."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    return bin_dir


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("REMEDIATOR_CACHE", str(cache))
    return cache


def test_missing_binaries_without_go_say_to_install_it(
    empty_cache: Path, fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_go))
    with pytest.raises(DevClusterError, match=r"no `go` on PATH.*install Go >= 1\.24"):
        binaries.ensure(("etcd",))


def test_a_too_old_go_is_named_with_its_version(
    empty_cache: Path, fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(fake_go / "go", 'echo "go1.21.5"')
    monkeypatch.setenv("PATH", str(fake_go))
    with pytest.raises(DevClusterError, match=r"is Go 1\.21, too old .*install Go >= 1\.24"):
        binaries.ensure(("etcd",))


def test_a_recent_go_is_fine(fake_go: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _script(fake_go / "go", 'echo "go1.26.1"')
    monkeypatch.setenv("PATH", str(fake_go))
    assert binaries.go_problem() is None


def _build_tools(cache: Path, path: str, *tools: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": str(cache.parent), "REMEDIATOR_CACHE": str(cache)}
    return subprocess.run(
        ["/bin/bash", str(BUILD_TOOLS), *tools], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_build_tools_without_go_says_what_to_install(tmp_path: Path, fake_go: Path) -> None:
    result = _build_tools(tmp_path / "cache", f"{fake_go}:/usr/bin:/bin", "etcd")
    assert result.returncode == 2
    assert "needs the Go toolchain (>= 1.24)" in result.stderr and "apt-get install golang-go" in result.stderr


def test_build_tools_with_an_old_go_names_its_version(tmp_path: Path, fake_go: Path) -> None:
    _script(fake_go / "go", 'echo "go1.22.0"')
    result = _build_tools(tmp_path / "cache", f"{fake_go}:/usr/bin:/bin", "etcd")
    assert result.returncode == 2 and "is Go 1.22.0, too old" in result.stderr and "Go >= 1.24" in result.stderr


def test_build_tools_needs_no_go_when_everything_is_built(tmp_path: Path, fake_go: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "bin").mkdir(parents=True)
    version = next(
        line.split("=")[1].split()[0]
        for line in BUILD_TOOLS.read_text().splitlines()
        if line.startswith("ETCD_VERSION=")
    )
    _script(cache / "bin" / f"etcd-{version}", "exit 0")  # a cached binary that runs
    result = _build_tools(cache, f"{fake_go}:/usr/bin:/bin", "etcd")
    assert result.returncode == 0, result.stderr
    assert (cache / "bin" / "etcd").resolve() == (cache / "bin" / f"etcd-{version}").resolve()


def test_an_unreadable_state_file_says_to_remove_the_stale_directory(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"ports": {"etcd_client": 1')  # cut short by a crash
    cluster = DevCluster(tmp_path)
    for call in (cluster.status, cluster.down, cluster.up):
        with pytest.raises(DevClusterError, match=rf"stale state directory.*rm -rf {tmp_path}"):
            call()


@pytest.fixture
def stranger() -> Iterator[int]:
    """A live process that is not a control-plane component (a pid recorded earlier, reused since)."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_recorded_pids_of_other_processes_are_neither_trusted_nor_signalled(tmp_path: Path, stranger: int) -> None:
    State(ports={"apiserver": 1}, pids={"etcd": stranger, "kube-apiserver": stranger}).save(tmp_path / "state.json")
    cluster = DevCluster(tmp_path)
    report = cluster.status()
    assert report["etcd"] == "stopped" and report["kube-apiserver"] == "stopped"
    cluster.down()
    time.sleep(0.2)
    assert Path(f"/proc/{stranger}").exists() and os.waitpid(stranger, os.WNOHANG) == (0, 0)
    assert State.load(tmp_path / "state.json").pids == {}


def test_a_component_that_lost_its_port_says_to_run_up_again(tmp_path: Path) -> None:
    cluster = DevCluster(tmp_path)
    log = cluster.log_path("etcd")
    log.parent.mkdir(parents=True)
    log.write_text("listen tcp 127.0.0.1:2379: bind: address already in use\n")
    hint = cluster._stale_hint("etcd")
    assert "run `remediator-dev cluster up` again" in hint and "address already in use" in hint
    log.write_text("member has already been bootstrapped\n")
    assert f"rm -rf {cluster.dir}" in cluster._stale_hint("etcd")
