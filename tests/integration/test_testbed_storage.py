"""Integration tests of the storage testbed: real FerretDB over the wire protocol, moto S3/SSM over HTTP."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
import uuid
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

from tests.fixtures.mongo import FerretDBServer
from tests.fixtures.s3 import MotoServer

pytestmark = pytest.mark.integration

# FerretDB's code for "NotImplemented" (MongoDB's ErrorCodes::NotImplemented).
NOT_IMPLEMENTED = 238


def _now() -> dt.datetime:
    # BSON dates have millisecond precision and come back naive (UTC) by default.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@pytest.mark.integration
def test_mongo_crud_round_trip(mongo_db: Any) -> None:
    events = mongo_db["events"]
    first = events.insert_one({"pod": "web-0", "reason": "OOMKilled", "restarts": 1, "at": _now()})
    assert first.acknowledged
    events.insert_many(
        [
            {"pod": "web-1", "reason": "CrashLoopBackOff", "restarts": 4, "labels": {"app": "web"}},
            {"pod": "db-0", "reason": "OOMKilled", "restarts": 7, "labels": {"app": "db"}},
        ]
    )

    assert events.count_documents({}) == 3
    oom = list(events.find({"reason": "OOMKilled"}, {"_id": 0, "pod": 1}).sort("restarts", DESCENDING))
    assert oom == [{"pod": "db-0"}, {"pod": "web-0"}]
    assert events.find_one({"labels.app": "web"})["pod"] == "web-1"

    res = events.update_one({"_id": first.inserted_id}, {"$inc": {"restarts": 2}, "$set": {"handled": True}})
    assert (res.matched_count, res.modified_count) == (1, 1)
    doc = events.find_one({"_id": first.inserted_id})
    assert doc["restarts"] == 3 and doc["handled"] is True and isinstance(doc["at"], dt.datetime)

    upserted = events.find_one_and_update(
        {"pod": "cache-0"},
        {"$setOnInsert": {"reason": "Evicted"}, "$inc": {"restarts": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert upserted["reason"] == "Evicted" and upserted["restarts"] == 1

    many = events.update_many({"restarts": {"$gte": 4}}, {"$set": {"severity": "high"}})
    assert many.modified_count == 2
    assert events.delete_many({"severity": "high"}).deleted_count == 2
    assert sorted(d["pod"] for d in events.find()) == ["cache-0", "web-0"]


@pytest.mark.integration
def test_mongo_index_creation_and_unique_constraint(mongo_db: Any) -> None:
    decisions = mongo_db["decisions"]
    name = decisions.create_index([("namespace", ASCENDING), ("pod", ASCENDING)], unique=True, name="ns_pod")
    decisions.create_index([("decided_at", DESCENDING)])
    info = decisions.index_information()
    assert name == "ns_pod"
    assert info["ns_pod"]["key"] == [("namespace", 1), ("pod", 1)] and info["ns_pod"].get("unique") is True
    assert info["decided_at_-1"]["key"] == [("decided_at", -1)]

    decisions.insert_one({"namespace": "prod", "pod": "web-0"})
    with pytest.raises(DuplicateKeyError):
        decisions.insert_one({"namespace": "prod", "pod": "web-0"})
    decisions.insert_one({"namespace": "staging", "pod": "web-0"})
    assert decisions.count_documents({}) == 2


@pytest.mark.integration
def test_mongo_ttl_index_is_not_implemented_by_ferretdb(mongo_db: Any) -> None:
    """FerretDB 1.x refuses TTL indexes: storage code must expire documents itself (see the sweep below)."""
    audit = mongo_db["audit"]
    with pytest.raises(OperationFailure) as err:
        audit.create_index([("expires_at", ASCENDING)], expireAfterSeconds=3600)
    assert err.value.code == NOT_IMPLEMENTED
    assert "expireAfterSeconds" in str(err.value)
    assert "expires_at_1" not in audit.index_information()

    # The portable replacement: a plain index on the expiry field and a periodic delete_many.
    audit.create_index([("expires_at", ASCENDING)])
    now = _now()
    audit.insert_many(
        [
            {"k": "old", "expires_at": now - dt.timedelta(seconds=1)},
            {"k": "new", "expires_at": now + dt.timedelta(hours=1)},
        ]
    )
    assert audit.delete_many({"expires_at": {"$lte": now}}).deleted_count == 1
    assert [d["k"] for d in audit.find()] == ["new"]


@pytest.mark.integration
def test_mongo_outage_and_recovery(mongo_server: FerretDBServer, mongo_db: Any) -> None:
    coll = mongo_db["outage"]
    coll.insert_many([{"seq": i} for i in range(5)])
    fast = mongo_server.client(serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
    try:
        assert fast[mongo_db.name]["outage"].count_documents({}) == 5
        mongo_server.stop()
        assert not mongo_server.running
        t0 = time.monotonic()
        with pytest.raises(ConnectionFailure):
            fast[mongo_db.name]["outage"].insert_one({"seq": 99})
        assert time.monotonic() - t0 < 10, "a short serverSelectionTimeoutMS must fail fast"
        with pytest.raises(ConnectionFailure):
            fast[mongo_db.name]["outage"].find_one({"seq": 0})
    finally:
        if not mongo_server.running:
            mongo_server.start()
    # Same port, same SQLite folder: data written before the stop is there and writes work again.
    assert sorted(d["seq"] for d in coll.find()) == [0, 1, 2, 3, 4]
    coll.insert_one({"seq": 5})
    assert fast[mongo_db.name]["outage"].count_documents({}) == 6
    assert coll.find_one({"seq": 99}) is None
    fast.close()


@pytest.mark.integration
def test_s3_gzip_object_round_trip(s3_server: MotoServer) -> None:
    s3 = s3_server.client("s3")
    bucket = f"remediator-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    records = [{"pod": f"web-{i}", "reason": "OOMKilled", "restarts": i} for i in range(100)]
    raw = "\n".join(json.dumps(r) for r in records).encode()
    body = gzip.compress(raw)
    key = "datasets/2026/11/events.jsonl.gz"

    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip")
    s3.put_object(Bucket=bucket, Key="datasets/2026/12/other.jsonl.gz", Body=gzip.compress(b"{}"))
    s3.put_object(Bucket=bucket, Key="models/current.txt", Body=b"v1")

    got = s3.get_object(Bucket=bucket, Key=key)
    fetched = got["Body"].read()
    assert fetched == body, "the stored object must be the compressed bytes, not decompressed"
    assert got["ContentType"] == "application/gzip" and got["ContentLength"] == len(body)
    assert [json.loads(line) for line in gzip.decompress(fetched).splitlines()] == records

    listed = s3.list_objects_v2(Bucket=bucket, Prefix="datasets/")
    assert sorted(o["Key"] for o in listed["Contents"]) == [key, "datasets/2026/12/other.jsonl.gz"]
    assert {o["Key"]: o["Size"] for o in listed["Contents"]}[key] == len(body)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    assert s3_server.endpoint_url.startswith("http://127.0.0.1:")


@pytest.mark.integration
def test_ssm_secure_string_round_trip(s3_server: MotoServer) -> None:
    ssm = s3_server.client("ssm")
    name = f"/kube-remediator/test/{uuid.uuid4().hex[:12]}/mongo-uri"
    secret = "mongodb://user:p%40ss@mongo.internal:27017/remediator"

    assert ssm.put_parameter(Name=name, Value=secret, Type="SecureString")["Version"] == 1
    plain = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert plain["Value"] == secret and plain["Type"] == "SecureString"
    assert ssm.get_parameter(Name=name, WithDecryption=False)["Parameter"]["Value"] != secret

    assert ssm.put_parameter(Name=name, Value=secret + "2", Type="SecureString", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == secret + "2"
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=name + "-missing", WithDecryption=True)
