"""The audit writer's batching, buffer and retry logic against an in-memory client (no server, no sleeps
beyond a few tens of milliseconds); the same against moto's server is tests/integration/test_audit_stream.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from prometheus_client import REGISTRY

from remediator.adapters.cloudwatch_logs import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_BATCH_SPAN_MS,
    AuditBuffer,
    CloudWatchLogsWriter,
    LogEvent,
    batch_length,
    event_size,
)


def events(sizes: list[int], step_ms: int = 1) -> list[LogEvent]:
    return [LogEvent(i + 1, i * step_ms, "x" * s, s + EVENT_OVERHEAD_BYTES, 0.0) for i, s in enumerate(sizes)]


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutLogEvents")


def test_event_size_counts_utf8_bytes_and_the_overhead() -> None:
    assert event_size("abc") == 3 + 26
    assert event_size("é") == 2 + 26


def test_a_batch_stops_at_the_byte_limit_counting_the_overhead() -> None:
    per = 100_000
    n_fit = MAX_BATCH_BYTES // (per + EVENT_OVERHEAD_BYTES)
    assert batch_length(events([per] * (n_fit + 5))) == n_fit
    # Without the 26-byte overhead one more would seem to fit: exactly at the limit it must not.
    exact = MAX_BATCH_BYTES // 2 - EVENT_OVERHEAD_BYTES
    assert batch_length(events([exact, exact, 1])) == 2
    assert batch_length(events([exact, exact + 1])) == 1


def test_a_batch_stops_at_the_event_count_and_the_24_hour_span() -> None:
    assert batch_length(events([1] * (MAX_BATCH_EVENTS + 10))) == MAX_BATCH_EVENTS
    hour = 3600 * 1000
    spread = events([1] * 30, step_ms=hour)  # 0 h, 1 h, ... 29 h
    assert batch_length(spread) == 25  # 0 h .. 24 h inclusive: a span of exactly 24 h
    assert batch_length(spread, max_span_ms=MAX_BATCH_SPAN_MS - 1) == 24
    assert batch_length([]) == 0
    assert batch_length(events([MAX_BATCH_BYTES])) == 1  # never stuck on one big event


def test_the_buffer_drops_the_oldest_when_full_and_counts_it() -> None:
    buf = AuditBuffer(3)
    assert [buf.put(f"r{i}") for i in range(5)] == [0, 0, 0, 1, 1]
    assert buf.dropped == 2
    assert [e.message for e in buf.peek()] == ["r2", "r3", "r4"]


def test_the_buffer_is_bounded_in_bytes_too() -> None:
    record = "x" * (200 * 1024)
    buf = AuditBuffer(1000, max_bytes=1024 * 1024)
    dropped = sum(buf.put(record) for _ in range(10))
    assert len(buf) == 5 and dropped == 5  # 5 x (200 KiB + 26) fit in 1 MiB, a sixth does not
    buf.commit(buf.peek()[-1].seq)
    assert len(buf) == 0 and buf.put(record) == 0  # committing gave the bytes back


def test_timestamps_never_go_backwards_even_when_the_clock_does() -> None:
    clock = iter([1000, 900, 1200, 50])
    buf = AuditBuffer(10, wall_ms=lambda: next(clock))
    for i in range(4):
        buf.put(str(i))
    assert [e.timestamp_ms for e in buf.peek()] == [1000, 1000, 1200, 1200]


def test_commit_removes_only_what_was_sent_even_after_drops() -> None:
    buf = AuditBuffer(3)
    for i in range(3):
        buf.put(f"r{i}")
    batch = buf.peek()  # r0 r1 r2 in flight
    buf.put("r3")  # pushes r0 out while the batch is being sent
    buf.commit(batch[-1].seq)
    assert [e.message for e in buf.peek()] == ["r3"]


def test_a_record_larger_than_an_event_is_refused_at_once() -> None:
    with pytest.raises(ValueError):
        AuditBuffer(3).put("x" * (256 * 1024))


class FakeLogs:
    """put_log_events/create_log_stream as CloudWatch answers them; `fail` decides each call's fate."""

    def __init__(self) -> None:
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self.calls = 0
        self.fail: Callable[[int], Exception | None] = lambda n: None
        self.rejected: dict[str, int] = {}
        self.lock = threading.Lock()

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        with self.lock:
            if logStreamName in self.streams:
                raise client_error("ResourceAlreadyExistsException")
            self.streams[logStreamName] = []

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict[str, Any]]) -> Any:
        with self.lock:
            self.calls += 1
            err = self.fail(self.calls)
            if err is not None:
                raise err
            if logStreamName not in self.streams:
                raise client_error("ResourceNotFoundException")
            stamps = [e["timestamp"] for e in logEvents]
            assert stamps == sorted(stamps), "out of chronological order"
            assert len(logEvents) <= MAX_BATCH_EVENTS
            assert sum(event_size(e["message"]) for e in logEvents) <= MAX_BATCH_BYTES
            self.streams[logStreamName].extend(logEvents)
            return {"rejectedLogEventsInfo": self.rejected} if self.rejected else {}

    def messages(self, stream: str = "s") -> list[str]:
        with self.lock:
            return [e["message"] for e in self.streams.get(stream, [])]


def writer(fake: FakeLogs, **kwargs: Any) -> CloudWatchLogsWriter:
    defaults: dict[str, Any] = {"flush_seconds": 0.01, "backoff_seconds": 0.01, "backoff_max_seconds": 0.05}
    return CloudWatchLogsWriter(fake, "/g", "s", **(defaults | kwargs))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_records_arrive_in_order_and_the_stream_is_created_once() -> None:
    fake = FakeLogs()
    w = writer(fake)
    w.start()
    for i in range(250):
        w.write(f"r{i}")
    wait_until(lambda: len(fake.messages()) == 250)
    assert fake.messages() == [f"r{i}" for i in range(250)]
    assert w.close(1.0) == 0


def test_an_outage_loses_nothing_and_duplicates_nothing() -> None:
    fake = FakeLogs()
    down = threading.Event()
    down.set()
    fake.fail = lambda n: EndpointConnectionError(endpoint_url="http://127.0.0.1:1") if down.is_set() else None
    w = writer(fake)
    w.start()
    for i in range(100):
        w.write(f"r{i}")
    wait_until(lambda: fake.calls >= 5)  # retried, with backoff, while down
    for i in range(100, 200):
        w.write(f"r{i}")
    down.clear()
    wait_until(lambda: len(fake.messages()) == 200)
    assert fake.messages() == [f"r{i}" for i in range(200)]
    assert w.close(1.0) == 0


def test_throttling_is_retried_and_a_malformed_batch_is_dropped_and_counted() -> None:
    fake = FakeLogs()
    fake.fail = lambda n: client_error("ThrottlingException") if n <= 2 else None
    w = writer(fake)
    w.start()
    w.write("after-throttling")
    wait_until(lambda: fake.messages() == ["after-throttling"])
    before = counter("remediator_audit_records_dropped_total", reason="refused")
    fake.fail = lambda n: client_error("InvalidParameterException")
    w.write("malformed")
    wait_until(lambda: counter("remediator_audit_records_dropped_total", reason="refused") == before + 1)
    fake.fail = lambda n: None
    w.write("next")
    wait_until(lambda: fake.messages() == ["after-throttling", "next"])
    w.close(1.0)


def test_a_deleted_stream_is_created_again_without_losing_the_batch() -> None:
    fake = FakeLogs()
    w = writer(fake)
    w.start()
    w.write("one")
    wait_until(lambda: fake.messages() == ["one"])
    with fake.lock:
        del fake.streams["s"]
    w.write("two")
    wait_until(lambda: fake.messages() == ["two"])
    w.close(1.0)


def test_events_cloudwatch_rejects_are_counted_not_retried() -> None:
    fake = FakeLogs()
    fake.rejected = {"tooOldLogEventEndIndex": 1}
    before = counter("remediator_audit_records_dropped_total", reason="rejected")
    w = writer(fake, flush_seconds=0.2)
    for i in range(3):
        w.write(f"r{i}")
    w.start()
    wait_until(lambda: counter("remediator_audit_records_dropped_total", reason="rejected") == before + 2)
    assert fake.calls == 1
    w.close(1.0)


def test_a_full_buffer_drops_the_oldest_counts_it_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeLogs()
    fake.fail = lambda n: EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    w = writer(fake, capacity=100)
    before = counter("remediator_audit_records_dropped_total", reason="buffer_full")
    w.start()
    for i in range(150):
        w.write(f"r{i}")
    assert counter("remediator_audit_records_dropped_total", reason="buffer_full") == before + 50
    assert "audit buffer full" in caplog.text
    fake.fail = lambda n: None
    wait_until(lambda: len(fake.messages()) == 100)
    assert fake.messages() == [f"r{i}" for i in range(50, 150)]  # the newest 100, in order
    w.close(1.0)


def test_write_never_waits_for_a_hanging_endpoint() -> None:
    fake = FakeLogs()
    release = threading.Event()

    def hang(n: int) -> Exception | None:
        release.wait(5)
        return None

    fake.fail = hang
    w = writer(fake)
    w.start()
    w.write("first")
    wait_until(lambda: fake.calls == 1)  # the sender is now stuck inside put_log_events
    started = time.perf_counter()
    for i in range(1000):
        w.write(f"r{i}")
    elapsed = time.perf_counter() - started
    release.set()
    assert elapsed < 1.0, elapsed  # generous: a blocked write would take the full 5 s
    w.close(2.0)


def test_close_flushes_what_it_can_within_its_bound() -> None:
    fake = FakeLogs()
    w = writer(fake, flush_seconds=30)  # nothing would be due for 30 s
    w.start()
    for i in range(10):
        w.write(f"r{i}")
    assert w.close(2.0) == 0
    assert fake.messages() == [f"r{i}" for i in range(10)]
    down = FakeLogs()
    down.fail = lambda n: EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    w = writer(down, flush_seconds=30)
    w.start()
    w.write("lost")
    started = time.monotonic()
    assert w.close(0.3) == 1  # bounded: it gives up and says how many it could not send
    assert time.monotonic() - started < 2.0


def test_configure_is_off_by_default_and_names_the_stream_after_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from remediator.settings import Settings

    assert CloudWatchLogsWriter.configure(Settings()) is None
    monkeypatch.setenv("HOSTNAME", "kube-remediator-7d9f8-abcde")
    w = CloudWatchLogsWriter.configure(Settings(audit_log_group="/kr/operator", aws_region="eu-west-1"))
    assert w is not None and (w.group, w.stream) == ("/kr/operator", "kube-remediator-7d9f8-abcde")
    assert w.client.meta.region_name == "eu-west-1"
    w = CloudWatchLogsWriter.configure(
        Settings(audit_log_group="/kr/operator", audit_log_stream="s", audit_region="us-west-2", aws_region="eu-west-1")
    )
    assert w is not None and w.stream == "s" and w.client.meta.region_name == "us-west-2"


def test_configure_without_a_region_says_which_setting_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from remediator.settings import Settings

    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(ValueError, match="REMEDIATOR_AUDIT_REGION"):
        CloudWatchLogsWriter.configure(Settings(audit_log_group="/kr/operator"))


def test_settings_refuse_names_cloudwatch_would() -> None:
    from pydantic import ValidationError

    from remediator.settings import Settings

    for bad in ({"audit_log_group": "a group"}, {"audit_log_stream": "a:b"}, {"audit_buffer_records": 10}):
        with pytest.raises(ValidationError):
            Settings(**bad)
