"""Records to one CloudWatch Logs stream: a bounded buffer drained by a background thread with PutLogEvents.

Callers only enqueue (a lock and a deque append): the reconcile never waits for CloudWatch. The thread sends
batches within the API's limits, removes a batch from the buffer only once CloudWatch took it (so a short
outage loses nothing: the batch is retried with backoff), creates its stream when missing (the group is
Terraform's), and on shutdown keeps sending for a bounded time. A full buffer drops its oldest record and
counts it (remediator_audit_records_dropped_total{reason="buffer_full"}).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from remediator import metrics
from remediator.settings import Settings

log = logging.getLogger(__name__)

# PutLogEvents limits (CloudWatch Logs API reference): events and bytes per request, where each event counts
# its UTF-8 message plus 26 bytes; one request may span at most 24 hours, in chronological order.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
# The buffer's memory bound besides its record count (records are ~1.3 KiB, at most 16 KiB each).
BUFFER_MAX_BYTES = 32 * 1024 * 1024

# The one refusal no retry can cure (a malformed batch). Everything else (an outage, throttling, access denied
# or credentials not yet there while IRSA settles) is retried with backoff while the buffer holds.
_PERMANENT_CODES = frozenset({"InvalidParameterException"})


@dataclass(frozen=True)
class LogEvent:
    seq: int  # position in the buffer's order: what a successful send removes up to
    timestamp_ms: int
    message: str
    size: int  # bytes it counts against MAX_BATCH_BYTES (UTF-8 message + overhead)
    queued_at: float  # monotonic, for the flush interval


def event_size(message: str) -> int:
    return len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES


def batch_length(
    events: Sequence[LogEvent],
    max_events: int = MAX_BATCH_EVENTS,
    max_bytes: int = MAX_BATCH_BYTES,
    max_span_ms: int = MAX_BATCH_SPAN_MS,
) -> int:
    """How many of the oldest `events` make the next PutLogEvents request (at least one if any)."""
    if not events:
        return 0
    first, total, n = events[0].timestamp_ms, 0, 0
    for event in events[:max_events]:
        if n and (total + event.size > max_bytes or event.timestamp_ms - first > max_span_ms):
            break
        total += event.size
        n += 1
    return n


class AuditBuffer:
    """Bounded FIFO of events in chronological order (timestamps never go backwards, even if the wall clock
    does), thread-safe. `put` drops the oldest when full (`capacity` records or `max_bytes`); `peek` and
    `commit` remove only what was sent."""

    def __init__(
        self, capacity: int, wall_ms: Callable[[], int] | None = None, max_bytes: int = BUFFER_MAX_BYTES
    ) -> None:
        if capacity < 1 or max_bytes < MAX_EVENT_BYTES:
            raise ValueError("capacity must be at least 1 and max_bytes at least one event")
        self.capacity, self.max_bytes = capacity, max_bytes
        self._wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self._events: deque[LogEvent] = deque()
        self._bytes = 0
        self._seq = 0
        self._last_ms = 0
        self.dropped = 0
        self.lock = threading.Lock()

    def put(self, message: str) -> int:
        """Append one record; returns how many old ones it pushed out (0 or 1)."""
        if len(message.encode("utf-8")) > MAX_EVENT_BYTES:
            raise ValueError(f"a record of {len(message)} characters exceeds a CloudWatch event")
        with self.lock:
            self._last_ms = max(self._last_ms, self._wall_ms())
            self._seq += 1
            event = LogEvent(self._seq, self._last_ms, message, event_size(message), time.monotonic())
            self._events.append(event)
            self._bytes += event.size
            dropped = 0
            while len(self._events) > self.capacity or self._bytes > self.max_bytes:
                self._bytes -= self._events.popleft().size
                dropped += 1
            self.dropped += dropped
            return dropped

    def peek(self, **limits: int) -> list[LogEvent]:
        """The next batch, left in the buffer until `commit`."""
        with self.lock:
            head = [self._events[i] for i in range(min(len(self._events), MAX_BATCH_EVENTS))]
        return head[: batch_length(head, **limits)]

    def commit(self, last_seq: int) -> None:
        """Remove every event up to `last_seq` (ones the buffer already dropped meanwhile are simply gone)."""
        with self.lock:
            while self._events and self._events[0].seq <= last_seq:
                self._bytes -= self._events.popleft().size

    def oldest_age(self, now: float) -> float | None:
        with self.lock:
            return now - self._events[0].queued_at if self._events else None

    def __len__(self) -> int:
        return len(self._events)


class CloudWatchLogsWriter:
    """Ships records to `group`/`stream`; `write` never blocks on the network."""

    def __init__(
        self,
        client: Any,
        group: str,
        stream: str,
        *,
        capacity: int = 10_000,
        flush_seconds: float = 2.0,
        backoff_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        batch_events: int = MAX_BATCH_EVENTS,
    ) -> None:
        self.client, self.group, self.stream = client, group, stream
        self.buffer = AuditBuffer(capacity)
        self.flush_seconds = flush_seconds
        self.backoff_seconds, self.backoff_max_seconds = backoff_seconds, backoff_max_seconds
        self.batch_events = min(batch_events, MAX_BATCH_EVENTS)
        self._wake = threading.Condition()
        self._stopping = False
        self._deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None
        self._stream_ready = False
        self._last_drop_warning = -1e18
        self.sent = 0

    @classmethod
    def configure(cls, settings: Settings) -> CloudWatchLogsWriter | None:
        """The writer the settings ask for (REMEDIATOR_AUDIT_LOG_GROUP), or None: off by default."""
        if not settings.audit_log_group:
            return None
        from botocore.exceptions import NoRegionError  # the SDK only when the stream is on

        from remediator.adapters.aws import logs_client

        # One stream per Pod (its name is the hostname): replicas never interleave in one stream.
        stream = settings.audit_log_stream or os.environ.get("HOSTNAME") or socket.gethostname()
        try:
            client = logs_client(settings.audit_region or settings.aws_region)
        except NoRegionError:
            raise ValueError(
                "the audit stream needs a region: set REMEDIATOR_AUDIT_REGION or REMEDIATOR_AWS_REGION "
                "(chart: audit.region or aws.region)"
            ) from None
        log.info("audit stream: CloudWatch Logs %s/%s", settings.audit_log_group, stream)
        return cls(
            client,
            settings.audit_log_group,
            stream,
            capacity=settings.audit_buffer_records,
            flush_seconds=settings.audit_flush_seconds,
        )

    # -- the caller's side ------------------------------------------------------------------------------------
    def write(self, message: str) -> None:
        """Enqueue one record (never blocks on CloudWatch; a full buffer drops its oldest record)."""
        dropped = self.buffer.put(message)
        if dropped:
            metrics.AUDIT_DROPPED.labels(reason="buffer_full").inc(dropped)
            now = time.monotonic()
            if now - self._last_drop_warning > 60:
                self._last_drop_warning = now
                log.warning(
                    "audit buffer full (%d records or %d MiB, CloudWatch not taking them): dropping the oldest; "
                    "%d dropped so far",
                    self.buffer.capacity,
                    self.buffer.max_bytes // 2**20,
                    self.buffer.dropped,
                )
        metrics.AUDIT_BUFFERED.set(len(self.buffer))
        if len(self.buffer) >= self.batch_events:
            with self._wake:
                self._wake.notify()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-cloudwatch", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> int:
        """Send what is buffered for at most `timeout` seconds, then stop; returns how many records are lost."""
        with self._wake:
            self._stopping = True
            self._deadline = time.monotonic() + timeout
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout + 1.0)
        left = len(self.buffer)
        if left:
            log.warning("audit stream stopped with %d records not sent to %s/%s", left, self.group, self.stream)
        return left

    # -- the sending thread -----------------------------------------------------------------------------------
    def _due(self) -> bool:
        if self._stopping or len(self.buffer) >= self.batch_events:
            return len(self.buffer) > 0
        age = self.buffer.oldest_age(time.monotonic())
        return age is not None and age >= self.flush_seconds

    def _run(self) -> None:
        backoff = self.backoff_seconds
        while True:
            with self._wake:
                while not self._due():
                    if self._stopping:
                        return
                    age = self.buffer.oldest_age(time.monotonic())
                    self._wake.wait(self.flush_seconds if age is None else max(0.01, self.flush_seconds - age))
            if self._stopping and time.monotonic() >= self._deadline:
                return
            if self._send_one():
                backoff = self.backoff_seconds
                continue
            # Full jitter between half and all of the backoff; cut short by the shutdown deadline.
            pause = backoff * (0.5 + random.random() / 2)
            backoff = min(backoff * 2, self.backoff_max_seconds)
            with self._wake:
                end = time.monotonic() + pause
                while (left := min(end, self._deadline) - time.monotonic()) > 0:
                    self._wake.wait(left)
                    if self._stopping and time.monotonic() >= self._deadline:
                        break

    def _send_one(self) -> bool:
        """One PutLogEvents of the oldest batch; True when it left the buffer (sent or permanently refused)."""
        batch = self.buffer.peek(max_events=self.batch_events)
        if not batch:
            return True
        for _ in range(2):  # a second time only right after re-creating a stream that was deleted
            if not self._stream_ready and not self._create_stream():
                return False
            try:
                response = self.client.put_log_events(
                    logGroupName=self.group,
                    logStreamName=self.stream,
                    logEvents=[{"timestamp": e.timestamp_ms, "message": e.message} for e in batch],
                )
                break
            except Exception as err:  # botocore's ClientError and connection errors alike
                code = _error_code(err)
                if code == "ResourceNotFoundException":
                    self._stream_ready = False
                    continue
                if code == "DataAlreadyAcceptedException":
                    self._accepted(batch, {})
                    return True
                if code in _PERMANENT_CODES:
                    log.error("CloudWatch refused %d audit records for good (%s): %s", len(batch), code, err)
                    metrics.AUDIT_DROPPED.labels(reason="refused").inc(len(batch))
                    self.buffer.commit(batch[-1].seq)
                    return True
                self._failed(err)
                return False
        else:
            return False
        self._accepted(batch, response.get("rejectedLogEventsInfo") or {})
        return True

    def _accepted(self, batch: list[LogEvent], rejected: dict[str, int]) -> None:
        self.buffer.commit(batch[-1].seq)
        lost = _rejected_count(len(batch), rejected)
        if lost:
            log.warning("CloudWatch rejected %d of %d audit records (%s)", lost, len(batch), rejected)
            metrics.AUDIT_DROPPED.labels(reason="rejected").inc(lost)
        self.sent += len(batch) - lost
        metrics.AUDIT_SENT.inc(len(batch) - lost)
        metrics.AUDIT_BUFFERED.set(len(self.buffer))
        if self._failing_since is not None:
            log.info(
                "audit stream %s/%s reachable again after %.0f s; %d records waiting",
                self.group,
                self.stream,
                time.monotonic() - self._failing_since,
                len(self.buffer),
            )
            self._failing_since = None

    def _failed(self, err: Exception) -> None:
        metrics.AUDIT_SEND_FAILURES.inc()
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning(
                "audit stream %s/%s unreachable (%s); %d records kept in the buffer, retrying",
                self.group,
                self.stream,
                err,
                len(self.buffer),
            )

    def _create_stream(self) -> bool:
        try:
            self.client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        except Exception as err:
            code = _error_code(err)
            if code != "ResourceAlreadyExistsException":
                if code == "ResourceNotFoundException":
                    log.error("audit log group %s does not exist (Terraform creates it); retrying", self.group)
                self._failed(err)
                return False
        self._stream_ready = True
        return True


def _error_code(err: Exception) -> str | None:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        return str(code) if code else None
    return None


def _rejected_count(n: int, info: dict[str, int]) -> int:
    """Events CloudWatch did not store: indexes up to tooOld/expired (inclusive) and from tooNew on."""
    rejected: set[int] = set()
    for key in ("tooOldLogEventEndIndex", "expiredLogEventEndIndex"):
        if key in info:
            rejected.update(range(0, min(n, int(info[key]) + 1)))
    if "tooNewLogEventStartIndex" in info:
        rejected.update(range(int(info["tooNewLogEventStartIndex"]), n))
    return len(rejected)
