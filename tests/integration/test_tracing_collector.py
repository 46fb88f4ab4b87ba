"""adapters/tracing against a real OpenTelemetry Collector: the spans of an incident arrive with the ids, tree,
times and attributes the domain gave them; OTEL_* variables are honoured; a collector that hangs or is down
costs the caller nothing (spans are dropped and counted) and export resumes when it is back."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from remediator.adapters.tracing import Tracing
from remediator.domain import incident_trace as it
from remediator.settings import Settings
from tests.fixtures.otelcol import OtelCollector, find_or_build_otelcol, start_otelcol
from tests.fixtures.procs import LOOPBACK, free_port

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def spans_of_an_incident(uid: str = "ee-uid-1", annotations: dict[str, str] | None = None) -> list[it.SpanRecord]:
    ee = {
        "metadata": {"name": "web-oom", "namespace": "shop", "uid": uid, "annotations": annotations or {}},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "reason": "OOMKilled", "source": "cluster"},
    }
    trace = it.for_errorevent(ee)
    classified = {"errorType": "oom", "action": "increase_memory", "confidence": 0.97, "modelVersion": "m-1"}
    triage = {"phase": "Remediating", "classification": classified, "remediationRef": {"name": "web-oom"}}
    spans = it.triage_spans(ee, triage, trace, T0, T0 + dt.timedelta(seconds=1), T0 + dt.timedelta(seconds=1.2), T0)
    rem = {
        "metadata": {"name": "web-oom", "namespace": "shop", "uid": "rem-1"},
        "spec": {"target": ee["spec"]["target"], "action": "increase_memory", "errorType": "oom", "confidence": 0.97},
        "status": {
            "trace": trace.to_status(),
            "phase": "Succeeded",
            "failureSeenAt": "2026-05-01T12:00:00Z",
            "appliedAt": "2026-05-01T12:00:03Z",
            "feedback": {"label": "correct", "source": "verification"},
        },
    }
    spans += it.transition_spans({"phase": "Verifying"}, rem, trace, T0 + dt.timedelta(seconds=9))
    return spans


def counted(result: str) -> float:
    return REGISTRY.get_sample_value("remediator_trace_spans_total", {"result": result}) or 0.0


@pytest.fixture
def collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OtelCollector]:
    server = start_otelcol(find_or_build_otelcol(), tmp_path / "otelcol")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    try:
        yield server
    finally:
        server.stop()


def test_spans_arrive_with_their_ids_tree_times_and_attributes(collector: OtelCollector) -> None:
    tracing = Tracing.configure(Settings(tracing_enabled=True))
    assert tracing is not None
    records = spans_of_an_incident()
    exported = counted("exported")
    tracing.emit(records)
    assert tracing.flush()
    got = collector.wait_for(lambda s: len(s) >= len(records), what="the incident's spans")
    tracing.close()
    assert len(got) == len(records)
    by_id = {s.span_id: s for s in got}
    for record in records:
        span = by_id[record.span_id]
        assert (span.trace_id, span.name) == (record.trace_id, record.name)
        assert span.parent_span_id == (record.parent_span_id or "")
        assert span.start_ns == int(record.start.timestamp() * 1e9)
        assert span.end_ns == int(record.end.timestamp() * 1e9)
        assert span.service == "kube-remediator"
    root = next(s for s in got if s.name == it.INCIDENT)
    assert root.parent_span_id == ""
    assert {s.parent_span_id for s in got if s is not root} == {root.span_id}
    assert root.attributes["remediator.outcome"] == "Succeeded"
    assert root.attributes["remediator.confidence"] == 0.97
    assert root.attributes["k8s.namespace.name"] == "shop"
    assert counted("exported") - exported == len(records)


def test_otel_service_name_and_a_joined_trace(collector: OtelCollector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "remediator-staging")
    tracing = Tracing.configure(Settings(tracing_enabled=True))
    assert tracing is not None
    join = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracing.emit(spans_of_an_incident(annotations={it.ANNOTATION: join}))
    tracing.flush()
    got = collector.wait_for(lambda s: any(x.name == it.INCIDENT for x in s), what="the root")
    tracing.close()
    root = next(s for s in got if s.name == it.INCIDENT)
    assert (root.trace_id, root.parent_span_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert {s.service for s in got} == {"remediator-staging"}


def test_a_ratio_sampler_keeps_or_drops_whole_traces(collector: OtelCollector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.5")
    tracing = Tracing.configure(Settings(tracing_enabled=True))
    assert tracing is not None
    for i in range(20):
        tracing.emit(spans_of_an_incident(uid=f"uid-{i}"))
    tracing.flush()
    time.sleep(1.0)
    tracing.close()
    got = collector.spans()
    per_trace = {}
    for s in got:
        per_trace[s.trace_id] = per_trace.get(s.trace_id, 0) + 1
    whole = len(spans_of_an_incident())
    assert 0 < len(per_trace) < 20, "a 0.5 ratio over 20 traces kept none or all"
    assert set(per_trace.values()) == {whole}


class Blackhole:
    """Accepts TCP connections on 127.0.0.1 and never answers: a collector that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self._stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


def test_a_hanging_collector_costs_the_caller_nothing_and_drops_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hole = Blackhole()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{LOOPBACK}:{hole.port}")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
    tracing = Tracing.configure(Settings(tracing_enabled=True, tracing_queue_spans=32, tracing_shutdown_seconds=1))
    assert tracing is not None
    dropped, failed = counted("dropped"), counted("failed")
    records = spans_of_an_incident()
    started = time.monotonic()
    for _ in range(50):  # 50 incidents' spans while the exporter waits on a collector that never answers
        tracing.emit(records)
    emitting = time.monotonic() - started
    # 2 s export timeout per attempt: a caller that waited for it would take minutes here
    assert emitting < 2.0, f"emit took {emitting:.2f}s while the collector hung"
    assert counted("dropped") - dropped >= 50 * len(records) - 64
    time.sleep(3)  # an export attempt timed out: its spans are counted as failed
    assert counted("failed") - failed >= 1
    closing = time.monotonic()
    tracing.close()
    assert time.monotonic() - closing < 2.5  # shutdown bounded by tracing_shutdown_seconds
    hole.close()


def test_export_resumes_when_the_collector_is_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{LOOPBACK}:{port}")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    tracing = Tracing.configure(Settings(tracing_enabled=True))
    assert tracing is not None
    failed = counted("failed")
    tracing.emit(spans_of_an_incident(uid="lost"))  # nobody listens: refused at once, counted as failed
    deadline = time.monotonic() + 10
    while counted("failed") == failed and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted("failed") > failed
    server = start_otelcol(find_or_build_otelcol(), tmp_path / "otelcol", port=port)
    try:
        records = spans_of_an_incident(uid="after")
        tracing.emit(records)
        tracing.flush()
        got = server.wait_for(lambda s: len(s) >= len(records), what="spans after the collector came back")
        assert {s.trace_id for s in got} == {records[0].trace_id}
    finally:
        tracing.close()
        server.stop()
