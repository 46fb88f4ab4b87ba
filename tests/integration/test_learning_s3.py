"""Log archive, SSM resolution and model registry against moto's server over HTTP."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from remediator.adapters.archive import LogArchive
from remediator.adapters.registry import ChecksumMismatch, ModelRegistry, RegistryError
from remediator.adapters.ssm import SSMResolutionError, resolve
from remediator.learning import feedback as fb
from tests.fixtures.s3 import MotoServer
from tests.unit.operator.helpers import errorevent

pytestmark = pytest.mark.integration


@pytest.fixture
def bucket(s3_server: MotoServer) -> tuple[Any, str]:
    s3 = s3_server.client("s3")
    name = f"learn-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return s3, name


# -- archive ---------------------------------------------------------------------------------------------------


def test_archive_batches_round_trip(bucket: tuple[Any, str]) -> None:
    s3, name = bucket
    day1 = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)
    day2 = dt.datetime(2026, 3, 2, 0, 1, tzinfo=dt.UTC)
    clock = iter([day1, day2, day2])
    archive = LogArchive(s3, name, "archive/errorevents", max_records=3, clock=lambda: next(clock))
    recs = [fb.errorevent_document(errorevent(name=f"e{i}", uid=f"u{i}")) for i in range(5)]
    recs[0]["logs"] = "password=hunter2"
    k1 = archive.write_batch(recs[:2])
    for r in recs[2:]:
        archive.add(r)  # the third add fills a batch of 3
    assert archive.pending() == 0
    assert k1 is not None and re.fullmatch(
        r"archive/errorevents/dt=2026-03-01/part-20260301T235900000000Z-[0-9a-f]{32}\.jsonl\.gz", k1
    )
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert len(keys) == 2 and keys[1].startswith("archive/errorevents/dt=2026-03-02/")
    raw = s3.get_object(Bucket=name, Key=k1)["Body"].read()
    lines = gzip.decompress(raw).decode().splitlines()
    assert [json.loads(x)["name"] for x in lines] == ["e0", "e1"]
    assert "hunter2" not in raw.decode("latin-1") and "hunter2" not in gzip.decompress(raw).decode()

    assert [r["name"] for r in archive.read_since(dt.date(2026, 3, 1))] == ["e0", "e1", "e2", "e3", "e4"]
    assert [r["name"] for r in archive.read_since(dt.date(2026, 3, 2))] == ["e2", "e3", "e4"]
    assert list(archive.read_since(dt.date(2026, 3, 3))) == []


def test_archive_keeps_its_buffer_while_s3_fails(s3_server: MotoServer, bucket: tuple[Any, str]) -> None:
    s3, name = bucket
    archive = LogArchive(s3, name + "-missing", "a", max_records=2, max_buffer=4)  # bucket does not exist yet
    for i in range(5):
        archive.add({"ref": f"ns/e{i}", "message": f"m{i}"})
    assert archive.failures >= 1 and archive.pending() == 4 and archive.dropped == 1
    s3.create_bucket(Bucket=name + "-missing")
    assert archive.flush() is True and archive.pending() == 0
    got = [r["message"] for r in archive.read_since(dt.date.today() - dt.timedelta(days=1))]
    assert got == ["m1", "m2", "m3", "m4"]


# -- ssm -----------------------------------------------------------------------------------------------------------


def test_ssm_resolves_secure_string_and_names_missing_parameter(s3_server: MotoServer) -> None:
    ssm = s3_server.client("ssm")
    path = f"/kube-remediator/{uuid.uuid4().hex[:8]}/mongodb-uri"
    ssm.put_parameter(Name=path, Value="mongodb://u:p@db:27017/", Type="SecureString")
    made: list[int] = []

    def factory() -> Any:
        made.append(1)
        return s3_server.client("ssm")

    assert resolve(f"ssm://{path}", factory) == "mongodb://u:p@db:27017/"
    assert resolve("mongodb://plain:27017/", factory) == "mongodb://plain:27017/"
    assert len(made) == 1, "no client for a plain value"
    with pytest.raises(SSMResolutionError, match=f"SSM parameter {path}-missing does not exist"):
        resolve(f"ssm://{path}-missing", factory)
    with pytest.raises(SSMResolutionError, match="three slashes"):
        resolve("ssm://relative/path", factory)


# -- registry ------------------------------------------------------------------------------------------------------


def _artifact(root: Path, content: str) -> Path:
    root.mkdir(parents=True)
    (root / "metadata.json").write_text(json.dumps({"v": content}))
    (root / "weights.npy").write_bytes(content.encode() * 100)
    (root / "sub").mkdir()
    (root / "sub" / "extra.json").write_text("{}")
    return root


def test_registry_publish_promote_rollback_download(bucket: tuple[Any, str], tmp_path: Path) -> None:
    s3, name = bucket
    reg = ModelRegistry(s3, name)
    assert reg.current() is None
    manifest = reg.publish(_artifact(tmp_path / "a1", "one"), "v1")
    assert set(manifest["files"]) == {"metadata.json", "weights.npy", "sub/extra.json"}
    v, etag1 = reg.current() or ("", "")
    assert v == "v1" and etag1
    reg.publish(_artifact(tmp_path / "a2", "two"), "v2")
    pointer, etag2 = reg.pointer() or ({}, "")
    assert (pointer["version"], pointer["previous"]) == ("v2", "v1") and etag2 != etag1
    assert sorted(reg.versions()) == ["v1", "v2"]
    with pytest.raises(RegistryError, match="immutable"):
        reg.publish(tmp_path / "a2", "v2")

    out = reg.download("v2", tmp_path / "dl" / "v2")
    assert (out / "weights.npy").read_bytes() == b"two" * 100 and (out / "sub" / "extra.json").exists()

    assert reg.rollback()["version"] == "v1"
    assert (reg.current() or ("",))[0] == "v1"
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback()
    reg.promote("v2")
    assert (reg.current() or ("",))[0] == "v2"
    with pytest.raises(RegistryError, match="not published"):
        reg.promote("v9")


def test_registry_download_refuses_tampered_files(bucket: tuple[Any, str], tmp_path: Path) -> None:
    s3, name = bucket
    reg = ModelRegistry(s3, name, prefix="models")
    reg.publish(_artifact(tmp_path / "a", "good"), "v1")
    s3.put_object(Bucket=name, Key="models/v1/weights.npy", Body=b"evil" * 100)
    dest = tmp_path / "dl" / "v1"
    with pytest.raises(ChecksumMismatch, match=r"weights\.npy"):
        reg.download("v1", dest)
    assert not dest.exists()
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [], "no partial download left behind"
