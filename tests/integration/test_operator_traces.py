"""Incident traces end to end: the operator (a subprocess) on the dev cluster exports one trace per incident to a
real OpenTelemetry Collector, across an operator restart in the middle of the incident; a traceparent annotation
only joins a trace; a collector that is down changes nothing the operator does."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from remediator.domain import incident_trace as it
from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for
from tests.fixtures.otelcol import OtelCollector, Span
from tests.fixtures.procs import LOOPBACK, free_port

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
# The tree of an incident that waited for approval and was applied and verified.
EXPECTED = {
    it.DETECTION: it.INCIDENT,
    it.CLASSIFICATION: it.INCIDENT,
    it.DECISION: it.INCIDENT,
    it.APPROVAL: it.INCIDENT,
    it.APPLY: it.INCIDENT,
    it.DRY_RUN: it.APPLY,
    it.PATCH: it.APPLY,
    it.VERIFY: it.INCIDENT,
    it.FEEDBACK: it.INCIDENT,
}


def tracing_env(endpoint: str) -> dict[str, str]:
    return {
        "REMEDIATOR_TRACING_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }


def of_trace(spans: list[Span], trace_id: str) -> list[Span]:
    return [s for s in spans if s.trace_id == trace_id]


def test_an_incident_is_one_trace_across_an_operator_restart(
    run_operator: OperatorFactory, ops: Ops, namespace: str, otelcol: OtelCollector
) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)  # every proposal waits for a human: the restart happens then
    op = run_operator(namespace, env=tracing_env(otelcol.endpoint))
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")

    ee = wait_for(lambda: next(iter(ops.items("errorevents")), None), 30, "an ErrorEvent")
    ee = ops.wait_phase("errorevents", ee["metadata"]["name"], "Remediating")
    trace_id = ee["status"]["trace"]["traceId"]
    rem_name = ee["status"]["remediationRef"]["name"]
    rem = ops.wait_phase("remediations", rem_name, "PendingApproval")
    check(rem["status"]["trace"] == ee["status"]["trace"], f"the Remediation continues another trace: {rem['status']}")
    early = otelcol.wait_for(
        lambda s: {it.DETECTION, it.CLASSIFICATION, it.DECISION} <= {x.name for x in of_trace(s, trace_id)},
        what="detection, classification and decision",
    )

    op.stop()  # mid-incident: the first process exported the triage; the second one continues the trace
    op.start()
    ops.approve(rem_name)
    done = ops.wait_phase("remediations", rem_name, *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])

    spans = otelcol.wait_for(
        lambda s: set(EXPECTED) | {it.INCIDENT} <= {x.name for x in of_trace(s, trace_id)},
        timeout=30,
        what="the whole incident",
    )
    mine = of_trace(spans, trace_id)
    names = Counter(s.name for s in mine)
    check(set(names) == set(EXPECTED) | {it.INCIDENT}, f"span names {names}")
    check(all(n == 1 for n in names.values()), f"a step exported twice: {names}")
    # one trace for the incident: no span of this namespace's workload elsewhere
    others = {s.trace_id for s in spans if s.attributes.get("k8s.namespace.name") == namespace} - {trace_id}
    check(not others, f"spans of the incident in other traces {others}")
    by_name = {s.name: s for s in mine}
    root = by_name[it.INCIDENT]
    check(root.parent_span_id == "", f"the root has a parent {root}")
    check(root.span_id == ee["status"]["trace"]["traceparent"].split("-")[2], "root span id is not the traceparent's")
    for name, parent in EXPECTED.items():
        check(by_name[name].parent_span_id == by_name[parent].span_id, f"{name} is not under {parent}")
    attrs = root.attributes
    check(attrs["k8s.namespace.name"] == namespace, attrs)
    check((attrs["remediator.workload.kind"], attrs["remediator.workload.name"]) == ("Deployment", "hungry"), attrs)
    check((attrs["remediator.error_type"], attrs["remediator.action"]) == ("oom", "increase_memory"), attrs)
    check(attrs["remediator.confidence"] == done["spec"]["confidence"], attrs)
    check(attrs["remediator.model_version"] == done["spec"]["modelVersion"], attrs)
    check(attrs["remediator.outcome"] == "Succeeded", attrs)
    check(by_name[it.APPROVAL].attributes["remediator.approved_by"] == ops.whoami(), by_name[it.APPROVAL].attributes)
    check(by_name[it.FEEDBACK].attributes["remediator.feedback.label"] == "correct", by_name[it.FEEDBACK].attributes)
    # the approval wait covers the restart; the root covers everything
    check(by_name[it.APPROVAL].start_ns < by_name[it.APPLY].start_ns, "approval wait after apply")
    check(root.start_ns <= min(s.start_ns for s in mine) and root.end_ns >= by_name[it.VERIFY].end_ns, "root range")
    check({s.span_id for s in early if s.trace_id == trace_id} <= {s.span_id for s in mine}, "early spans changed ids")
    # kubectl describe shows the trace id (status.trace), and the wide listing has it as a column
    described = ops.cluster.kubectl("describe", "-n", namespace, "remediation", rem_name).stdout
    check(trace_id in described, described)
    wide = ops.cluster.kubectl("get", "-n", namespace, "remediation", rem_name, "-o", "wide").stdout
    check(trace_id in wide, wide)


def test_a_traceparent_annotation_only_joins_a_trace(
    run_operator: OperatorFactory, ops: Ops, namespace: str, otelcol: OtelCollector
) -> None:
    """The attack: an ErrorEvent's author sets remediator.dev/traceparent to garbage, a huge value or a forged
    trace. The decisions are those of the same ErrorEvent without it; only the trace join differs."""
    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace, env={**tracing_env(otelcol.endpoint), "REMEDIATOR_WATCH_CLUSTER": "false"})
    forged = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"  # someone's trace, "not sampled"
    cases: dict[str, str | None] = {
        "plain": None,
        "garbage": "'; DROP TABLE traces; --",
        "huge": "00-" + "a" * 100_000,
        "upper": forged.upper(),
        "forged": forged,
    }
    for name in cases:
        ops.deployment(f"app-{name}", 1, memory="64Mi")
    for name in cases:
        ops.running_pods(f"app-{name}", 1)
    for name, value in cases.items():
        spec = {
            "target": {"kind": "Deployment", "name": f"app-{name}"},
            "message": "container app was OOMKilled",
            "reason": "OOMKilled",
            "exitCode": 137,
            "source": "api",
        }
        ops.create("errorevents", name, spec, "ErrorEvent", annotations={it.ANNOTATION: value} if value else {})
    settled: dict[str, dict[str, Any]] = {}
    for name in cases:
        settled[name] = ops.wait_phase("errorevents", name, "Remediating", "Ignored", "Invalid")

    def decision(name: str) -> dict[str, Any]:
        ee = settled[name]
        rem = ops.wait_phase("remediations", ee["status"]["remediationRef"]["name"], "PendingApproval", *FINAL)
        spec = {k: v for k, v in rem["spec"].items() if k not in ("target", "errorEventRef")}
        status = rem["status"]
        return {
            "ee_phase": ee["status"]["phase"],
            "classification": {k: v for k, v in ee["status"]["classification"].items() if k != "classifiedAt"},
            "spec": spec,
            "phase": status["phase"],
            "reasons": status.get("reasons"),
            "origin": status.get("origin"),
        }

    plain = decision("plain")
    for name in cases:
        got = decision(name)
        check(got == plain, f"{name}: {json.dumps(got)} differs from {json.dumps(plain)}")
    for name in ("garbage", "huge", "upper"):
        trace = settled[name]["status"]["trace"]
        check(trace.get("refused") and "parentSpanId" not in trace, f"{name}: {trace}")
        check(trace["traceId"] != "4bf92f3577b34da6a3ce929d0e0e4736", trace)
        check("DROP" not in trace["refused"] and len(trace["refused"]) <= 128, trace)
    joined = settled["forged"]["status"]["trace"]
    check(joined["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736", joined)
    check(joined["parentSpanId"] == "00f067aa0ba902b7" and joined["traceparent"].endswith("-01"), joined)
    check("refused" not in joined and "refused" not in settled["plain"]["status"]["trace"], joined)
    # the forged trace still gets the incident's spans (its "not sampled" flag switched nothing off)
    otelcol.wait_for(
        lambda s: any(x.name == it.DECISION and x.trace_id == joined["traceId"] for x in s), what="joined spans"
    )
    # a later change of the annotation moves nothing: status.trace is the operator's memory
    ops.annotate("errorevents", "plain", {it.ANNOTATION: forged})
    again = ops.get("errorevents", "plain")
    assert again is not None
    check(again["status"]["trace"] == settled["plain"]["status"]["trace"], again["status"])


def test_collector_down_the_operator_keeps_working(run_operator: OperatorFactory, ops: Ops, namespace: str) -> None:
    ops.policy(autoApplyThreshold=0.0, **FAST)
    nobody = f"http://{LOOPBACK}:{free_port()}"  # nothing listens: every export fails
    op = run_operator(namespace, env=tracing_env(nobody))
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    ee = wait_for(lambda: next(iter(ops.items("errorevents")), None), 30, "an ErrorEvent")
    ee = ops.wait_phase("errorevents", ee["metadata"]["name"], "Remediating")
    done = ops.wait_phase("remediations", ee["status"]["remediationRef"]["name"], *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    check(ops.memory_limit("hungry") == "96Mi", ops.memory_limit("hungry"))
    check(done["status"]["trace"]["traceId"] == ee["status"]["trace"]["traceId"], done["status"])

    def failed_spans() -> float:
        for line in op.metrics().splitlines():
            if line.startswith('remediator_trace_spans_total{result="failed"}'):
                return float(line.split()[-1])
        return 0.0

    wait_for(lambda: failed_spans() > 0, 30, "failed exports counted")


def test_a_post_errors_traceparent_carries_the_callers_trace_through_the_api_service(
    run_operator: OperatorFactory, ops: Ops, namespace: str, otelcol: OtelCollector
) -> None:
    from remediator_model.predict import Classifier
    from tests.integration.test_web_api import error_body, make_client, make_world

    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace, env={**tracing_env(otelcol.endpoint), "REMEDIATOR_WATCH_CLUSTER": "false"})
    ops.deployment("web", 1, memory="64Mi")
    ops.running_pods("web", 1)
    world = make_world(ops.cluster, namespace, namespace)
    web = make_client(ops.cluster, Classifier.load())
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    r = web.post("/errors?wait=8", json=error_body(namespace), headers={**world.auth("writer"), "traceparent": caller})
    check(r.status_code == 201, r.text)
    body = r.json()
    check(body["traceId"] == "0af7651916cd43dd8448eb211c80319c", body)
    ee = ops.get("errorevents", body["name"])
    assert ee is not None
    check(ee["metadata"]["annotations"][it.ANNOTATION] == caller, ee["metadata"])
    check(ee["status"]["trace"]["parentSpanId"] == "b7ad6b7169203331", ee["status"])
    spans = otelcol.wait_for(
        lambda s: (
            {it.DETECTION, it.CLASSIFICATION, it.DECISION}
            <= {x.name for x in of_trace(s, "0af7651916cd43dd8448eb211c80319c")}
        ),
        what="the incident's first spans in the caller's trace",
    )
    root_id = ee["status"]["trace"]["traceparent"].split("-")[2]
    check(all(s.parent_span_id == root_id for s in of_trace(spans, body["traceId"])), "not under the incident")
