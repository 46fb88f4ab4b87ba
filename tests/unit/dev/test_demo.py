"""The demo's parts that need no cluster: its summary table, finding and stopping its background operator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remediator.report import format_table
from remediator_dev import cli, demo
from remediator_dev.demo import DEMO_APPROVES, SCENARIOS, WAITS_FOR_YOU, DemoOperator, summary_rows


def _event(target: str, reason: str, count: int, error_type: str, confidence: float) -> dict[str, Any]:
    return {
        "spec": {"target": {"name": target}, "reason": reason, "count": count},
        "status": {"classification": {"errorType": error_type, "confidence": confidence}},
    }


def _rem(target: str, action: str, phase: str, outcome: str = "") -> dict[str, Any]:
    return {
        "spec": {"target": {"name": target}, "action": action},
        "status": {"phase": phase, "outcome": {"message": outcome}},
    }


def test_the_summary_stays_aligned_with_a_long_detected_value() -> None:
    events = {
        "billing": _event("billing", "CreateContainerConfigError", 2, "config_issue", 0.99),
        "search": _event("search", "Unhealthy", 1, "probe_failure", 0.58),
    }
    rems = {
        "billing": _rem("billing", "update_config", "PendingApproval"),
        "search": _rem("search", "restart_pod", "Succeeded", "healthy for 16 s"),
    }
    table, missing = summary_rows(events, rems)
    assert missing == 3  # checkout, frontend, orders: not detected
    lines = format_table(["workload", "detected", "classified", "proposed", "phase", "outcome"], table).splitlines()
    by_name = {line.split()[0]: line for line in lines}
    assert by_name["billing"].index("config_issue 0.99") == by_name["search"].index("probe_failure 0.58")
    assert by_name["billing"].index("config_issue") > by_name["billing"].index("x2") + 2
    assert "waits for you" in by_name["billing"]


def test_every_scenario_is_either_approved_by_the_demo_or_left_for_the_reader() -> None:
    assert set(DEMO_APPROVES) | set(WAITS_FOR_YOU) == set(SCENARIOS)
    assert not set(DEMO_APPROVES) & set(WAITS_FOR_YOU)
    assert set(WAITS_FOR_YOU) == {"checkout", "billing"}  # what README.md "After the demo" acts on


@pytest.fixture
def process() -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *argv])
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _record(state_dir: Path, pid: int) -> None:
    (state_dir / demo.OPERATOR_STATE).write_text(json.dumps({"pid": pid, "metricsPort": 1, "log": "x"}))


def test_stop_ends_the_recorded_operator(tmp_path: Path, process: Any) -> None:
    operator = process("remediator", "run")  # what /proc shows for `remediator run`
    _record(tmp_path, operator.pid)
    assert DemoOperator(tmp_path).pid() == operator.pid
    assert DemoOperator(tmp_path).stop() is True
    assert operator.wait(timeout=5) is not None
    assert not (tmp_path / demo.OPERATOR_STATE).exists()


def test_stop_never_signals_a_recorded_pid_that_is_another_process_now(tmp_path: Path, process: Any) -> None:
    stranger = process("something", "else")
    _record(tmp_path, stranger.pid)
    assert DemoOperator(tmp_path).pid() is None
    assert DemoOperator(tmp_path).stop() is False
    assert stranger.poll() is None  # still running
    assert not (tmp_path / demo.OPERATOR_STATE).exists()


def test_demo_down_is_a_dev_command(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def down() -> int:
        calls.append("down")
        return 0

    def run(timeout: float) -> int:
        calls.append(f"up {timeout:.0f}")
        return 0

    monkeypatch.setattr(demo, "down", down)
    monkeypatch.setattr(demo, "run", run)
    assert (
        cli.main(["demo", "down"]) == 0 and cli.main(["demo"]) == 0 and cli.main(["demo", "up", "--timeout", "9"]) == 0
    )
    assert calls == ["down", "up 240", "up 9"]


def test_cluster_down_stops_the_demo_operator_first(tmp_path: Path, process: Any) -> None:
    operator = process("remediator", "run")
    _record(tmp_path, operator.pid)
    assert cli.main(["cluster", "down", "--dir", str(tmp_path)]) == 0
    assert operator.wait(timeout=5) is not None


def test_cluster_status_says_whether_the_demo_operator_runs(
    tmp_path: Path, process: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cluster", "status", "--dir", str(tmp_path)]) == 1  # no API server here
    report = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert report["demo-operator"] == "not running"
    operator = process("remediator", "run")
    _record(tmp_path, operator.pid)
    cli.main(["cluster", "status", "--dir", str(tmp_path)])
    assert f"running (pid {operator.pid})" in capsys.readouterr().out
