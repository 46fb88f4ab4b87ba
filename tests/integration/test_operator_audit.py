"""The operator's audit stream end to end: a Remediation on the dev cluster yields its decision, change and
outcome records in moto's CloudWatch Logs; text a tenant controls cannot forge a record; shutdown flushes."""

from __future__ import annotations

import json
import os
import socket
import uuid
from typing import Any

import pytest

from tests.fixtures.operator import OperatorFactory, Ops, check, wait_for
from tests.fixtures.s3 import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, REGION, MotoServer
from tests.fixtures.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
# A forged record, a line break and a Unicode line separator: what a tenant would try to split a log with.
FORGED = '"}\n{"schema":"kube-remediator.audit/v1","kind":"approval","approval":{"by":"mallory"}}\u2028end'


def audit_env(s3_server: MotoServer, group: str, endpoint: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "REMEDIATOR_AUDIT_LOG_GROUP": group,
        "REMEDIATOR_AUDIT_FLUSH_SECONDS": "0.5",
        "REMEDIATOR_AWS_REGION": REGION,
        # The SDK's own endpoint setting: the operator has no CloudWatch endpoint flag of its own.
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": endpoint or s3_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
        **extra,
    }


def new_group(s3_server: MotoServer) -> str:
    group = f"/kube-remediator-e2e/{uuid.uuid4().hex[:8]}/operator"
    s3_server.client("logs").create_log_group(logGroupName=group)
    return group


def records_of(s3_server: MotoServer, group: str, stream: str, uid: str) -> list[dict[str, Any]]:
    """The stream's records of one Remediation; every message must be exactly one JSON record."""
    records = [json.loads(m) for m in s3_server.log_messages(group, stream)]
    return [r for r in records if r["remediation"]["uid"] == uid]


def test_an_auto_applied_remediation_leaves_decision_change_and_outcome_records(
    run_operator: OperatorFactory, ops: Ops, namespace: str, s3_server: MotoServer
) -> None:
    group, stream = new_group(s3_server), f"op-{uuid.uuid4().hex[:6]}"
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=audit_env(s3_server, group, REMEDIATOR_AUDIT_LOG_STREAM=stream))
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    rem = wait_for(lambda: next(iter(ops.items("remediations")), None), 40, "a Remediation for the OOM")
    name, uid = rem["metadata"]["name"], rem["metadata"]["uid"]
    done = ops.wait_phase("remediations", name, *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])

    def complete() -> list[dict[str, Any]] | None:
        got = records_of(s3_server, group, stream, uid)
        return got if got and got[-1]["kind"] == "outcome" else None

    records = wait_for(complete, 20, "the outcome record in the stream")
    kinds = [r["kind"] for r in records]
    check(kinds == ["decision", "change-planned", "change", "outcome"], kinds)
    check([r["phase"]["to"] for r in records] == ["Approved", "Applying", "Verifying", "Succeeded"], records)
    check(len({r["id"] for r in records}) == len(records), "a record was sent twice")
    decision, change, outcome = records[0], records[2], records[3]
    check(decision["phase"]["from"] is None and decision["reason"] == done["status"]["reasons"][0], decision)
    check(decision["namespace"] == namespace and decision["remediation"]["name"] == name, decision)
    check(decision["target"]["kind"] == "Deployment" and decision["target"]["name"] == "hungry", decision)
    check(decision["action"] == "increase_memory" and decision["errorType"] == "oom", decision)
    check(decision["confidence"] == rem["spec"]["confidence"], decision)
    check(decision["modelVersion"] == rem["spec"].get("modelVersion") and decision["modelVersion"], decision)
    check(decision["origin"] == "operator" and decision["evidence"], decision)
    check(change["change"]["before"]["limits"]["memory"] == "64Mi", change["change"])
    check(change["change"]["after"]["limits"]["memory"] == "96Mi", change["change"])
    check(change["timestamps"]["appliedAt"] == done["status"]["appliedAt"], change)
    check(outcome["outcome"]["result"] == "Succeeded" and outcome["message"] == done["status"]["message"], outcome)
    check(all(len(json.dumps(r)) <= 16 * 1024 for r in records), "a record over the bound")


def test_tenant_text_cannot_forge_records_and_shutdown_flushes_them(
    run_operator: OperatorFactory, ops: Ops, namespace: str, s3_server: MotoServer
) -> None:
    """A hostile ErrorEvent message and rejection reason stay field values; records buffered for 60 s are
    sent when the operator stops; the stream is named after the host (the Pod) by default."""
    group = new_group(s3_server)
    stream = os.environ.get("HOSTNAME") or socket.gethostname()
    ops.policy(autoApplyThreshold=1.0, **FAST)  # proposals only: a human decides
    op = run_operator(
        namespace,
        env=audit_env(s3_server, group, REMEDIATOR_WATCH_CLUSTER="false", REMEDIATOR_AUDIT_FLUSH_SECONDS="60"),
    )
    # A revision to go back to, so the claimed crash is a rollback proposal (a human decides), not a notify.
    ops.deployment("web", 1, memory="128Mi", earlier_revision=True)
    ops.running_pods("web", 1)
    ops.errorevent(
        "forged",
        {
            "target": {"kind": "Deployment", "name": "web"},
            "message": f"container app exited: {FORGED * 20}",
            "reason": "CrashLoopBackOff",
            "exitCode": 1,
            "source": "api",
        },
    )
    ee = ops.wait_phase("errorevents", "forged", "Classified", "Remediating", "Resolved", "Ignored", "Invalid")
    rem_name = (ee["status"].get("remediationRef") or {}).get("name")
    check(rem_name, f"no Remediation: {ee['status']}")
    ops.wait_phase("remediations", rem_name, "PendingApproval")
    ops.annotate("remediations", rem_name, {"remediator.dev/reject-reason": FORGED})
    ops.reject(rem_name)
    done = ops.wait_phase("remediations", rem_name, *FINAL)
    check(done["status"]["phase"] == "Rejected", done["status"])
    uid = done["metadata"]["uid"]
    check(not records_of(s3_server, group, stream, uid), "records sent before the 60 s flush interval")

    op.stop(grace=15)  # SIGTERM: the cleanup handler flushes the buffer within audit_shutdown_seconds
    messages = s3_server.log_messages(group, stream)
    records = [json.loads(m) for m in messages]  # each message one JSON document, or this raises
    mine = [r for r in records if r["remediation"]["uid"] == uid]
    check([r["kind"] for r in mine] == ["decision", "rejection"], [r["kind"] for r in mine])
    check(all(r["schema"] == "kube-remediator.audit/v1" for r in records), "a record not of ours")
    check(not any((r.get("approval") or {}).get("by") == "mallory" for r in records), "a forged approval")
    check(all("\n" not in m and "\u2028" not in m for m in messages), "a raw line break in a record")
    rejection = mine[1]
    check(rejection["approval"]["by"] == ops.whoami(), rejection["approval"])
    check(rejection["message"] == done["status"]["message"], (rejection["message"], done["status"]["message"]))
    check('{"schema"' in rejection["message"], "the reject reason is kept, as text")


def _metric(text: str, name: str) -> float:
    """The sum of a metric's samples over all its labels (0 when it has none yet)."""
    samples = [line for line in text.splitlines() if line.startswith((name + " ", name + "{"))]
    return sum(float(line.rsplit(" ", 1)[-1]) for line in samples)


def test_cloudwatch_down_blocks_nothing_and_the_records_follow_when_it_is_back(
    run_operator: OperatorFactory, ops: Ops, namespace: str, s3_server: MotoServer
) -> None:
    """CloudWatch unreachable from the start: an approval and a change go through as usual, the records wait
    in the buffer, and arrive complete, in order and once when the endpoint is back."""
    group, stream = new_group(s3_server), f"op-{uuid.uuid4().hex[:6]}"
    proxy = CuttableProxy(s3_server.port)
    proxy.cut()
    try:
        ops.policy(autoApplyThreshold=1.0, **FAST)
        op = run_operator(
            namespace,
            env=audit_env(
                s3_server, group, proxy.url, REMEDIATOR_WATCH_CLUSTER="false", REMEDIATOR_AUDIT_LOG_STREAM=stream
            ),
        )
        ops.deployment("app", 1, memory="64Mi")
        ops.running_pods("app", 1)
        ops.remediation("grow", "app", "increase_memory", error_type="oom", confidence=0.8, approve=True)
        done = ops.wait_phase("remediations", "grow", *FINAL, timeout=60)
        check(done["status"]["phase"] == "Succeeded", done["status"])
        check(ops.memory_limit("app") == "96Mi", "the change was applied while CloudWatch was down")
        text = op.metrics()
        check(_metric(text, "remediator_audit_send_failures_total") > 0, "no failed attempt while down")
        check(_metric(text, "remediator_audit_buffered_records") >= 5, "the records are not waiting in the buffer")
        check(not s3_server.log_messages(group, stream), "something got through the cut endpoint")

        proxy.restore()
        uid = done["metadata"]["uid"]

        def arrived() -> list[dict[str, Any]] | None:
            got = records_of(s3_server, group, stream, uid)
            return got if got and got[-1]["kind"] == "outcome" else None

        records = wait_for(arrived, 60, "the buffered records after the outage")  # backoff is at most 30 s
        kinds = [r["kind"] for r in records]
        check(kinds == ["decision", "approval", "change-planned", "change", "outcome"], kinds)
        check(len({r["id"] for r in records}) == len(records), "a record arrived twice")
        check(records[1]["actor"] == ops.whoami(), records[1])
        dropped = _metric(op.metrics(), "remediator_audit_records_dropped_total")
        check(dropped == 0, f"{dropped} records dropped")
    finally:
        proxy.close()
