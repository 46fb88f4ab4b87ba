"""Incident spans out over OTLP/HTTP: the OpenTelemetry SDK's TracerProvider, a BatchSpanProcessor and the
OTLP/HTTP exporter, configured by the standard OTEL_* environment variables.

Off unless `tracing_enabled`; the SDK is imported only then (serving without tracing loads none of it). The
reconcile only appends to a bounded queue: a slow or absent collector costs the export thread its (short)
timeout and the spans that do not fit, which are dropped and counted (remediator_trace_spans_total), never
a delay or an error of the step that completed them.

Spans carry the ids the domain derived (domain/incident_trace), so every process emits the same tree: the SDK
asks its IdGenerator for ids, and this one hands out the id of the span being emitted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from remediator import metrics
from remediator.domain import incident_trace
from remediator.domain.incident_trace import SpanRecord
from remediator.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)
SERVICE_NAME = "kube-remediator"
SCOPE = "remediator.pipeline.traces"
_NS = 1_000_000_000


def _ns(when: Any) -> int:
    return int(when.timestamp() * _NS)


class _Gate:
    """How many spans are queued or being exported; admits a span only while that is under the bound, so the
    SDK's own queue never overflows (it would drop silently) and every loss is counted here."""

    def __init__(self, bound: int) -> None:
        self.bound, self.pending = bound, 0
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            if self.pending >= self.bound:
                return False
            self.pending += 1
            return True

    def release(self, n: int) -> None:
        with self._lock:
            self.pending = max(0, self.pending - n)


def _counting_exporter(inner: SpanExporter, gate: _Gate) -> SpanExporter:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Counting(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            try:
                result = inner.export(spans)
            except Exception as err:  # the SDK logs and drops; we count
                log.warning("trace export failed: %s", err)
                result = SpanExportResult.FAILURE
            finally:
                gate.release(len(spans))
            outcome = "exported" if result == SpanExportResult.SUCCESS else "failed"
            metrics.TRACE_SPANS.labels(result=outcome).inc(len(spans))
            return result

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return inner.force_flush(timeout_millis)

    return Counting()


class Tracing:
    """The operator's span sink: `emit` finished SpanRecords (non-blocking), `close` at shutdown."""

    def __init__(
        self,
        provider: TracerProvider,
        tracer: Tracer,
        sampler: Sampler,
        gate: _Gate,
        shutdown_seconds: float,
        ids: Any,
    ) -> None:
        self.provider, self.tracer, self.sampler, self.gate = provider, tracer, sampler, gate
        self.shutdown_seconds = shutdown_seconds
        self._ids = ids

    def emit(self, records: Iterable[SpanRecord]) -> None:
        for record in records:
            try:
                self._emit(record)
            except Exception:  # a span is never worth a failed step
                log.exception("span %s of trace %s not emitted", record.name, record.trace_id)

    def _emit(self, record: SpanRecord) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

        if not self._sampled(record.trace_id, record.upstream_span_id):
            return
        if not self.gate.admit():
            metrics.TRACE_SPANS.labels(result="dropped").inc()
            return
        parent = None
        if record.parent_span_id:
            ctx = SpanContext(
                int(record.trace_id, 16),
                int(record.parent_span_id, 16),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            parent = trace.set_span_in_context(trace.NonRecordingSpan(ctx))
        self._ids.plan(int(record.trace_id, 16), int(record.span_id, 16))
        try:
            span = self.tracer.start_span(
                record.name,
                context=parent,
                kind=trace.SpanKind.INTERNAL,
                attributes=dict(record.attributes),
                start_time=_ns(record.start),
            )
        finally:
            self._ids.plan(None, None)
        if record.error:
            span.set_status(Status(StatusCode.ERROR, str(record.attributes.get("remediator.reason") or "")))
        span.end(end_time=_ns(record.end))

    def _sampled(self, trace_id: str, upstream: str | None) -> bool:
        """The sampler's verdict for the incident's root, applied to each of its spans alike (a ratio sampler
        keeps or drops whole traces, in every process, since it decides by trace id)."""
        from opentelemetry import trace
        from opentelemetry.sdk.trace.sampling import Decision
        from opentelemetry.trace import SpanContext, TraceFlags

        context = None
        if upstream:
            ctx = SpanContext(int(trace_id, 16), int(upstream, 16), is_remote=True, trace_flags=TraceFlags(1))
            context = trace.set_span_in_context(trace.NonRecordingSpan(ctx))
        decision = self.sampler.should_sample(context, int(trace_id, 16), incident_trace.INCIDENT).decision
        return bool(decision == Decision.RECORD_AND_SAMPLE)

    def flush(self, timeout_seconds: float = 5.0) -> bool:
        return bool(self.provider.force_flush(int(timeout_seconds * 1000)))

    def close(self) -> None:
        """Export what is queued within `shutdown_seconds`, then stop (a collector that is down costs at most
        that long at shutdown, never more)."""
        done = threading.Event()

        def shutdown() -> None:
            try:
                self.provider.shutdown()
            finally:
                done.set()

        threading.Thread(target=shutdown, name="tracing-shutdown", daemon=True).start()
        if not done.wait(self.shutdown_seconds):
            log.warning("tracing: spans still queued after %.1f s at shutdown were dropped", self.shutdown_seconds)

    @classmethod
    def configure(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> Tracing | None:
        """None unless tracing is enabled. Endpoint, headers, service name, resource attributes, sampler and
        batch sizes come from the standard OTEL_* variables; the export timeout defaults to ours (short)."""
        if not settings.tracing_enabled:
            return None
        env = os.environ if environ is None else environ
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, _get_from_env_or_default

        class PlannedIds(IdGenerator):
            """The ids of the span being emitted (set per thread around start_span); random otherwise."""

            def __init__(self) -> None:
                self._local = threading.local()
                self._random = RandomIdGenerator()

            def plan(self, trace_id: int | None, span_id: int | None) -> None:
                self._local.trace_id, self._local.span_id = trace_id, span_id

            def generate_trace_id(self) -> int:
                return getattr(self._local, "trace_id", None) or self._random.generate_trace_id()

            def generate_span_id(self) -> int:
                return getattr(self._local, "span_id", None) or self._random.generate_span_id()

        named = "OTEL_SERVICE_NAME" in env or "service.name=" in env.get("OTEL_RESOURCE_ATTRIBUTES", "")
        resource = Resource.create({} if named else {"service.name": SERVICE_NAME})
        timeout_set = any(k in env for k in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"))
        exporter = OTLPSpanExporter(timeout=None if timeout_set else settings.tracing_export_timeout_seconds)
        gate = _Gate(settings.tracing_queue_spans)
        ids = PlannedIds()
        # Every span is sampled by the provider; the env's sampler decides per trace (see _sampled).
        provider = TracerProvider(resource=resource, sampler=ALWAYS_ON, id_generator=ids)
        provider.add_span_processor(
            BatchSpanProcessor(
                _counting_exporter(exporter, gate),
                max_queue_size=settings.tracing_queue_spans,
                export_timeout_millis=settings.tracing_export_timeout_seconds * 1000,
            )
        )
        # A full queue or an unreachable collector is counted in remediator_trace_spans_total; the SDK's own
        # warning per dropped span or failed batch would flood the log during an outage.
        for name in ("opentelemetry.sdk._shared_internal", "opentelemetry.exporter.otlp.proto.http"):
            logging.getLogger(name).setLevel(logging.ERROR)
        sampler = _get_from_env_or_default()
        log.info(
            "tracing: OTLP/HTTP to %s, sampler %s",
            exporter._endpoint,
            sampler.get_description(),
        )
        return cls(
            provider,
            provider.get_tracer(SCOPE),
            sampler,
            gate,
            settings.tracing_shutdown_seconds,
            ids,
        )
