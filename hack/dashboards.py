#!/usr/bin/env python3
"""Write the chart's Grafana dashboards (charts/kube-remediator/dashboards/*.json) from the definitions here.

    dashboards.py            write every dashboard
    dashboards.py --check    change nothing; exit 1 when a committed dashboard differs from this code

The JSON is generated, never edited by hand: tests/unit/test_dashboards.py checks that the committed files
equal this output and that every query names only metrics the operator exports. Queries use Grafana's
``$__rate_interval`` for rates and the dashboard variable ``$window`` for ratios over a longer period.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "charts" / "kube-remediator" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
WINDOW = "$window"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    heatmap: bool = False


@dataclass(frozen=True)
class Panel:
    """One panel: ``kind`` is a Grafana panel type (timeseries, stat, heatmap, bargauge, state-timeline)."""

    title: str
    kind: str
    queries: tuple[Query, ...]
    description: str
    unit: str = "short"
    width: int = 8
    height: int = 8
    stacked: bool = False
    thresholds: tuple[tuple[float, str], ...] = ()
    decimals: int | None = None
    max: float | None = None


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = ("kube-remediator",)
    variables: tuple[dict[str, Any], ...] = field(default=())


def q(expr: str, legend: str = "") -> Query:
    return Query(" ".join(expr.split()), legend)


def latency_quantiles(histogram: str, step: str) -> tuple[Query, ...]:
    return tuple(
        q(f"histogram_quantile({p}, sum by (le) (rate({histogram}_bucket[{RATE}])))", f"p{int(p * 100)} {step}")
        for p in (0.5, 0.95)
    )


WINDOW_VARIABLE: dict[str, Any] = {
    "name": "window",
    "label": "Ratio window",
    "type": "custom",
    "query": "1h,6h,1d,7d,30d",
    "current": {"text": "1d", "value": "1d"},
    "options": [{"text": w, "value": w, "selected": w == "1d"} for w in ("1h", "6h", "1d", "7d", "30d")],
}

OPERATIONS = Dashboard(
    uid="kube-remediator-operations",
    title="kube-remediator / Operations",
    description="What the operator is doing: failures in, actions decided, how long from failure to fix, what "
    "is in flight, what failed, and what waits for a human. Runbooks: docs/runbooks.md.",
    rows=(
        Row(
            "Now",
            (
                Panel(
                    "Acting replicas",
                    "stat",
                    (q("sum(remediator_acting)"),),
                    "Replicas that act (kopf peering); 0 means no failure is being handled.",
                    width=4,
                    height=5,
                    thresholds=((0, "red"), (1, "green")),
                ),
                Panel(
                    "In flight",
                    "stat",
                    (q("sum(remediator_remediations_in_flight)"),),
                    "Remediations not yet final (any phase before Succeeded, Failed, Rejected, Skipped, Expired).",
                    width=4,
                    height=5,
                ),
                Panel(
                    "Waiting for approval",
                    "stat",
                    (q("max(remediator_approvals_pending)"),),
                    "Remediations in PendingApproval: a human must approve or reject them.",
                    width=4,
                    height=5,
                    thresholds=((0, "green"), (1, "orange")),
                ),
                Panel(
                    "Oldest approval waiting",
                    "stat",
                    (q("max(remediator_approval_oldest_wait_seconds)"),),
                    "How long the oldest PendingApproval has waited; it expires at its approval TTL.",
                    unit="s",
                    width=4,
                    height=5,
                    thresholds=((0, "green"), (1800, "orange"), (3000, "red")),
                ),
                Panel(
                    "Feedback waiting for the store",
                    "stat",
                    (q("max(remediator_feedback_pending)"),),
                    "Remediations whose feedback waits in their status until MongoDB has it (nothing is lost).",
                    width=4,
                    height=5,
                ),
                Panel(
                    "Notifications pending",
                    "stat",
                    (q("sum(remediator_notifications_pending)"),),
                    "Notifications recorded in status that a sink has not taken yet.",
                    width=4,
                    height=5,
                ),
            ),
        ),
        Row(
            "Incidents and actions",
            (
                Panel(
                    "Failures observed",
                    "timeseries",
                    (q(f"sum by (family) (rate(remediator_failures_observed_total[{RATE}]))", "{{family}}"),),
                    "Pod and Event failures the operator saw in the cluster, per second, by failure family.",
                    unit="ops",
                    stacked=True,
                ),
                Panel(
                    "Incidents classified",
                    "timeseries",
                    (q(f"sum by (error_type) (rate(remediator_classifications_total[{RATE}]))", "{{error_type}}"),),
                    "ErrorEvents classified by the model, per second, by error type.",
                    unit="ops",
                    stacked=True,
                ),
                Panel(
                    "Actions decided",
                    "timeseries",
                    (q(f"sum by (action, phase) (rate(remediator_decisions_total[{RATE}]))", "{{action}} {{phase}}"),),
                    "First decisions on new Remediations: which action, and whether it applies at once (Approved) "
                    "or waits for a human (PendingApproval) or is skipped.",
                    unit="ops",
                    stacked=True,
                ),
            ),
        ),
        Row(
            "From failure to fix",
            (
                Panel(
                    "Failure to Remediation",
                    "timeseries",
                    latency_quantiles("remediator_failure_to_remediation_seconds", "to Remediation"),
                    "From the failure first seen (ErrorEvent spec.firstSeen) to its Remediation's creation.",
                    unit="s",
                ),
                Panel(
                    "Failure to applied",
                    "timeseries",
                    latency_quantiles("remediator_failure_to_applied_seconds", "to applied"),
                    "From the failure first seen to the change applied (approval waits included).",
                    unit="s",
                ),
                Panel(
                    "Failure to verified",
                    "timeseries",
                    latency_quantiles("remediator_failure_to_verified_seconds", "to verified"),
                    "From the failure first seen to the fix verified (the verification window included).",
                    unit="s",
                ),
            ),
        ),
        Row(
            "In flight and outcomes",
            (
                Panel(
                    "In flight by phase",
                    "timeseries",
                    (q("max by (phase) (remediator_remediations_in_flight)", "{{phase}}"),),
                    "Remediations in each phase before final, as the acting replica's watch sees them.",
                    stacked=True,
                ),
                Panel(
                    "Overdue by phase",
                    "timeseries",
                    (q("max by (phase) (remediator_remediations_overdue)", "{{phase}}"),),
                    "Remediations still in a phase past its deadline (KubeRemediatorRemediationStuck).",
                    thresholds=((0, "green"), (1, "red")),
                ),
                Panel(
                    "Outcomes by action",
                    "timeseries",
                    (
                        q(
                            f"sum by (action, result) (rate(remediator_remediation_outcomes_total[{RATE}]))",
                            "{{action}} {{result}}",
                        ),
                    ),
                    "Verified outcomes of applied changes, per second, by action and result.",
                    unit="ops",
                    stacked=True,
                ),
                Panel(
                    "Failed Remediations",
                    "timeseries",
                    (
                        q(
                            f'sum by (action) (rate(remediator_remediations_total{{phase="Failed"}}[{RATE}]))',
                            "{{action}}",
                        ),
                    ),
                    "Remediations ending Failed (apply refused, fix did not hold, step timed out), per second.",
                    unit="ops",
                    stacked=True,
                ),
                Panel(
                    "Failure rate",
                    "timeseries",
                    (
                        q(
                            f'sum(increase(remediator_remediations_total{{phase="Failed"}}[{WINDOW}])) / '
                            f'sum(increase(remediator_remediations_total{{phase=~"Succeeded|Failed"}}[{WINDOW}]))',
                            "failed / ended",
                        ),
                    ),
                    "Failed / (Succeeded + Failed) over the ratio window (KubeRemediatorRemediationFailureRateHigh "
                    "fires above 30% over 1h).",
                    unit="percentunit",
                    max=1,
                ),
                Panel(
                    "Feedback store",
                    "timeseries",
                    (
                        q("min(remediator_feedback_store_up)", "store up"),
                        q(
                            f"sum by (operation) (rate(remediator_feedback_store_errors_total[{RATE}]))",
                            "store {{operation}}",
                        ),
                    ),
                    "Whether the feedback store answers (1, KubeRemediatorFeedbackStoreUnreachable at 0) and its "
                    "failed calls per second by operation.",
                ),
            ),
        ),
    ),
    variables=(WINDOW_VARIABLE,),
)

MODEL_QUALITY = Dashboard(
    uid="kube-remediator-model-quality",
    title="kube-remediator / Model quality",
    description="How good the classifier is, from its own confidence and from people's feedback: confidence "
    "over time, precision by action (correct / judged), abstentions, and which model is in service.",
    rows=(
        Row(
            "Confidence",
            (
                Panel(
                    "Confidence distribution",
                    "heatmap",
                    (
                        Query(
                            f"sum by (le) (increase(remediator_classification_confidence_bucket[{RATE}]))",
                            "{{le}}",
                            heatmap=True,
                        ),
                    ),
                    "Calibrated confidence of each classification over time (buckets of "
                    "remediator_classification_confidence).",
                    width=12,
                ),
                Panel(
                    "Confidence quantiles",
                    "timeseries",
                    tuple(
                        q(
                            f"histogram_quantile({p}, sum by (le) "
                            f"(rate(remediator_classification_confidence_bucket[{RATE}])))",
                            f"p{int(p * 100)}",
                        )
                        for p in (0.1, 0.5, 0.9)
                    ),
                    "Low, median and high confidence of the classifications in each interval.",
                    unit="percentunit",
                    width=12,
                    max=1,
                ),
            ),
        ),
        Row(
            "Precision from feedback",
            (
                Panel(
                    "Precision by action (people)",
                    "bargauge",
                    (
                        q(
                            f'sum by (action) (increase(remediator_judgments_total{{verdict="correct"}}[{WINDOW}])) / '
                            f"sum by (action) (increase(remediator_judgments_total[{WINDOW}]))",
                            "{{action}}",
                        ),
                    ),
                    "Of the Remediations people judged in the ratio window, the share they called correct.",
                    unit="percentunit",
                    width=8,
                    max=1,
                    thresholds=((0, "red"), (0.7, "orange"), (0.9, "green")),
                ),
                Panel(
                    "Judgments by action and verdict",
                    "timeseries",
                    (
                        q(
                            f"sum by (action, verdict) (increase(remediator_judgments_total[{WINDOW}]))",
                            "{{action}} {{verdict}}",
                        ),
                    ),
                    "People's verdicts in the ratio window: how much evidence each precision stands on.",
                    width=8,
                ),
                Panel(
                    "Verified success by action",
                    "bargauge",
                    (
                        q(
                            f"sum by (action) (increase(remediator_remediation_outcomes_total"
                            f'{{result="Succeeded"}}[{WINDOW}])) / '
                            f"sum by (action) (increase(remediator_remediation_outcomes_total[{WINDOW}]))",
                            "{{action}}",
                        ),
                    ),
                    "The operator's own verdict: applied changes verified healthy / all verified, in the window.",
                    unit="percentunit",
                    width=8,
                    max=1,
                    thresholds=((0, "red"), (0.7, "orange"), (0.9, "green")),
                ),
            ),
        ),
        Row(
            "Abstentions and model",
            (
                Panel(
                    "Left to a human, by reason",
                    "timeseries",
                    (
                        q(
                            f'sum by (reason) (rate(remediator_decisions_total{{phase="PendingApproval"}}[{RATE}]))',
                            "{{reason}}",
                        ),
                    ),
                    "Decisions that wait for approval, by their first reason (BelowThreshold, UnfamiliarInput, "
                    "NotCorroborated are the model abstaining; others are policy).",
                    unit="ops",
                    stacked=True,
                ),
                Panel(
                    "Abstention share",
                    "timeseries",
                    (
                        q(
                            "sum(increase(remediator_decisions_total"
                            f'{{reason=~"BelowThreshold|UnfamiliarInput|NotCorroborated"}}[{WINDOW}])) / '
                            f"sum(increase(remediator_decisions_total[{WINDOW}]))",
                            "abstained / decided",
                        ),
                    ),
                    "Share of decisions where the model's confidence, novelty or the Pods' evidence did not "
                    "suffice to act alone, over the ratio window.",
                    unit="percentunit",
                    max=1,
                ),
                Panel(
                    "Model in service and swaps",
                    "timeseries",
                    (
                        q("count by (version) (remediator_model_info)", "{{version}}"),
                        q(f"sum by (result) (increase(remediator_model_swaps_total[{RATE}]))", "swap {{result}}"),
                    ),
                    "Replicas serving each model version (a change of line is a swap) and swap attempts by result.",
                ),
            ),
        ),
    ),
    variables=(WINDOW_VARIABLE,),
)

DASHBOARDS = {"operations": OPERATIONS, "model-quality": MODEL_QUALITY}


def _panel_json(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    targets = []
    for i, query in enumerate(panel.queries):
        target: dict[str, Any] = {
            "refId": chr(ord("A") + i),
            "datasource": DATASOURCE,
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": True,
        }
        if query.heatmap:
            target["format"] = "heatmap"
        targets.append(target)
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.max is not None:
        defaults |= {"min": 0, "max": panel.max}
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.thresholds:
        steps = [
            {"color": color, "value": None if i == 0 else value} for i, (value, color) in enumerate(panel.thresholds)
        ]
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "fillOpacity": 20 if panel.stacked else 0,
            "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
            "showPoints": "never",
        }
    options: dict[str, Any] = {}
    if panel.kind == "stat":
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"}
    elif panel.kind == "bargauge":
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
        }
    elif panel.kind == "heatmap":
        options = {
            "calculate": False,
            "yAxis": {"unit": "percentunit"},
            "color": {"scheme": "Oranges", "mode": "scheme"},
        }
    elif panel.kind == "timeseries":
        options = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    }


def render(dashboard: Dashboard) -> dict[str, Any]:
    """The Grafana JSON model of ``dashboard``: rows of panels laid out left to right on a 24-column grid."""
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row in dashboard.rows:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "panels": [],
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            }
        )
        pid, y = pid + 1, y + 1
        x, row_height = 0, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y, row_height = 0, y + row_height, 0
            panels.append(_panel_json(panel, pid, x, y))
            pid, x, row_height = pid + 1, x + panel.width, max(row_height, panel.height)
        y += row_height
    datasource_variable = {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": list(dashboard.tags),
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "",
        "templating": {"list": [datasource_variable, *dashboard.variables]},
        "annotations": {"list": []},
        "panels": panels,
    }


def text(dashboard: Dashboard) -> str:
    return json.dumps(render(dashboard), indent=2, sort_keys=True) + "\n"


def expressions(model: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of a dashboard's JSON model."""
    return [(p["title"], t["expr"]) for p in model["panels"] for t in p.get("targets", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed dashboard is stale")
    args = parser.parse_args(argv)
    stale = []
    for name, dashboard in DASHBOARDS.items():
        path = OUT / f"{name}.json"
        wanted = text(dashboard)
        if args.check:
            if not path.is_file() or path.read_text() != wanted:
                stale.append(str(path.relative_to(REPO)))
            continue
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted)
        print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print(f"stale (run: python hack/dashboards.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
