"""The learning loop end to end on real servers: feedback in FerretDB (some texts only in the S3 archive),
retrain, challenger vs champion, publish to the moto registry, hot swap by the poller."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from remediator.adapters.archive import LogArchive
from remediator.adapters.registry import ModelRegistry
from remediator.adapters.store import FeedbackStore
from remediator.learning import feedback as fb
from remediator.learning.modelswap import ModelHolder, ModelPoller
from remediator.learning.recorder import FeedbackFlusher
from remediator.learning.retrain import Tolerance, retrain, seed_holdout
from remediator_model import artifact
from remediator_model.model import TrainedModel
from remediator_model.predict import Classifier, ErrorInput
from remediator_model.train import TrainConfig, load_examples, train
from tests.fixtures.s3 import MotoServer
from tests.unit.operator.helpers import FakeKube, errorevent, remediation

pytestmark = pytest.mark.integration

SMALL = TrainConfig(builtin_n=2700, n_folds=2, calib_max=1200, epochs=8, seed=3)
NEW_SIGNATURE = "quasarq broker handshake rejected: zentropy lease token revoked for tenant {n}"


@pytest.fixture(scope="module")
def small_model() -> TrainedModel:
    return train(load_examples("builtin", SMALL), SMALL)


@pytest.fixture
def store(feedback_store: FeedbackStore) -> FeedbackStore:
    return feedback_store


@pytest.fixture
def s3(s3_server: MotoServer) -> tuple[Any, str]:
    client = s3_server.client("s3")
    bucket = f"retrain-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


def _record_feedback(store: FeedbackStore, archive: LogArchive, corrected: str) -> None:
    """12 human corrections of a new signature (4 of them with the ErrorEvent deleted before the feedback was
    flushed: their texts are only in the archive), 5 verified successes, 3 uncorrected rejections."""
    kube = FakeKube()
    flusher = FeedbackFlusher(store, kube)
    items: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for i in range(12):
        ee = errorevent(
            name=f"quasar-{i}",
            uid=f"ee-q{i}",
            reason="",
            exitCode=1,
            message="",
            logs=NEW_SIGNATURE.format(n=i),
            context={},
        )
        rem = remediation(
            name=f"quasar-{i}",
            uid=f"rq{i}",
            feedback={"label": "incorrect", "source": "human", "correctAction": corrected, "recorded": False},
            action="rollback",
            errorType="app_crash",
        )
        items.append((ee, rem))
    for i in range(5):
        items.append((errorevent(name=f"oom-{i}", uid=f"ee-o{i}"), remediation(name=f"oom-{i}", uid=f"ro{i}")))
    for i in range(3):
        rej = {"label": "incorrect", "source": "rejection", "recorded": False}
        items.append(
            (errorevent(name=f"rej-{i}", uid=f"ee-r{i}"), remediation(name=f"rej-{i}", uid=f"rr{i}", feedback=rej))
        )
    for idx, (ee, rem) in enumerate(items):
        archive.add(fb.errorevent_document(ee))
        kube.objects[("remediations", "shop", rem["metadata"]["name"])] = rem
        if idx >= 4:  # the first four ErrorEvents are gone (and expired from MongoDB): texts only in S3
            store.record_errorevent(fb.errorevent_document(ee))
            kube.objects[("errorevents", "shop", ee["metadata"]["name"])] = ee
    assert archive.flush()
    assert all(flusher.flush_one(rem) for _, rem in items)
    assert store.count("feedback") == 20
    assert store.count("feedback", {"has_text": False}) == 4


def test_retrain_publishes_a_challenger_within_tolerance_and_the_poller_swaps_it_in(
    store: FeedbackStore, s3: tuple[Any, str], small_model: TrainedModel, tmp_path: Path
) -> None:
    client, bucket = s3
    registry = ModelRegistry(client, bucket)
    archive = LogArchive(client, bucket, "archive/errorevents")
    champion_dir = artifact.save(small_model, tmp_path / "champion", version="champion-1")
    registry.publish(champion_dir, "champion-1")

    champion = Classifier.load(champion_dir)
    probe = ErrorInput(exit_code=1, logs=NEW_SIGNATURE.format(n=4242), source="cluster")
    before = champion.predict(probe).action
    corrected = "restart_pod" if before != "restart_pod" else "update_config"
    _record_feedback(store, archive, corrected)

    report = retrain(
        store, archive, registry, tmp_path / "run1", cfg=SMALL, holdout_n=900, tolerance=Tolerance(0.05, 0.05)
    )
    assert report.champion_version == "champion-1" and report.champion_origin == "registry"
    assert report.counts["used_human"] == 12 and report.counts["used_verification"] == 5
    assert report.counts["skipped_uncorrected"] == 3 and report.counts.get("skipped_no_text", 0) == 0
    for who in ("champion", "challenger"):
        for name in ("seed_holdout", "realworld"):
            assert {"macro_f1", "auto_apply"} <= set(report.metrics[who][name])
    assert report.decision == "published", "\n".join(report.reasons)
    assert report.version is not None
    pointer, _ = registry.pointer() or ({}, "")
    assert (pointer["version"], pointer["previous"]) == (report.version, "champion-1")
    assert (tmp_path / "run1" / "retrain-report.json").exists()

    # The operator's poller picks it up; a prediction that started before keeps its model.
    holder = ModelHolder(champion)
    in_flight = holder.get()
    poller = ModelPoller(registry, holder, interval=0.1, work_dir=tmp_path / "models")
    assert poller.check_once() is True
    assert holder.version == report.version and in_flight.version == "champion-1"
    assert holder.predict(probe).action == corrected
    assert poller.check_once() is False  # same pointer: nothing to do

    # A challenger that must beat the champion by a whole point of macro-F1 is refused; CURRENT stays.
    strict = retrain(store, archive, registry, tmp_path / "run2", cfg=SMALL, holdout_n=900, tolerance=Tolerance(-1, -1))
    assert strict.decision == "kept" and not strict.published
    assert any("macro f1" in r and "refused" in r for r in strict.reasons), strict.reasons
    assert (registry.current() or ("",))[0] == report.version


def test_poller_refuses_a_broken_artifact_and_keeps_the_old_model(
    s3: tuple[Any, str], small_model: TrainedModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, bucket = s3
    registry = ModelRegistry(client, bucket)
    good = artifact.save(small_model, tmp_path / "good", version="good-1")
    registry.publish(good, "good-1")
    holder = ModelHolder(Classifier.load(good))
    poller = ModelPoller(registry, holder, interval=0.05, work_dir=tmp_path / "models")

    # An artifact that is internally inconsistent (a weight file changed after its metadata was written):
    # the registry's manifest matches, the model library's own checksum does not.
    broken = artifact.save(small_model, tmp_path / "broken", version="broken-1")
    (broken / "type_bias.npy").write_bytes((broken / "type_bias.npy").read_bytes()[:-4] + b"\0\0\0\0")
    registry.publish(broken, "broken-1")
    with caplog.at_level("ERROR", logger="remediator.learning.modelswap"):
        assert poller.check_once() is False
    assert holder.version == "good-1"
    assert "model broken-1 refused, keeping good-1" in caplog.text and "checksum" in caplog.text
    assert not (tmp_path / "models" / "broken-1").exists()

    # A tampered upload is refused by the registry's manifest check.
    registry.publish(good, "good-2")
    client.put_object(Bucket=bucket, Key="models/good-2/calibration.json", Body=b"{}")
    assert poller.check_once() is False and holder.version == "good-1"
    assert "good-2" in poller.refused

    # Fixing the pointer (a rollback to a good version) is picked up, in the background thread too.
    registry.publish(artifact.save(small_model, tmp_path / "good3", version="good-3"), "good-3")
    done = threading.Event()
    poller.start()
    try:
        for _ in range(100):
            if holder.version == "good-3":
                done.set()
                break
            threading.Event().wait(0.05)
    finally:
        poller.stop()
    assert done.is_set()


def test_the_gate_refuses_a_challenger_that_is_unsure_where_the_champion_was_rightly_sure(
    store: FeedbackStore, s3: tuple[Any, str], small_model: TrainedModel, tmp_path: Path
) -> None:
    """The champion is sure and right on a validation set of known forms (auto-apply precision >= 0.95 on a
    real share of it); the challenger, calibrated on the harder real corpus, auto-applies less than half as
    much there: refused, with the coverage loss named, and CURRENT stays."""
    client, bucket = s3
    registry = ModelRegistry(client, bucket)
    champion_dir = artifact.save(small_model, tmp_path / "champion", version="sure-1")
    registry.publish(champion_dir, "sure-1")
    validation = tmp_path / "known-forms.jsonl"
    rows = [
        {
            "reason": e.event.reason,
            "exit_code": e.event.exit_code,
            "message": e.event.message,
            "logs": e.event.logs,
            "error_class": e.error_class,
            "actions": list(e.actions),
        }
        for e in seed_holdout(400, 4242)
    ]
    validation.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    report = retrain(store, None, registry, tmp_path / "run", validation_path=validation, cfg=SMALL, holdout_n=300)
    assert report.decision == "kept" and not report.published, "\n".join(report.reasons)
    table = report.metrics["comparison"]["realworld"]
    sure, unsure = table["champion"], table["challenger"]
    assert sure["auto_apply_precision"] >= 0.95 and unsure["coverage"] < 0.5 * sure["coverage"], table
    assert any("realworld: coverage" in r and "less than half the champion's: refused" in r for r in report.reasons)
    assert (registry.current() or ("",))[0] == "sure-1"
