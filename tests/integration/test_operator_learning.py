"""The operator's half of the learning loop against real servers: feedback into FerretDB (MongoDB wire
protocol) exactly once across outages and restarts, feedback annotations, and model hot swap from S3 (moto)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from remediator.adapters.registry import ModelRegistry
from remediator.api import CORRECT_ACTION, CORRECT_TYPE, FEEDBACK, FEEDBACK_BY
from tests.fixtures.cluster import Cluster
from tests.fixtures.mongo import FerretDBServer
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for
from tests.fixtures.s3 import MotoServer
from tests.integration.test_admission_approval import RBAC_GROUP, As

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


def _recorded(ops: Ops, name: str, source: str | None = None) -> dict[str, Any] | None:
    rem = ops.get("remediations", name) or {}
    feedback = (rem.get("status") or {}).get("feedback") or {}
    return feedback if feedback.get("recorded") and source in (None, feedback.get("source")) else None


def _judgments(ops: Ops, name: str, count: int) -> list[dict[str, Any]] | None:
    """status.judgments once it holds `count` entries, all recorded."""
    rem = ops.get("remediations", name) or {}
    judgments = list((rem.get("status") or {}).get("judgments") or [])
    return judgments if len(judgments) == count and all(j.get("recorded") for j in judgments) else None


def _condition(ops: Ops, name: str, kind: str) -> dict[str, Any] | None:
    rem = ops.get("remediations", name) or {}
    return next((c for c in (rem.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


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
    # The test client is cluster-admin (exempt from admission) and names no judge: the unverified judgment.
    ops.annotate(
        "remediations", "grow", {"remediator.dev/feedback": "incorrect", "remediator.dev/correct-action": "scale_up"}
    )
    (judgment,) = wait_for(lambda: _judgments(ops, "grow", 1), 30, "the human correction recorded")
    check(judgment["correctAction"] == "scale_up" and judgment["label"] == "incorrect", judgment)
    check(judgment["by"] == "" and judgment["verified"] is False, judgment)
    docs = _feedback_docs(mongo_server, judgment["id"])
    check(len(docs) == 1 and docs[0]["correct_action"] == "scale_up" and docs[0]["judge"] == "", docs)
    check(_recorded(ops, "grow", "rejection") is not None, "the rejection stays in status.feedback")


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


# -- several people judge one Remediation (impersonated users; the admission policy checks feedback-by) -------
@pytest.fixture
def people(cluster: Cluster, namespace: str) -> Iterator[dict[str, As]]:
    """alice and bob may patch Remediations (kube-remediator-requester), as impersonated users."""
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for user in ("alice", "bob"):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"{user}-requester"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "kube-remediator-requester"},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}],
            },
        )
    handles = {user: As(cluster, namespace, user) for user in ("alice", "bob")}
    try:
        yield handles
    finally:
        for handle in handles.values():
            handle.api_client.close()


def _judge(person: As, name: str, verdict: dict[str, str]) -> None:
    """Annotate as `person`, in their own name (retrying while their RoleBinding reaches the authorizer)."""
    user = person.api_client.default_headers["Impersonate-User"]
    body = {CORRECT_ACTION: None, CORRECT_TYPE: None, **verdict, FEEDBACK_BY: user}  # clears a stale correction
    wait_for(lambda: _admitted(person, name, body), 20, f"{user}'s feedback admitted")


def _admitted(person: As, name: str, annotations: dict[str, str | None]) -> bool:
    try:
        person.annotate("remediations", name, annotations)
        return True
    except ApiException as err:
        if err.status == 403 and "denied request" not in str(err.body):  # RBAC not there yet
            return False
        raise


def test_two_people_judge_one_remediation_two_judgments_two_documents_and_the_disagreement_shows(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    mongo_server: FerretDBServer,
    app: None,
    people: dict[str, As],
) -> None:
    run_operator(namespace, env=_env(mongo_server))
    _pending(ops, "grow")
    uid = (ops.get("remediations", "grow") or {})["metadata"]["uid"]
    _judge(people["alice"], "grow", {FEEDBACK: "incorrect", CORRECT_ACTION: "notify"})
    wait_for(lambda: _judgments(ops, "grow", 1), 30, "alice's judgment recorded")
    _judge(people["bob"], "grow", {FEEDBACK: "correct"})
    judgments = wait_for(lambda: _judgments(ops, "grow", 2), 30, "bob's judgment recorded beside alice's")

    check(
        [(j["by"], j["verified"], j["label"]) for j in judgments]
        == [
            ("alice", True, "incorrect"),
            ("bob", True, "correct"),
        ],
        judgments,
    )
    check(judgments[0].get("correctAction") == "notify", judgments[0])
    for judgment in judgments:
        expected = f"{namespace}/grow/{uid}/human/{judgment['by']}"
        docs = _feedback_docs(mongo_server, expected)
        check(judgment["id"] == expected and len(docs) == 1, (judgment, docs))
        check(docs[0]["judge"] == judgment["by"] and docs[0]["label"] == judgment["label"], docs[0])
    condition = wait_for(lambda: _condition(ops, "grow", "JudgmentsAgree"), 10, "the JudgmentsAgree condition")
    check(condition["status"] == "False" and condition["reason"] == "JudgmentsDisagree", condition)
    check(
        condition["message"].startswith("2 people disagree: alice says incorrect->notify, bob says correct"), condition
    )
    # the same person changing her mind replaces her own judgment (and rewrites her one document)
    _judge(people["alice"], "grow", {FEEDBACK: "correct"})

    def agreed() -> dict[str, Any] | None:
        cond = _condition(ops, "grow", "JudgmentsAgree")
        return cond if cond and cond["status"] == "True" and _judgments(ops, "grow", 2) else None

    condition = wait_for(agreed, 30, "alice agrees with bob now")
    check("2 people agree" in condition["message"], condition)
    docs = _feedback_docs(mongo_server, f"{namespace}/grow/{uid}/human/alice")
    check(len(docs) == 1 and docs[0]["label"] == "correct" and docs[0]["correct_action"] is None, docs)


def test_feedback_in_someone_elses_name_is_refused_and_changes_nothing(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    mongo_server: FerretDBServer,
    app: None,
    people: dict[str, As],
) -> None:
    """alice judged; she cannot count a second time as bob (or as nobody): 403, no second judgment."""
    run_operator(namespace, env=_env(mongo_server))
    _pending(ops, "grow")
    _judge(people["alice"], "grow", {FEEDBACK: "incorrect", CORRECT_ACTION: "notify"})
    (judgment,) = wait_for(lambda: _judgments(ops, "grow", 1), 30, "alice's judgment recorded")
    before = (ops.get("remediations", "grow") or {})["metadata"]["annotations"]
    for forged in ({FEEDBACK_BY: "bob"}, {FEEDBACK: "correct", FEEDBACK_BY: "bob"}, {FEEDBACK_BY: None}):
        try:
            people["alice"].annotate("remediations", "grow", forged)
        except ApiException as err:
            check(err.status == 403 and "remediator-feedback.remediator.dev" in str(err.body), err.body)
        else:
            raise AssertionError(f"alice's {forged} was admitted")
    check((ops.get("remediations", "grow") or {})["metadata"]["annotations"] == before, "annotations unchanged")
    holds_for(lambda: _judgments(ops, "grow", 1) == [judgment], 3, "still alice's one judgment")
    client_ = mongo_server.client(serverSelectionTimeoutMS=2000)
    try:
        stored = list(client_["kube_remediator"]["feedback"].find({"namespace": namespace, "source": "human"}))
    finally:
        client_.close()
    check([d["judge"] for d in stored] == ["alice"], stored)


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
