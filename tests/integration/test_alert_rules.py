"""The chart's alert rules with the pinned promtool: `check rules` on the one rule file the PrometheusRule
template includes, and `test rules` with a firing and a not-firing case for every alert."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts" / "kube-remediator" / "rules" / "kube-remediator.rules.yaml"
TESTS = REPO / "tests" / "promtool" / "kube-remediator.rules.test.yaml"

pytestmark = pytest.mark.integration


def _alerts() -> set[str]:
    doc = yaml.safe_load(RULES.read_text())
    return {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}


def test_promtool_checks_the_rule_file(promtool: Path) -> None:
    out = subprocess.run([str(promtool), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in out.stdout + out.stderr


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases: dict[str, set[str]] = {}
    for test in yaml.safe_load(TESTS.read_text())["tests"]:
        for check in test.get("alert_rule_test", []):
            cases.setdefault(check["alertname"], set()).add("firing" if check.get("exp_alerts") else "quiet")
    assert {name: cases.get(name, set()) for name in _alerts()} == {name: {"firing", "quiet"} for name in _alerts()}


def test_promtool_unit_tests_pass(promtool: Path) -> None:
    out = subprocess.run(
        [str(promtool), "test", "rules", str(TESTS)], capture_output=True, text=True, timeout=120, cwd=TESTS.parent
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr
