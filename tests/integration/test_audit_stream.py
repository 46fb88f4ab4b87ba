"""The audit writer against moto's CloudWatch Logs in server mode: order and completeness, an outage (the
endpoint refusing connections while records keep coming), a buffer overflow, and a log group that is
missing at first. The writer runs in this process; the operator end to end is test_operator_audit.py."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from remediator.adapters.aws import logs_client
from remediator.adapters.cloudwatch_logs import CloudWatchLogsWriter
from remediator.domain import audit
from tests.fixtures.procs import LOOPBACK
from tests.fixtures.s3 import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, REGION, MotoServer
from tests.fixtures.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_KEY)
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def group(s3_server: MotoServer) -> str:
    name = f"/kube-remediator-test/{uuid.uuid4().hex[:8]}/operator"
    s3_server.client("logs").create_log_group(logGroupName=name)
    return name


@pytest.fixture
def proxy(s3_server: MotoServer) -> Iterator[CuttableProxy]:
    p = CuttableProxy(s3_server.port)
    yield p
    p.close()


def records(n: int, start: int = 0) -> list[str]:
    """Encoded audit records of a realistic shape, numbered so order and gaps are visible."""
    out = []
    for i in range(start, start + n):
        rem = {
            "metadata": {"namespace": "shop", "name": f"web-{i}", "uid": f"uid-{i}", "resourceVersion": str(i)},
            "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "restart_pod", "confidence": 0.9},
            "status": {"phase": "Approved", "reason": "PolicyAllows", "message": f"record {i}"},
        }
        out.append(audit.encode(audit.decision_record({}, rem, datetime.now(UTC))))
    return out


def numbers(messages: list[str]) -> list[int]:
    return [int(json.loads(m)["remediation"]["name"].removeprefix("web-")) for m in messages]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def make_writer(endpoint: str, group: str, stream: str, **kwargs: object) -> CloudWatchLogsWriter:
    options: dict[str, object] = {"flush_seconds": 0.2, "backoff_seconds": 0.1, "backoff_max_seconds": 0.5}
    return CloudWatchLogsWriter(logs_client(REGION, endpoint), group, stream, **(options | kwargs))  # type: ignore[arg-type]


def test_records_arrive_in_order_and_complete(s3_server: MotoServer, group: str) -> None:
    writer = make_writer(s3_server.endpoint_url, group, "operator-0")
    writer.start()
    sent = records(1200)
    for message in sent:
        writer.write(message)
    wait_until(lambda: len(s3_server.log_messages(group, "operator-0")) >= 1200, 30, "1200 records")
    assert writer.close(5) == 0
    assert s3_server.log_messages(group, "operator-0") == sent  # same order, byte for byte, nothing twice


def test_an_outage_loses_nothing_and_duplicates_nothing(
    s3_server: MotoServer, group: str, proxy: CuttableProxy
) -> None:
    writer = make_writer(proxy.url, group, "outage")
    writer.start()
    for message in records(50):
        writer.write(message)
    wait_until(lambda: len(s3_server.log_messages(group, "outage")) == 50, 20, "the first 50 records")

    proxy.cut()  # nothing listens on the endpoint now: every connect is refused
    failures = sample("remediator_audit_send_failures_total")
    for i in range(50, 150, 10):  # the operator keeps deciding during the outage
        for message in records(10, i):
            writer.write(message)
        time.sleep(0.1)
    wait_until(lambda: sample("remediator_audit_send_failures_total") >= failures + 3, 20, "retries while down")
    assert len(s3_server.log_messages(group, "outage")) == 50  # nothing got through the cut

    proxy.restore()
    wait_until(lambda: len(s3_server.log_messages(group, "outage")) >= 150, 30, "the records of the outage")
    assert writer.close(5) == 0
    got = s3_server.log_messages(group, "outage")
    assert numbers(got) == list(range(150)), "lost, duplicated or reordered records"


def test_a_full_buffer_drops_the_oldest_and_counts_it(s3_server: MotoServer, group: str, proxy: CuttableProxy) -> None:
    proxy.cut()
    writer = make_writer(proxy.url, group, "overflow", capacity=100)
    writer.start()
    dropped = sample("remediator_audit_records_dropped_total", reason="buffer_full")
    for message in records(130):
        writer.write(message)
    assert sample("remediator_audit_records_dropped_total", reason="buffer_full") == dropped + 30
    assert sample("remediator_audit_buffered_records") == 100
    proxy.restore()
    wait_until(lambda: len(s3_server.log_messages(group, "overflow")) >= 100, 30, "the kept 100 records")
    assert writer.close(5) == 0
    assert numbers(s3_server.log_messages(group, "overflow")) == list(range(30, 130))  # the newest, in order


def test_a_missing_group_is_waited_for_and_the_stream_created(s3_server: MotoServer) -> None:
    group = f"/kube-remediator-test/{uuid.uuid4().hex[:8]}/not-yet"
    writer = make_writer(s3_server.endpoint_url, group, "late")
    writer.start()
    sent = records(5)
    for message in sent:
        writer.write(message)
    failures = sample("remediator_audit_send_failures_total")
    wait_until(lambda: sample("remediator_audit_send_failures_total") > failures, 10, "a failed attempt")
    s3_server.client("logs").create_log_group(logGroupName=group)  # Terraform's job, done late
    wait_until(lambda: len(s3_server.log_messages(group, "late")) == 5, 20, "the records after the group exists")
    assert writer.close(5) == 0
    assert s3_server.log_messages(group, "late") == sent


def test_the_proxy_really_refuses_while_cut(proxy: CuttableProxy) -> None:
    """The outage above is real: a connect to the cut endpoint fails at once."""
    import socket

    proxy.cut()
    with pytest.raises(OSError), socket.create_connection((LOOPBACK, proxy.port), timeout=2):
        pass
    proxy.restore()
    with socket.create_connection((LOOPBACK, proxy.port), timeout=2):
        pass
