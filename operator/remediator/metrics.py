"""Prometheus metrics of the operator, served on /metrics together with /healthz and /readyz.

/healthz is liveness: it fails when kopf's event loop has not beaten for STALE_SECONDS (a stuck loop
handles nothing, so the kubelet should restart the process); /readyz says start-up has finished."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

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
API_ERRORS = Counter("remediator_api_errors_total", "Errors talking to the API server", ["operation", "code"])
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
