"""The chart's dashboards and alert rules: generated JSON is committed as generated, every query names only
metrics the operator exports, every alert links a runbook section that exists, and the chart renders them."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from remediator import metrics

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kube-remediator"
RULES = CHART / "rules" / "kube-remediator.rules.yaml"
RUNBOOKS = REPO / "docs" / "runbooks.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboards_generator", REPO / "hack" / "dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GEN = _generator()

_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
    "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are neither functions (followed by "("),
    keywords, label names (inside {} or a grouping) nor durations."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGE.sub(" ", text)
    names = set()
    for m in _IDENT.finditer(text):
        if text[m.end() :].lstrip().startswith("(") or m.group().lower() in _KEYWORDS:
            continue
        names.add(m.group())
    return names


def exported() -> set[str]:
    """Every sample name the operator's registry serves (a histogram's _bucket/_count/_sum, a counter's _total),
    including the scrape-time gauges, which the registry learns from their describe()."""
    return set(metrics.REGISTRY._names_to_collectors)  # the registry's own list of the names it refuses twice


def test_the_name_parser_sees_metrics_and_nothing_else() -> None:
    expr = (
        'sum by (action) (increase(remediator_judgments_total{verdict="correct", x=~"a|b"}[$window])) / '
        "histogram_quantile(0.9, sum by (le) (rate(remediator_x_bucket[5m]))) and on (instance) up == 1"
    )
    assert metric_names(expr) == {"remediator_judgments_total", "remediator_x_bucket", "up"}


@pytest.mark.parametrize("name", sorted(GEN.DASHBOARDS))
def test_committed_dashboard_is_the_generators_output(name: str) -> None:
    committed = (CHART / "dashboards" / f"{name}.json").read_text()
    assert committed == GEN.text(GEN.DASHBOARDS[name]), "run: python hack/dashboards.py"


@pytest.mark.parametrize("name", sorted(GEN.DASHBOARDS))
def test_every_dashboard_query_names_only_exported_metrics(name: str) -> None:
    model = GEN.render(GEN.DASHBOARDS[name])
    known = exported()
    queries = GEN.expressions(model)
    assert queries, "a dashboard without queries"
    for title, expr in queries:
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr!r}"
        assert names <= known, f"{title}: {sorted(names - known)} are not exported by the operator"


def test_dashboards_have_unique_ids_and_panels_fit_the_grid() -> None:
    for dashboard in GEN.DASHBOARDS.values():
        model = GEN.render(dashboard)
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids))
        for panel in model["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
    assert len({d.uid for d in GEN.DASHBOARDS.values()}) == len(GEN.DASHBOARDS)


def _alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return out


def test_every_alert_names_only_exported_metrics_and_links_its_runbook_section() -> None:
    known = exported()
    anchors = _anchors(RUNBOOKS.read_text())
    alerts = _alerts()
    assert {a["alert"] for a in alerts} >= {
        "KubeRemediatorRemediationStuck",
        "KubeRemediatorRemediationFailureRateHigh",
        "KubeRemediatorApprovalWaitingTooLong",
        "KubeRemediatorFeedbackStoreUnreachable",
        "KubeRemediatorModelSwapFailed",
        "KubeRemediatorNoActiveReplica",
        "KubeRemediatorDown",
    }
    for alert in alerts:
        assert metric_names(alert["expr"]) <= known, alert["alert"]
        url = alert["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path == "docs/runbooks.md" and anchor in anchors, f"{alert['alert']}: no section {url}"
        assert alert["labels"]["severity"] in ("info", "warning", "critical")
        assert alert["annotations"].get("summary") and alert["annotations"].get("description")


def _helm() -> Path:
    from tests.fixtures.procs import missing_component, tools_bin_dir

    helm = tools_bin_dir() / "helm"
    if not helm.is_file():
        missing_component(f"no helm at {helm} (bash hack/build-tools.sh helm)")
    return helm


def _render(*sets: str) -> list[dict[str, Any]]:
    argv = [str(_helm()), "template", "kr", str(CHART), "-n", "ops", "--kube-version", "1.34.4"]
    for s in sets:
        argv += ["--set", s]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_chart_renders_the_rule_file_verbatim_and_dashboards_labeled_for_the_sidecar() -> None:
    default = _render()
    assert not [d for d in default if d["kind"] == "PrometheusRule"], "off by default"
    assert not [d for d in default if d["kind"] == "ConfigMap" and "dashboard" in d["metadata"]["name"]]
    docs = _render(
        "prometheusRule.enabled=true",
        "prometheusRule.labels.release=kps",
        "prometheusRule.runbookBaseURL=https://docs.example.com/kr/",
        "dashboards.enabled=true",
        "dashboards.label=grafana_dashboard",
        "dashboards.labelValue=yes",
        "dashboards.folder=Remediation",
    )
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"]["release"] == "kps"
    source = yaml.safe_load(RULES.read_text())
    for group in source["groups"]:
        for r in group["rules"]:
            r["annotations"]["runbook_url"] = r["annotations"]["runbook_url"].replace(
                "docs/runbooks.md", "https://docs.example.com/kr/runbooks.md"
            )
    assert rule["spec"] == source
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap" and "-dashboard-" in str(d["metadata"])}
    assert sorted(maps) == ["kr-kube-remediator-dashboard-model-quality", "kr-kube-remediator-dashboard-operations"]
    for cm in maps.values():
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "yes"
        assert cm["metadata"]["annotations"]["grafana_folder"] == "Remediation"
        ((key, body),) = cm["data"].items()
        assert json.loads(body) == json.loads((CHART / "dashboards" / key).read_text())
