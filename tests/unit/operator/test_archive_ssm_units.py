"""LogArchive buffering and SSM resolution with fake AWS clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediator.adapters.archive import LogArchive, decode_batch
from remediator.adapters.ssm import SSMResolutionError, parameter_name, resolve


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("could not connect to the endpoint URL")
        self.objects[Key] = Body
        return {}


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _archive(s3: FakeS3, clock: Clock, **kw: Any) -> LogArchive:
    return LogArchive(s3, "b", "p", clock=lambda: dt.datetime(2026, 1, 2, tzinfo=dt.UTC), monotonic=clock, **kw)


def test_flush_by_size_and_by_age() -> None:
    s3, clock = FakeS3(), Clock()
    archive = _archive(s3, clock, max_records=3, max_age_seconds=10)
    archive.add({"message": "a"})
    archive.add({"message": "b"})
    assert s3.objects == {} and archive.pending() == 2
    assert archive.flush_due() is True and s3.objects == {}  # not old enough
    clock.t = 11
    assert archive.flush_due() is True and archive.pending() == 0
    (key,) = s3.objects
    assert key.startswith("p/dt=2026-01-02/part-20260102T000000000000Z-")
    assert [r["message"] for r in decode_batch(s3.objects[key])] == ["a", "b"]
    for m in "cde":
        archive.add({"message": m})
    assert len(s3.objects) == 2 and archive.written == 5


def test_s3_failure_keeps_the_buffer_and_counts_drops(caplog: pytest.LogCaptureFixture) -> None:
    s3, clock = FakeS3(), Clock()
    archive = _archive(s3, clock, max_records=2, max_buffer=5)
    s3.down = True
    with caplog.at_level("ERROR"):
        for i in range(7):
            archive.add({"message": str(i), "logs": "token=abcdef123456"})
    assert archive.pending() == 5 and archive.dropped == 2 and archive.failures >= 1
    assert "dropped" in caplog.text
    s3.down = False
    assert archive.flush() is True
    got = [r for body in s3.objects.values() for r in decode_batch(body)]  # in write order
    assert [r["message"] for r in got] == ["2", "3", "4", "5", "6"], "oldest dropped, order kept, no duplicates"
    assert all("abcdef123456" not in r["logs"] for r in got)


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        LogArchive(FakeS3(), "b", max_records=10, max_buffer=5)


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeSSM:
    def __init__(self, values: dict[str, str], error: str | None = None) -> None:
        self.values, self.error, self.calls = values, error, []

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        self.calls.append((Name, WithDecryption))
        if self.error:
            raise _ClientError(self.error)
        if Name not in self.values:
            raise _ClientError("ParameterNotFound")
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}


def test_resolve_plain_and_ssm_values() -> None:
    ssm = FakeSSM({"/kr/mongo": "mongodb://u:secretpw@db/"})
    assert resolve("mongodb://db/", lambda: pytest.fail("no client needed")) == "mongodb://db/"
    assert resolve("ssm:///kr/mongo", lambda: ssm) == "mongodb://u:secretpw@db/"
    assert ssm.calls == [("/kr/mongo", True)]
    assert parameter_name("plain") is None


@pytest.mark.parametrize(
    ("value", "error", "needle"),
    [
        ("ssm:///kr/missing", None, "SSM parameter /kr/missing does not exist"),
        ("ssm:///kr/mongo", "AccessDeniedException", "SSM parameter /kr/mongo: access denied"),
        ("ssm:///kr/mongo", "ThrottlingException", "SSM parameter /kr/mongo could not be read: ThrottlingException"),
        ("ssm://kr/mongo", None, "three slashes"),
        ("ssm:///", None, "three slashes"),
    ],
)
def test_resolve_errors_name_the_parameter_never_the_value(value: str, error: str | None, needle: str) -> None:
    with pytest.raises(SSMResolutionError) as err:
        resolve(value, lambda: FakeSSM({"/kr/mongo": "secretpw"}, error))
    assert needle in str(err.value) and "secretpw" not in str(err.value)


def test_the_mongodb_uri_needs_the_aws_sdk_only_when_it_is_an_ssm_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    from remediator.learning import loop
    from remediator.settings import Settings

    made: list[str] = []

    class FakeSSM:
        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
            return {"Parameter": {"Value": "mongodb://from-ssm"}}

    def clients(endpoint: str | None, region: str | None) -> tuple[Any, Any]:
        made.append("s3")
        return object(), FakeSSM

    monkeypatch.setattr(loop.aws, "clients", clients)
    assert loop.resolved_mongodb_uri(Settings()) is None
    assert loop.resolved_mongodb_uri(Settings(mongodb_uri="mongodb://db:27017")) == "mongodb://db:27017"
    assert made == []  # no SDK import, no client: about 20 MB of the operator's memory
    assert loop.resolved_mongodb_uri(Settings(mongodb_uri="ssm:///kr/mongodb")) == "mongodb://from-ssm"
    assert made == ["s3"]
