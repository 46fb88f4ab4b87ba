"""The feedback store against a real FerretDB 1.x: round trip, expiry, outage and exactly-once recording."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from remediator.adapters.store import FeedbackStore, StoreUnavailable
from remediator.learning import feedback as fb
from remediator.learning.recorder import FeedbackFlusher
from remediator.learning.retrain import examples_from_feedback
from tests.fixtures.mongo import FerretDBServer
from tests.unit.operator.helpers import FakeKube, errorevent, remediation

pytestmark = pytest.mark.integration


@pytest.fixture
def store(feedback_store: FeedbackStore) -> FeedbackStore:
    return feedback_store


def _cluster(n: int) -> tuple[FakeKube, list[dict[str, Any]]]:
    kube = FakeKube()
    rems = []
    for i in range(n):
        name = f"web-{i}"
        rem = remediation(name=name, uid=f"uid-{i}")
        kube.objects[("remediations", "shop", name)] = rem
        kube.objects[("errorevents", "shop", name)] = errorevent(name=name, uid=f"ee-{i}")
        rems.append(rem)
    return kube, rems


def test_feedback_round_trip(store: FeedbackStore) -> None:
    assert store.ping()
    kube, (rem,) = _cluster(1)
    assert FeedbackFlusher(store, kube).flush_one(rem) is True
    doc = store.feedback.find_one({"_id": rem["status"]["feedback"]["id"]})
    assert doc is not None
    assert (doc["label"], doc["source"], doc["weight"]) == ("correct", "verification", fb.WEIGHTS["verification"])
    assert (doc["reason"], doc["exit_code"], doc["predicted_action"]) == ("OOMKilled", 137, "increase_memory")
    assert isinstance(doc["created_at"], dt.datetime) and doc["created_at"].tzinfo is not None
    assert [d["_id"] for d in store.feedback_since()] == [doc["_id"]]
    assert list(store.feedback_since(labels=("incorrect",))) == []
    info = store.feedback.index_information()
    assert {"created_at", "label", "source"} <= set(info)

    # A human's verdict on the same Remediation is a second document; re-flushing either changes nothing.
    rem["status"]["feedback"] = {
        "label": "incorrect",
        "source": "human",
        "correctAction": "rollback",
        "recorded": False,
    }
    assert FeedbackFlusher(store, kube).flush_one(rem) is True
    assert store.count("feedback") == 2
    human = store.feedback.find_one({"source": "human"})
    assert human is not None and human["correct_action"] == "rollback" and human["weight"] == fb.WEIGHTS["human"]


def test_store_scrubs_what_it_is_given(store: FeedbackStore) -> None:
    doc = fb.errorevent_document(errorevent())
    doc["logs"] = "connecting to mongodb://app:hunter2@db:27017 with password=hunter2"
    store.record_errorevent(doc)
    stored = store.errorevents.find_one({"_id": doc["key"]})
    assert stored is not None and "hunter2" not in stored["logs"] and stored["ref"] == "shop/web-oom"


def test_errorevents_expire_by_purge(store: FeedbackStore) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    store.clock = lambda: now - dt.timedelta(days=40)
    store.record_errorevent(fb.errorevent_document(errorevent(name="old", uid="u-old")))
    store.clock = lambda: now
    store.record_errorevent(fb.errorevent_document(errorevent(name="new", uid="u-new")))
    assert store.count("errorevents") == 2
    assert store.purge_expired() == 1
    assert [d["name"] for d in store.errorevents.find()] == ["new"]
    assert set(store.errorevents_by_ref(["shop/new", "shop/old"])) == {"shop/new"}


def test_remediation_documents_update_in_place(store: FeedbackStore) -> None:
    rem = remediation()
    rem["status"] = {"phase": "Verifying"}
    assert store.record_remediation(fb.remediation_document(rem)) is True
    rem["status"] = {"phase": "Succeeded", "outcome": {"result": "Succeeded"}}
    assert store.record_remediation(fb.remediation_document(rem)) is False
    (doc,) = list(store.remediations.find())
    assert doc["phase"] == "Succeeded" and doc["outcome"] == "Succeeded" and doc["model_version"] == "v1"


def test_outage_pending_feedback_is_written_exactly_once(mongo_server: FerretDBServer, store: FeedbackStore) -> None:
    """MongoDB stops mid-run: feedback waits in the Remediations' status, nothing is lost or duplicated,
    including a Remediation whose status patch failed after its store write."""
    kube, rems = _cluster(6)
    flusher = FeedbackFlusher(store, kube)
    assert flusher.flush_one(rems[0]) is True  # before the outage

    # rems[1]: stored, but "the API server" refused the status patch, so it still says recorded: false
    kube.fail_patches = 1
    assert flusher.flush_one(rems[1]) is False
    assert store.count("feedback", {"_id": "shop/web-1/uid-1/verification"}) == 1
    assert rems[1]["status"]["feedback"]["recorded"] is False

    mongo_server.stop()
    try:
        t0 = time.monotonic()
        for rem in rems[1:]:
            assert flusher.flush_one(rem) is False
            assert rem["status"]["feedback"]["recorded"] is False
        assert time.monotonic() - t0 < 30, "each attempt fails within the store's timeout"
        assert not store.ping()
        with pytest.raises(StoreUnavailable):
            store.record_feedback(fb.feedback_document(rems[2], None))
        patches_during_outage = len(kube.patches)
    finally:
        mongo_server.start()
    assert patches_during_outage == 1  # only rems[0]'s, from before the outage

    # The caller retries (a timer): every pending feedback is recorded, each exactly once.
    deadline = time.monotonic() + 30
    pending = [r for r in rems if not r["status"]["feedback"]["recorded"]]
    while pending and time.monotonic() < deadline:
        pending = [r for r in pending if not flusher.flush_one(r)]
        if pending:
            time.sleep(0.5)
    assert pending == []
    # and a second round (say, after an operator restart that re-read stale objects) adds nothing
    for rem in rems:
        stale = remediation(name=rem["metadata"]["name"], uid=rem["metadata"]["uid"])
        flusher.flush_one(stale)

    ids = [f"shop/web-{i}/uid-{i}/verification" for i in range(6)]
    assert store.count("feedback") == 6
    for _id in ids:
        assert store.count("feedback", {"_id": _id}) == 1
    assert sorted(d["_id"] for d in store.feedback.find()) == sorted(ids)
    assert all(r["status"]["feedback"]["recorded"] and r["status"]["feedback"]["id"] in ids for r in rems)


def test_judgments_of_several_people_round_trip_and_aggregate(store: FeedbackStore) -> None:
    """Three people judge web-0, one judges web-1 (the same error, another Remediation): four documents in
    FerretDB, read back and aggregated by the retrain job's pure part."""
    kube, (rem0, rem1) = _cluster(2)
    at = "2026-01-02T03:04:05Z"
    for rem, judges in ((rem0, ("alice", "bob", "carol")), (rem1, ("alice",))):
        rem["status"]["feedback"]["recorded"] = True  # the verification is not this test's subject
        rem["status"]["judgments"] = [
            fb.FeedbackLabel("incorrect", "human", "notify", None, j).to_judgment(j, at) for j in judges
        ]
        assert FeedbackFlusher(store, kube).flush_one(rem) is True
        assert all(j["recorded"] for j in rem["status"]["judgments"])
    docs = list(store.feedback_since())
    assert sorted(d["_id"] for d in docs) == [
        "shop/web-0/uid-0/human/alice",
        "shop/web-0/uid-0/human/bob",
        "shop/web-0/uid-0/human/carol",
        "shop/web-1/uid-1/human/alice",
    ]
    assert {d["judge"] for d in docs} == {"alice", "bob", "carol"} and all(d["verified"] for d in docs)
    assert FeedbackFlusher(store, kube).flush_one(rem0) is True and store.count("feedback") == 4, "exactly once"
    examples, counts = examples_from_feedback(docs)
    assert counts == {"used_human": 2}
    assert sorted(e.weight for e in examples) == [fb.WEIGHTS["human"], fb.WEIGHTS["human"] * fb.AGREEMENT_CAP]
