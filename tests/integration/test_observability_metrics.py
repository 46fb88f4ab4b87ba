"""The operator's metrics in a real Prometheus during an incident on the dev cluster, and every dashboard query
evaluated against it: an OOMing Deployment is fixed (ErrorEvent -> Remediation -> applied -> verified), a
user's proposal waits for approval, and people judge both, so every panel has data.

With REMEDIATOR_DASHBOARD_DATA set to a directory, the panels' query results are also written there as JSON,
for hack/render_dashboards.py (the pictures in docs/images/)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.alertmanager import WebhookReceiver
from tests.fixtures.mongo import FerretDBServer
from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for
from tests.fixtures.procs import LOOPBACK
from tests.fixtures.prometheus import PrometheusServer
from tests.unit.test_dashboards import GEN

pytestmark = pytest.mark.integration

FAST = {
    "verifyWindowSeconds": 10,
    "cooldownSeconds": 0,
    "maxCooldownSeconds": 0,
    "autoApplyThreshold": 0.0,
    "blastRadius": {"maxInFlightPerNamespace": 10},
}
# Grafana's variables, as the dashboards would have them over the minute or two of this test.
VARIABLES = {"$__rate_interval": "30s", "$window": "15m"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")


def resolve(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def finite(series: list[dict[str, Any]]) -> list[float]:
    return [float(v) for s in series for _, v in s.get("values") or [s["value"]] if not math.isnan(float(v))]


def legend(fmt: str, labels: dict[str, str]) -> str:
    if not fmt or fmt == "__auto":
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in ("instance", "job")) or "value"
    for key, value in labels.items():
        fmt = fmt.replace("{{" + key + "}}", value)
    return fmt


def instant(prom: PrometheusServer, expr: str) -> float:
    result = prom.query(expr)
    assert result, f"{expr}: no data"
    return float(result[0]["value"][1])


def test_dashboards_have_data_from_a_real_incident(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    prometheus_factory: Any,
    mongo_server: FerretDBServer,
    webhook_sink: WebhookReceiver,
) -> None:
    ops.policy(**FAST)
    op = run_operator(
        namespace,
        env={
            "REMEDIATOR_MONGODB_URI": mongo_server.uri + f"metrics_{namespace.replace('-', '_')}",
            "REMEDIATOR_FEEDBACK_RETRY_SECONDS": "1",
            "REMEDIATOR_WEBHOOK_URLS": webhook_sink.url,
            "REMEDIATOR_NOTIFY_POLL_SECONDS": "0.5",
        },
    )
    prom = prometheus_factory([f"{LOOPBACK}:{op.port}"])
    wait_for(lambda: prom.targets_up() == 1, 30, "Prometheus scraping the operator")
    started = time.time()
    check(instant(prom, "remediator_acting") == 1, "the only replica acts")

    # a user's proposal waits for a human (all through the test)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    ops.remediation("restart-app", "app", "restart_pod", error_type="app_crash", confidence=0.7)
    ops.wait_phase("remediations", "restart-app", "PendingApproval")

    # incidents: a Deployment OOMs (the operator raises its memory and verifies the fix), another crash-loops
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    ops.deployment("crashy", 1, fail="crashloop", memory="64Mi")

    def errorevent_of(target: str) -> str | None:
        return next(
            (e["metadata"]["name"] for e in ops.items("errorevents") if e["spec"]["target"]["name"] == target), None
        )

    fixed = wait_for(lambda: errorevent_of("hungry"), 40, "an ErrorEvent for the OOMing Deployment")
    done = ops.wait_phase("remediations", fixed, *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", f"ended {done['status']}")
    seen = done["status"].get("failureSeenAt")
    check(seen and seen <= done["metadata"]["creationTimestamp"], f"failureSeenAt {seen} vs {done['metadata']}")
    crashing = wait_for(lambda: errorevent_of("crashy"), 40, "an ErrorEvent for the crash-looping Deployment")
    wait_for(lambda: ops.phase("remediations", crashing), 20, "the crash-loop's Remediation decided")
    ops.wait_phase("remediations", crashing, *FINAL, "PendingApproval", timeout=60)

    # people judge both
    ops.annotate("remediations", fixed, {"remediator.dev/feedback": "correct"})
    ops.annotate("remediations", "restart-app", {"remediator.dev/feedback": "incorrect"})

    def judged(name: str) -> bool:
        return bool(((ops.get("remediations", name) or {}).get("status") or {}).get("judgments"))

    wait_for(lambda: judged(fixed) and judged("restart-app"), 20, "both judgments in status")

    # what the SRE asks, answered by Prometheus
    prom.wait_until('remediator_judgments_total{verdict="incorrect", action="restart_pod"} > 0', 20)
    prom.wait_until('remediator_remediations_in_flight{phase="PendingApproval"} > 0', 20)
    waiting = sum(1 for r in ops.items("remediations") if (r.get("status") or {}).get("phase") == "PendingApproval")
    check(instant(prom, "max(remediator_approvals_pending)") == waiting >= 1, f"{waiting} approvals waiting")
    check(instant(prom, "max(remediator_approval_oldest_wait_seconds)") > 0, "its age")
    check(instant(prom, 'remediator_feedback_store_up{store="mongodb"}') == 1, "the store answers")
    prom.wait_until("sum(remediator_notifications_pending) >= 0", 20)
    for step in ("remediation", "applied", "verified"):
        count = instant(prom, f'remediator_failure_to_{step}_seconds_count{{action="increase_memory"}}')
        check(count == 1, f"failure to {step}: {count} observations")
    to_verified = instant(prom, 'remediator_failure_to_verified_seconds_sum{action="increase_memory"}')
    to_applied = instant(prom, 'remediator_failure_to_applied_seconds_sum{action="increase_memory"}')
    check(0 <= to_applied <= to_verified < 300, f"applied after {to_applied} s, verified after {to_verified} s")
    prom.wait_until('remediator_remediations_in_flight{phase="Verifying"} == 0', 20)  # the fixed one left
    check(instant(prom, "sum(remediator_remediations_overdue)") == 0, "nothing overdue")

    # the gauges come from the watch, not from memory: a restarted operator reports the same at once
    op.stop()
    op.start()
    restarted = time.time()
    fresh = f"and on () min(timestamp(remediator_acting)) > {restarted:.3f}"  # scraped from the new process
    prom.wait_until(f"max(remediator_approvals_pending) == {waiting} {fresh}", 40)
    prom.wait_until(f'sum(remediator_remediations_in_flight{{phase="PendingApproval"}}) == {waiting} {fresh}', 20)
    time.sleep(10)  # more scrapes after the last change: the rates over it have samples, the pictures a tail
    end = time.time()

    # every query of every dashboard returns data over the incident
    export: dict[str, Any] = {}
    empty = []
    for name, dashboard in GEN.DASHBOARDS.items():
        model = GEN.render(dashboard)
        panels = export.setdefault(name, {"title": model["title"], "range": [started, end], "panels": {}})["panels"]
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                series = prom.query_range(resolve(target["expr"]), started - 30, end, 2)
                if not finite(series):
                    empty.append(f"{name} / {panel['title']}: {target['expr']}")
                panels.setdefault(panel["title"], []).extend(
                    {"legend": legend(target["legendFormat"], s["metric"]), "values": s["values"]} for s in series
                )
    assert not empty, "queries without data:\n" + "\n".join(empty)
    (expr,) = [e for t, e in GEN.expressions(GEN.render(GEN.MODEL_QUALITY)) if t == "Precision by action (people)"]
    precision = prom.query(resolve(expr))
    by_action = {s["metric"]["action"]: float(s["value"][1]) for s in precision if not math.isnan(float(s["value"][1]))}
    check(by_action == {"increase_memory": 1.0, "restart_pod": 0.0}, f"precision from feedback {by_action}")

    out = os.environ.get("REMEDIATOR_DASHBOARD_DATA")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for name, data in export.items():
            (Path(out) / f"{name}.json").write_text(json.dumps(data))
