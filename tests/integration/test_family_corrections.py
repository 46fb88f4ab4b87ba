"""A human correction fixes the whole family of an error, through the real path: annotation -> status ->
MongoDB (FerretDB) -> the operator's corrections index -> the next ErrorEvent of the same template, in the same
namespace only, with the correction shown in the Remediation's evidence and reasons."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.fixtures.cluster import Cluster
from tests.fixtures.mongo import FerretDBServer
from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for

pytestmark = pytest.mark.integration

PROPOSE = {"autoApplyThreshold": 1.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
SETTLED = ("Classified", "Remediating", "Ignored", "Invalid")
MISSING_MODULE = "Error: Cannot find module '{}'"  # the shipped model: app_crash -> rollback (0.58)


@pytest.fixture
def other_namespace(cluster: Cluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    client.CoreV1Api(cluster.api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    client.CoreV1Api(cluster.api).delete_namespace(name)


def _crash(ops: Ops, name: str, target: str, message: str) -> dict[str, Any]:
    ops.errorevent(
        name,
        {
            "target": {"kind": "Deployment", "name": target},
            "reason": "CrashLoopBackOff",
            "message": message,
            "exitCode": 1,
            "source": "user",
        },
    )
    ee = ops.wait_phase("errorevents", name, *SETTLED)
    rem_name = (ee["status"].get("remediationRef") or {}).get("name")
    check(rem_name, f"no Remediation for {name}: {ee['status']}")
    return ops.wait_phase("remediations", rem_name, "PendingApproval", "Approved", "Succeeded", "Failed", "Skipped")


def _evidence(rem: dict[str, Any]) -> str:
    return " ".join((rem.get("status") or {}).get("evidence") or [])


def test_one_correction_changes_the_next_error_of_the_family_and_nothing_else(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    other_namespace: str,
    cluster: Cluster,
    mongo_server: FerretDBServer,
) -> None:
    other = Ops(cluster, other_namespace)
    for o in (ops, other):
        o.policy(**PROPOSE)
    # Each with a revision to go back to: the model's rollback stays a proposal (without one it is notify).
    for i in range(1, 4):
        ops.deployment(f"app-{i}", 1, earlier_revision=True)
    other.deployment("app-1", 1, earlier_revision=True)
    op = run_operator(
        namespace,
        other_namespace,
        env={
            "REMEDIATOR_WATCH_CLUSTER": "false",
            "REMEDIATOR_MONGODB_URI": f"{mongo_server.uri}fc_{uuid.uuid4().hex[:8]}",  # this test's judgments only
            "REMEDIATOR_FEEDBACK_RETRY_SECONDS": "1",
        },
    )

    first = _crash(ops, "first", "app-1", MISSING_MODULE.format("/app/dist/server.js"))
    model_action = first["spec"]["action"]
    check(model_action != "notify" and first["status"]["phase"] == "PendingApproval", first["status"])
    check("CorrectedByFeedback" not in first["status"]["reasons"], first["status"])
    ops.annotate(
        "remediations",
        "first",
        {
            "remediator.dev/feedback": "incorrect",
            "remediator.dev/correct-action": "notify",
            "remediator.dev/feedback-by": ops.whoami(),
        },
    )

    def recorded() -> bool:  # a person's verdict is their entry in status.judgments (docs/security.md)
        judgments = ((ops.get("remediations", "first") or {}).get("status") or {}).get("judgments") or []
        return [j.get("recorded") for j in judgments] == [True]

    wait_for(recorded, 30, "the correction recorded in MongoDB")

    wait_for(lambda: "corrections index: 1 judgments new or changed, 1 held" in op.log(), 30, "the correction indexed")

    again = _crash(ops, "again", "app-2", MISSING_MODULE.format("/srv/build/main.js"))
    check(again["spec"]["action"] == "notify", f"the family's next error kept the old action: {again['spec']}")
    check("CorrectedByFeedback" in again["status"]["reasons"], again["status"])
    check("corrected by feedback on 1 similar error" in _evidence(again), again["status"])
    check(again["spec"]["errorType"] == first["spec"]["errorType"], again["spec"])

    elsewhere = _crash(other, "first", "app-1", MISSING_MODULE.format("/srv/build/main.js"))
    check(elsewhere["spec"]["action"] == model_action, f"another namespace's error was changed: {elsewhere['spec']}")
    check("feedback" not in _evidence(elsewhere), elsewhere["status"])

    unrelated = _crash(ops, "unrelated", "app-3", 'FATAL: password authentication failed for user "app"')
    check(
        "feedback" not in _evidence(unrelated) and "CorrectedByFeedback" not in unrelated["status"]["reasons"],
        f"an unrelated family was changed: {unrelated['status']}",
    )
