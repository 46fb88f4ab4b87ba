"""Prometheus metrics of the operator, served on /metrics together with /healthz and /readyz.

/healthz is liveness: it fails when kopf's event loop has not beaten for STALE_SECONDS (a stuck loop
handles nothing, so the kubelet should restart the process); /readyz says start-up has finished."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from remediator.domain import clock
from remediator.domain.inflight import ACTIVE, InFlight, summarize
from remediator.domain.lifecycle import FINAL
from remediator.domain.types import ACTIONS, ERROR_TYPES, FAMILIES

FAILURES_OBSERVED = Counter(
    "remediator_failures_observed_total", "Failures observed, by source and failure family", ["source", "family"]
)
CLASSIFICATIONS = Counter("remediator_classifications_total", "ErrorEvents classified, by error type", ["error_type"])
CONFIDENCE = Histogram(
    "remediator_classification_confidence",
    "Calibrated confidence of classifications",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.0),
)
REMEDIATIONS = Counter(
    "remediator_remediations_total", "Remediation phase transitions, by action and phase", ["action", "phase"]
)
OUTCOMES = Counter(
    "remediator_remediation_outcomes_total", "Verified outcomes, by action and result", ["action", "result"]
)
DECISION_LATENCY = Histogram(
    "remediator_decision_seconds",
    "From an ErrorEvent's creation to its Remediation's decision",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
API_ERRORS = Counter(
    "remediator_api_errors_total",
    "Errors talking to the API server, by operation and code (not the answers a call expects, such as 409 on a "
    "create-if-absent or the 400 of a log not written yet)",
    ["operation", "code"],
)
KUBE_REQUESTS = Counter(
    "remediator_kube_requests_total",
    "Requests the operator's Kubernetes adapter sent, by verb (as the API server's audit log names them) and resource",
    ["verb", "resource"],
)
CACHE_MISSES = Counter(
    "remediator_cache_misses_total",
    "Reads the watch-kept caches could not answer, so a GET went to the API server instead, by resource",
    ["resource"],
)
FEEDBACK = Counter("remediator_feedback_total", "Feedback records written to the store, by label", ["label"])
NOTIFICATIONS = Counter(
    "remediator_notifications_total", "Notifications a sink took, by sink, alert and state", ["sink", "alert", "state"]
)
NOTIFICATION_FAILURES = Counter(
    "remediator_notification_failures_total", "Notification attempts a sink did not take, by sink", ["sink"]
)
NOTIFICATIONS_PENDING = Gauge(
    "remediator_notifications_pending", "Notifications recorded in status and not yet taken, by sink", ["sink"]
)
# The audit stream to CloudWatch Logs (adapters/cloudwatch_logs.py).
AUDIT_SENT = Counter("remediator_audit_records_sent_total", "Audit records CloudWatch Logs took")
AUDIT_DROPPED = Counter(
    "remediator_audit_records_dropped_total",
    "Audit records lost, by reason (buffer_full: oldest dropped; rejected/refused: CloudWatch would not store them)",
    ["reason"],
)
AUDIT_SEND_FAILURES = Counter(
    "remediator_audit_send_failures_total", "PutLogEvents attempts that failed and will be retried"
)
AUDIT_BUFFERED = Gauge("remediator_audit_buffered_records", "Audit records waiting in memory for CloudWatch Logs")
# Incident traces (adapters/tracing.py): spans by result: exported; failed (the collector refused them or was
# unreachable); dropped (the bounded queue was full, so the reconcile never waits for a collector).
TRACE_SPANS = Counter(
    "remediator_trace_spans_total", "Spans of incident traces, by result (exported, failed, dropped)", ["result"]
)


# -- what an SRE asks of it (docs/runbooks.md, charts/kube-remediator/dashboards) ----------------------------
# From the failure first seen (the ErrorEvent's spec.firstSeen, copied to status.failureSeenAt) to each step.
_FAILURE_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
FAILURE_TO_REMEDIATION = Histogram(
    "remediator_failure_to_remediation_seconds",
    "From a failure first seen to its Remediation's creation, by action",
    ["action"],
    buckets=_FAILURE_BUCKETS,
)
FAILURE_TO_APPLIED = Histogram(
    "remediator_failure_to_applied_seconds",
    "From a failure first seen to its change applied (not dry-run), by action",
    ["action"],
    buckets=_FAILURE_BUCKETS,
)
FAILURE_TO_VERIFIED = Histogram(
    "remediator_failure_to_verified_seconds",
    "From a failure first seen to its fix verified (Succeeded after verification), by action",
    ["action"],
    buckets=_FAILURE_BUCKETS,
)
DECISIONS = Counter(
    "remediator_decisions_total",
    "First decisions on Remediations, by action, the phase decided and its first reason code",
    ["action", "phase", "reason"],
)
JUDGMENTS = Counter(
    "remediator_judgments_total",
    "People's verdicts accepted into status.judgments (a person's first verdict on a Remediation), by action "
    "and verdict: precision from feedback is correct / all",
    ["action", "verdict"],
)
MODEL_SWAPS = Counter(
    "remediator_model_swaps_total", "New models seen in the registry, by result (swapped, refused)", ["result"]
)
STORE_UP = Gauge(
    "remediator_feedback_store_up",
    "1 when the last call to the feedback store succeeded, 0 when it failed (no series without a store)",
    ["store"],
)
STORE_ERRORS = Counter(
    "remediator_feedback_store_errors_total", "Feedback store calls that failed, by operation", ["operation"]
)
ACTING = Gauge("remediator_acting", "1 when this replica is the acting one (kopf peering), 0 on standby")

# The first word of every feedback store call (adapters/store.py), its errors' operation label.
STORE_OPERATIONS = ("create", "write", "read", "count", "purge")
# What intake reads from the watch-kept caches (pipeline/cluster_view.py), the cache-miss counter's labels.
CACHED_RESOURCES = ("namespaces", "replicasets", "deployments", "statefulsets", "daemonsets", "errorevents")
# Decisions that leave the choice to a human because of the model itself (the model-quality dashboard).
ABSTENTION_REASONS = ("BelowThreshold", "UnfamiliarInput", "NotCorroborated")


def _start_known_series() -> None:
    """Every series whose labels are known in advance exists from the start, at 0: a rate over the first event
    is then right (a series born at 1 shows no increase) and a dashboard shows 0, not "no data"."""
    for action in ACTIONS:
        for histogram in (FAILURE_TO_REMEDIATION, FAILURE_TO_APPLIED, FAILURE_TO_VERIFIED):
            histogram.labels(action=action)
        for result in ("Succeeded", "Failed", "Unknown"):
            OUTCOMES.labels(action=action, result=result)
        for verdict in ("correct", "incorrect"):
            JUDGMENTS.labels(action=action, verdict=verdict)
        for phase in (*ACTIVE[1:], *sorted(FINAL)):
            REMEDIATIONS.labels(action=action, phase=phase)
        for reason in ABSTENTION_REASONS:
            DECISIONS.labels(action=action, phase="PendingApproval", reason=reason)
        DECISIONS.labels(action=action, phase="Approved", reason="PolicyAllows")
    for error_type in ERROR_TYPES:
        CLASSIFICATIONS.labels(error_type=error_type)
    for family in FAMILIES:
        FAILURES_OBSERVED.labels(source="cluster", family=family)
    for result in ("swapped", "refused"):
        MODEL_SWAPS.labels(result=result)
    for operation in STORE_OPERATIONS:
        STORE_ERRORS.labels(operation=operation)
    for resource in CACHED_RESOURCES:
        CACHE_MISSES.labels(resource=resource)


_start_known_series()


@dataclass(frozen=True)
class Sources:
    """Where the scrape-time gauges read from: kopf's indexes (kept by the watch) and the model holder."""

    in_flight: Callable[[], Iterable[InFlight]]
    pending_feedback: Callable[[], int]
    model_version: Callable[[], str]


class WatchedState(Collector):
    """In flight by phase, approvals waiting, feedback waiting and the model version, computed at scrape time
    from what the watch keeps, so they are right after a restart (a counter in memory would start at zero).

    A standby replica exports none of the watch's gauges (its kopf is paused, its indexes are not kept up):
    only the acting replica's numbers are the cluster's. The model version is every replica's own."""

    def __init__(self) -> None:
        self.sources: Sources | None = None

    def bind(self, sources: Sources) -> None:
        self.sources = sources

    def describe(self) -> Iterator[Metric]:
        """The families, without samples: the registry learns the names (and refuses a duplicate) from this."""
        for name in _WATCHED:
            yield _family(name)

    def collect(self) -> Iterator[Metric]:
        src = self.sources
        if src is None:
            return
        yield _family("remediator_model_info", [([src.model_version()], 1)])
        if not _acting_now():
            return
        summary = summarize(_retrying(src.in_flight), clock.now())
        yield _family("remediator_remediations_in_flight", [([p], n) for p, n in summary.in_phase.items()])
        yield _family("remediator_remediations_overdue", [([p], n) for p, n in summary.overdue.items()])
        yield _family("remediator_approvals_pending", [([], summary.approvals_pending)])
        yield _family("remediator_approval_oldest_wait_seconds", [([], summary.oldest_approval_seconds)])
        yield _family("remediator_feedback_pending", [([], src.pending_feedback())])


def _family(name: str, samples: Iterable[tuple[list[str], float]] = ()) -> GaugeMetricFamily:
    text, labels = _WATCHED[name]
    family = GaugeMetricFamily(name, text, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


# name -> (help, labels) of the scrape-time gauges
_WATCHED: dict[str, tuple[str, list[str]]] = {
    "remediator_model_info": ("The model this replica classifies with", ["version"]),
    "remediator_remediations_in_flight": ("Remediations not yet final, by phase", ["phase"]),
    "remediator_remediations_overdue": (
        "Remediations still in a phase past the deadline the operator should have moved them on by",
        ["phase"],
    ),
    "remediator_approvals_pending": ("Remediations waiting for a human's approval", []),
    "remediator_approval_oldest_wait_seconds": (
        "How long the oldest Remediation waiting for approval has waited (0 when none waits)",
        [],
    ),
    "remediator_feedback_pending": ("Remediations whose feedback waits in their status for the store", []),
}


def _retrying(read: Callable[[], Iterable[InFlight]]) -> list[InFlight]:
    """A kopf index read from the scrape thread while the watch changes it: copy it, again if it moved."""
    for _ in range(3):
        try:
            return list(read())
        except RuntimeError:  # "changed size during iteration"
            continue
    return list(read())


_acting = False


def set_acting(acting: bool) -> None:
    """Whether this replica is the acting one (handlers' peering probe, every few seconds)."""
    global _acting
    _acting = acting
    ACTING.set(1 if acting else 0)


def _acting_now() -> bool:
    return _acting


# The scrape-time gauges: handlers.configure binds their sources once the indexes exist.
WATCHED = WatchedState()
REGISTRY.register(WATCHED)

_ready = threading.Event()
_started = time.monotonic()
_last_beat: float | None = None
STALE_SECONDS = 30.0
STARTUP_GRACE_SECONDS = 120.0


def mark_ready() -> None:
    _ready.set()


def beat() -> None:
    """Called from the event loop every few seconds (handlers.heartbeat)."""
    global _last_beat
    _last_beat = time.monotonic()


def alive(now: float | None = None) -> bool:
    now = time.monotonic() if now is None else now
    if _last_beat is None:
        return now - _started < STARTUP_GRACE_SECONDS
    return now - _last_beat < STALE_SECONDS


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            body, ctype, code = generate_latest(), CONTENT_TYPE_LATEST, 200
        elif self.path.startswith("/healthz"):
            ok = alive()
            body, ctype, code = (b"ok\n" if ok else b"event loop stuck\n"), "text/plain", 200 if ok else 503
        elif self.path.startswith("/readyz"):
            ok = _ready.is_set()
            body, ctype, code = (b"ok\n" if ok else b"starting\n"), "text/plain", 200 if ok else 503
        else:
            body, ctype, code = b"not found\n", "text/plain", 404
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def serve(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve /metrics, /healthz and /readyz in a daemon thread."""
    server = ThreadingHTTPServer((host, port), _Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
