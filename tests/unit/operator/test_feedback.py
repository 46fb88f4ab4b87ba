"""Pure parts of remediator.learning.feedback: scrubbing, annotations, documents, weights; the flusher with fakes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediator.adapters.store import StoreUnavailable
from remediator.domain.redact import scrub
from remediator.learning import feedback as fb
from remediator.learning.feedback import FeedbackLabel, InvalidAnnotation, feedback_from_annotations
from remediator.learning.recorder import FeedbackFlusher
from tests.unit.operator.helpers import FakeKube, errorevent, remediation

# -- scrub ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting with password=hunter2 to db", "hunter2"),
        ("DB_PASSWORD='s3cr3t!' exported", "s3cr3t!"),
        ('{"user": "app", "password": "pa ss"}', "pa ss"),
        ("--api-key=abcdef123456 --verbose", "abcdef123456"),
        ("access_token: ya29.a0AfH6SMB", "ya29.a0AfH6SMB"),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N", "dozjgNryP4J3"),
        ("Authorization: Bearer 0123456789abcdefXYZ", "0123456789abcdefXYZ"),
        ("mongodb://admin:p%40ss@mongo.internal:27017/remediator", "p%40ss"),
        ("postgres://svc:Zx9!q@db:5432/app?sslmode=disable", "Zx9!q"),
        ("git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x/y", "ghp_abcdefghijkl"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        ("slack xoxb-1234567890-abcdefghij failed", "xoxb-1234567890"),
        ("client_secret=Q2xpZW50U2VjcmV0", "Q2xpZW50U2VjcmV0"),
    ],
)
def test_scrub_removes_secrets(text: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out
    assert "REDACTED" in out
    assert scrub(out) == out, "scrubbing is idempotent"


@pytest.mark.parametrize(
    "text",
    [
        "java.lang.OutOfMemoryError: Java heap space",
        'Error: secret "db-password" not found',
        "couldn't find key password in Secret shop/db",
        "token validation failed: token expired",
        "Basic authentication failed for user app",
        "dial tcp 10.0.0.12:5432: connect: connection refused",
        'Back-off pulling image "registry.example.com/web:1.2.3"',
        "GET https://api.example.com/v1/items?page=2 returned 503",
    ],
)
def test_scrub_keeps_ordinary_error_text(text: str) -> None:
    assert scrub(text) == text


def test_scrub_keeps_connection_string_user_and_host() -> None:
    assert scrub("redis://cache:hunter2@redis:6379/0") == "redis://cache:[REDACTED]@redis:6379/0"
    assert scrub(None) == "" and scrub("") == ""


# -- annotations -------------------------------------------------------------------------------------------------


def test_annotations_absent_is_none() -> None:
    assert feedback_from_annotations(None) is None
    assert feedback_from_annotations({"remediator.dev/approve": "true"}) is None


def test_annotations_correct_and_incorrect_with_corrections() -> None:
    assert feedback_from_annotations({fb.FEEDBACK_ANNOTATION: "correct"}) == FeedbackLabel("correct")
    got = feedback_from_annotations(
        {
            fb.FEEDBACK_ANNOTATION: "incorrect",
            fb.CORRECT_ACTION_ANNOTATION: "rollback",
            fb.CORRECT_TYPE_ANNOTATION: "config_issue",
        }
    )
    assert got == FeedbackLabel("incorrect", "human", "rollback", "config_issue")
    assert isinstance(got, FeedbackLabel)
    assert got.to_status() == {
        "label": "incorrect",
        "source": "human",
        "recorded": False,
        "correctAction": "rollback",
        "correctType": "config_issue",
    }
    assert feedback_from_annotations({fb.FEEDBACK_ANNOTATION: "Incorrect"}) == FeedbackLabel("incorrect")


@pytest.mark.parametrize(
    ("annotations", "key", "needle"),
    [
        ({fb.FEEDBACK_ANNOTATION: "maybe"}, fb.FEEDBACK_ANNOTATION, '"maybe" is not "correct" or "incorrect"'),
        (
            {fb.FEEDBACK_ANNOTATION: "incorrect", fb.CORRECT_ACTION_ANNOTATION: "reboot"},
            fb.CORRECT_ACTION_ANNOTATION,
            "reboot",
        ),
        (
            {fb.FEEDBACK_ANNOTATION: "incorrect", fb.CORRECT_TYPE_ANNOTATION: "gremlins"},
            fb.CORRECT_TYPE_ANNOTATION,
            "gremlins",
        ),
        (
            {fb.FEEDBACK_ANNOTATION: "correct", fb.CORRECT_ACTION_ANNOTATION: "rollback"},
            fb.CORRECT_ACTION_ANNOTATION,
            "contradicts",
        ),
        ({fb.CORRECT_TYPE_ANNOTATION: "oom"}, fb.CORRECT_TYPE_ANNOTATION, "needs"),
    ],
)
def test_invalid_annotations_are_refused_with_a_clear_message(
    annotations: dict[str, str], key: str, needle: str
) -> None:
    got = feedback_from_annotations(annotations)
    assert isinstance(got, InvalidAnnotation)
    assert got.key == key
    assert needle in got.message and "nothing was recorded" in got.message


# -- documents -----------------------------------------------------------------------------------------------------


def test_weights_order() -> None:
    assert fb.WEIGHTS["human"] > fb.WEIGHTS["rejection"] > fb.WEIGHTS["verification"] > fb.SEED_WEIGHT


def test_feedback_document_fields_and_id() -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    ee = errorevent(logs="x" * 10000 + " password=hunter2")
    doc = fb.feedback_document(remediation(), ee, now)
    assert doc["_id"] == "shop/web-oom/rem-uid-1/verification"
    assert doc["remediation"] == "shop/web-oom/rem-uid-1"
    assert doc["errorevent_ref"] == "shop/web-oom" and doc["errorevent_uid"] == "ee-uid-1"
    assert (doc["reason"], doc["exit_code"], doc["event_source"]) == ("OOMKilled", 137, "cluster")
    assert len(doc["logs"]) == fb.LOGS_MAX and doc["logs"].endswith("password=[REDACTED]")
    assert (doc["predicted_type"], doc["predicted_action"], doc["confidence"]) == ("oom", "increase_memory", 0.97)
    assert (doc["model_version"], doc["model_type"], doc["model_action"]) == ("v1", "oom", "increase_memory")
    assert (doc["label"], doc["source"], doc["weight"]) == ("correct", "verification", fb.WEIGHTS["verification"])
    assert doc["correct_action"] is None and doc["created_at"] == now and doc["has_text"] is True


def test_feedback_document_without_errorevent_and_with_long_names() -> None:
    rem = remediation(name="n" * 200, feedback={"label": "incorrect", "source": "human", "correctAction": "rollback"})
    doc = fb.feedback_document(rem, None)
    assert doc["has_text"] is False and doc["message"] == "" and doc["exit_code"] is None
    assert doc["_id"].startswith("sha256:") and len(doc["_id"]) <= fb.ID_MAX
    assert doc["_id"] == fb.feedback_document(rem, None)["_id"], "deterministic"
    assert doc["correct_action"] == "rollback" and doc["weight"] == fb.WEIGHTS["human"]


def test_feedback_document_refuses_missing_label() -> None:
    with pytest.raises(ValueError, match="label"):
        fb.feedback_document(remediation(feedback={"recorded": False}), None)


def test_errorevent_and_remediation_documents() -> None:
    ee = fb.errorevent_document(errorevent(message="auth failed token=abcdef1234567"))
    assert ee["key"] == "shop/web-oom/ee-uid-1" and ee["ref"] == "shop/web-oom"
    assert "abcdef1234567" not in ee["message"] and ee["classification"]["error_type"] == "oom"
    assert ee["family"] == "oom"
    rem = fb.remediation_document(remediation())
    assert rem["key"] == "shop/web-oom/rem-uid-1" and rem["outcome"] == "Succeeded" and rem["model_version"] == "v1"


# -- flusher --------------------------------------------------------------------------------------------------------


class FakeStore:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.down = False
        self.writes = 0

    def record_feedback(self, doc: dict[str, Any]) -> bool:
        if self.down:
            raise StoreUnavailable("down")
        self.writes += 1
        new = doc["_id"] not in self.docs
        self.docs[doc["_id"]] = doc
        return new


def _setup() -> tuple[FakeStore, FakeKube, dict[str, Any]]:
    rem = remediation()
    kube = FakeKube({("remediations", "shop", "web-oom"): rem, ("errorevents", "shop", "web-oom"): errorevent()})
    return FakeStore(), kube, rem


def test_flush_writes_store_then_status() -> None:
    store, kube, rem = _setup()
    assert FeedbackFlusher(store, kube).flush_one(rem) is True
    assert list(store.docs) == ["shop/web-oom/rem-uid-1/verification"]
    (plural, ns, name, status) = kube.patches[0]
    assert (plural, ns, name) == ("remediations", "shop", "web-oom")
    assert status["feedback"]["recorded"] is True and status["feedback"]["id"] == "shop/web-oom/rem-uid-1/verification"
    assert status["feedback"]["label"] == "correct" and status["feedback"]["recordedAt"].endswith("Z")
    assert rem["status"]["feedback"]["recorded"] is True
    # recorded: nothing more happens
    assert FeedbackFlusher(store, kube).flush_one(rem) is True and store.writes == 1 and len(kube.patches) == 1


def test_flush_store_down_leaves_status_alone() -> None:
    store, kube, rem = _setup()
    store.down = True
    assert FeedbackFlusher(store, kube).flush_one(rem) is False
    assert kube.patches == [] and rem["status"]["feedback"]["recorded"] is False


def test_flush_status_patch_failure_then_retry_does_not_duplicate() -> None:
    store, kube, rem = _setup()
    kube.fail_patches = 1
    flusher = FeedbackFlusher(store, kube)
    assert flusher.flush_one(rem) is False
    assert len(store.docs) == 1 and rem["status"]["feedback"]["recorded"] is False
    assert flusher.flush_one(rem) is True
    assert len(store.docs) == 1 and store.writes == 2 and len(kube.patches) == 1


def test_flush_unreadable_errorevent_waits() -> None:
    store, kube, rem = _setup()
    kube.fail_reads = 1
    assert FeedbackFlusher(store, kube).flush_one(rem) is False
    assert store.writes == 0


def test_flush_without_label_is_a_no_op() -> None:
    store, kube, _ = _setup()
    rem = remediation(feedback={"recorded": False})
    assert FeedbackFlusher(store, kube).flush_one(rem) is True
    assert store.writes == 0 and kube.patches == []


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * 16384,
        "password" * 2048,
        "a.a." * 4096,
        "eyJ" + "A" * 16380,
        "eyJ" * 5461,
        "http://" * 2340,
        "basic " * 2730,
        "token= " * 2340,
        "-----BEGIN RSA PRIVATE KEY-----" * 528,
    ],
    ids=lambda s: f"{s[:10]}...({len(s)})",
)
def test_scrub_is_fast_on_hostile_logs(hostile: str) -> None:
    import time

    started = time.perf_counter()
    scrub(hostile)
    assert time.perf_counter() - started < 0.5
