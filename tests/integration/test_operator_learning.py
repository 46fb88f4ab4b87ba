"""The operator's half of the learning loop against real servers: feedback into FerretDB (MongoDB wire
protocol) exactly once across outages and restarts, feedback annotations, and model hot swap from S3 (moto)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from remediator.adapters.registry import ModelRegistry
from tests.fixtures.mongo import FerretDBServer
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for
from tests.fixtures.s3 import MotoServer

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0, "autoApplyThreshold": 1.0}
DEFAULT_ARTIFACT = Path(__file__).resolve().parents[2] / "model" / "remediator_model" / "artifacts" / "default"


def _env(mongo: FerretDBServer, db_uri_suffix: str = "") -> dict[str, str]:
    return {
        "REMEDIATOR_WATCH_CLUSTER": "false",
        "REMEDIATOR_MONGODB_URI": mongo.uri + db_uri_suffix,
        "REMEDIATOR_FEEDBACK_RETRY_SECONDS": "1",
    }


def _feedback_docs(mongo: FerretDBServer, doc_id: str) -> list[dict[str, Any]]:
    client = mongo.client(serverSelectionTimeoutMS=2000)
    try:
        return list(client["kube_remediator"]["feedback"].find({"_id": doc_id}))
    finally:
        client.close()


def _pending(ops: Ops, name: str, target: str = "app") -> None:
    ops.remediation(name, target, "increase_memory", error_type="oom", confidence=0.8)
    ops.wait_phase("remediations", name, "PendingApproval")


def _recorded(ops: Ops, name: str) -> dict[str, Any] | None:
    rem = ops.get("remediations", name) or {}
    feedback = (rem.get("status") or {}).get("feedback") or {}
    return feedback if feedback.get("recorded") else None


@pytest.fixture
def app(ops: Ops) -> None:
    ops.policy(**FAST)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)


def test_rejection_is_stored_once_as_negative_feedback(
    run_operator: OperatorFactory, ops: Ops, namespace: str, mongo_server: FerretDBServer, app: None
) -> None:
    run_operator(namespace, env=_env(mongo_server))
    _pending(ops, "grow")
    ops.annotate("remediations", "grow", {"remediator.dev/reject": "true", "remediator.dev/approver": ops.whoami()})
    feedback = wait_for(lambda: _recorded(ops, "grow"), 30, "the rejection recorded in MongoDB")
    docs = _feedback_docs(mongo_server, feedback["id"])
    check(len(docs) == 1, f"{len(docs)} documents for {feedback['id']}")
    check(docs[0]["label"] == "incorrect" and docs[0]["source"] == "rejection", docs[0])
    check(docs[0]["predicted_action"] == "increase_memory", docs[0])


def test_feedback_waits_while_mongodb_is_down_and_lands_once_after_a_restart(
    run_operator: OperatorFactory, ops: Ops, namespace: str, mongo_server: FerretDBServer, app: None
) -> None:
    op = run_operator(namespace, env=_env(mongo_server))
    names = [f"grow-{i}" for i in range(3)]
    for i, name in enumerate(names):  # one active Remediation per workload: three workloads
        if i:
            ops.deployment(f"app-{i}", 1, memory="64Mi")
        _pending(ops, name, "app" if i == 0 else f"app-{i}")
    mongo_server.stop()
    try:
        for name in names:
            ops.annotate(
                "remediations", name, {"remediator.dev/reject": "true", "remediator.dev/approver": ops.whoami()}
            )
        for name in names:
            ops.wait_phase("remediations", name, "Rejected")
        holds_for(
            lambda: all(_recorded(ops, n) is None for n in names), 4, "feedback kept pending while MongoDB is down"
        )
        op.stop()  # the pending feedback survives in status, not in the operator's memory
    finally:
        mongo_server.start()
    op.start()
    recorded = [
        wait_for(lambda n=n: _recorded(ops, n), 40, f"{n}'s feedback written after MongoDB returned") for n in names
    ]
    for feedback in recorded:
        check(len(_feedback_docs(mongo_server, feedback["id"])) == 1, f"duplicate or missing {feedback['id']}")
    op.stop()
    op.start()  # a second restart must not write anything again
    holds_for(lambda: all(len(_feedback_docs(mongo_server, f["id"])) == 1 for f in recorded), 3, "no duplicates")


def test_human_correction_annotation_is_recorded_with_the_corrected_action(
    run_operator: OperatorFactory, ops: Ops, namespace: str, mongo_server: FerretDBServer, app: None
) -> None:
    run_operator(namespace, env=_env(mongo_server))
    _pending(ops, "grow")
    ops.annotate("remediations", "grow", {"remediator.dev/reject": "true", "remediator.dev/approver": ops.whoami()})
    wait_for(lambda: _recorded(ops, "grow"), 30, "the rejection recorded")
    ops.annotate(
        "remediations", "grow", {"remediator.dev/feedback": "incorrect", "remediator.dev/correct-action": "scale_up"}
    )

    def human() -> dict[str, Any] | None:
        fb = _recorded(ops, "grow")
        return fb if fb and fb.get("source") == "human" else None

    feedback = wait_for(human, 30, "the human correction recorded")
    check(feedback["correctAction"] == "scale_up" and feedback["label"] == "incorrect", feedback)
    docs = _feedback_docs(mongo_server, feedback["id"])
    check(len(docs) == 1 and docs[0]["correct_action"] == "scale_up", docs)


def test_invalid_feedback_annotation_gets_a_condition_and_records_nothing(
    run_operator: OperatorFactory, ops: Ops, namespace: str, mongo_server: FerretDBServer, app: None
) -> None:
    run_operator(namespace, env=_env(mongo_server))
    _pending(ops, "grow")
    ops.annotate("remediations", "grow", {"remediator.dev/feedback": "maybe"})

    def refused() -> dict[str, Any] | None:
        rem = ops.get("remediations", "grow") or {}
        conds = (rem.get("status") or {}).get("conditions") or []
        return next((c for c in conds if c["type"] == "FeedbackValid" and c["status"] == "False"), None)

    condition = wait_for(refused, 30, "a FeedbackValid=False condition")
    check("maybe" in condition["message"], condition)
    rem = ops.get("remediations", "grow") or {}
    check(not (rem.get("status") or {}).get("feedback"), rem.get("status"))


def test_model_hot_swap_refuses_a_broken_artifact_and_takes_a_good_one(
    run_operator: OperatorFactory, ops: Ops, namespace: str, s3_server: MotoServer, tmp_path: Path
) -> None:
    bucket = f"models-{uuid.uuid4().hex[:8]}"
    s3 = s3_server.client("s3")
    s3.create_bucket(Bucket=bucket)
    registry = ModelRegistry(s3, bucket)
    op = run_operator(
        namespace,
        env={
            "REMEDIATOR_WATCH_CLUSTER": "false",
            "REMEDIATOR_MODELS_BUCKET": bucket,
            "REMEDIATOR_MODEL_POLL_SECONDS": "1",
            "REMEDIATOR_S3_ENDPOINT_URL": s3_server.endpoint_url,
            "REMEDIATOR_AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        },
    )
    broken = tmp_path / "broken"
    shutil.copytree(DEFAULT_ARTIFACT, broken)
    weights = sorted(broken.glob("*.npy"))[0]
    weights.write_bytes(weights.read_bytes()[:-64] + b"\0" * 64)  # the artifact's own checksum no longer holds
    registry.publish(broken, "v-broken")
    wait_for(lambda: "v-broken refused" in op.log(), 30, "the broken artifact refused")

    good = tmp_path / "good"
    shutil.copytree(DEFAULT_ARTIFACT, good)
    registry.publish(good, "v-good")
    wait_for(lambda: "model swapped" in op.log(), 30, "the good artifact swapped in")
    check(op.ready(), "the operator keeps serving after the swap")
