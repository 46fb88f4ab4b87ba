"""Waiting costs nothing: the operator does not poll waiting Remediations. Approval, expiry and verification
are driven by watch events and one wake-up per deadline, so its requests do not grow with the number of
Remediations that wait, and deadlines still hold across a restart (they are read back from status).

Requests are counted by the API server itself (`apiserver_request_total{resource="remediations"}` on its
/metrics); in these tests only the operator reads Remediations while a window is measured."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from remediator.domain import clock
from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

NO_WATCH = {"REMEDIATOR_WATCH_CLUSTER": "false"}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
WINDOW_SECONDS = 20.0
PENDING = 50
# Allowed growth over a window: a stray relist or reconnect, never one request per Remediation (the 2 s timer
# this replaces made PENDING / 2 * WINDOW_SECONDS = 500 GETs in such a window).
SLACK = 10
_SAMPLE = re.compile(r"^apiserver_request_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


def remediation_requests(cluster: Cluster) -> int:
    """Requests the API server has answered on remediations (and their status), watches excepted: a watch
    is counted when it ends, and kopf's reconnects every few minutes are no polling."""
    text = cluster.kubectl("get", "--raw", "/metrics").stdout
    total = 0.0
    for labels, value in _SAMPLE.findall(text):
        if 'resource="remediations"' in labels and 'verb="WATCH"' not in labels:
            total += float(value)
    return int(total)


def requests_during(cluster: Cluster, seconds: float) -> int:
    before = remediation_requests(cluster)
    time.sleep(seconds)
    return remediation_requests(cluster) - before


def pending(ops: Ops, name: str, target: str) -> None:
    ops.remediation(name, target, "increase_memory", error_type="oom", confidence=0.8)


def when(rem: dict[str, object], key: str) -> datetime:
    value = clock.parse_time(rem["status"][key])  # type: ignore[index]
    assert value is not None, rem
    return value


def test_idle_requests_do_not_grow_with_pending_approvals(
    run_operator: OperatorFactory, ops: Ops, cluster: Cluster, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, cooldownSeconds=0, maxCooldownSeconds=0)
    run_operator(namespace, env=NO_WATCH)
    time.sleep(3)  # start-up settles (peering, first listings)
    idle_none = requests_during(cluster, WINDOW_SECONDS)

    names = [f"wait-{i:02d}" for i in range(PENDING)]
    for name in names:
        ops.deployment(f"app-{name}", 0)  # no Pods needed: nothing is applied while it waits
        pending(ops, name, f"app-{name}")
    wait_for(
        lambda: sum(ops.phase("remediations", n) == "PendingApproval" for n in names) == PENDING,
        60,
        f"{PENDING} Remediations waiting for approval",
    )
    time.sleep(3)  # the last decisions' writes and Events are out of the window
    idle_many = requests_during(cluster, WINDOW_SECONDS)
    print(f"remediation requests in {WINDOW_SECONDS:.0f} s: 0 pending -> {idle_none}, {PENDING} -> {idle_many}")
    check(
        idle_many <= idle_none + SLACK,
        f"{idle_many} requests on remediations in {WINDOW_SECONDS:.0f} s with {PENDING} pending, {idle_none} with "
        "none: waiting Remediations are being polled",
    )
    check(all(ops.phase("remediations", n) == "PendingApproval" for n in names), "they still wait")


@pytest.fixture
def waiting(run_operator: OperatorFactory, ops: Ops, namespace: str) -> str:
    """A healthy Deployment `app` and a Remediation `grow` waiting for approval, verified for 20 s once applied
    (so an early success, after 10 s stable, is told apart from the window's end)."""
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=20, cooldownSeconds=0, maxCooldownSeconds=0)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    pending(ops, "grow", "app")
    ops.wait_phase("remediations", "grow", "PendingApproval")
    return "grow"


def test_approval_applies_at_once_and_the_rollout_wakes_verification(ops: Ops, waiting: str) -> None:
    ops.approve(waiting)
    approved = time.monotonic()
    ops.wait_phase("remediations", waiting, "Verifying", *FINAL, timeout=10)
    check(time.monotonic() - approved < 5, "the approval annotation was acted on promptly")
    done = ops.wait_phase("remediations", waiting, *FINAL, timeout=40)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    # Early success needs the Stable condition, which only a pass woken by the rollout's events sets before
    # the window ends: nothing polls the Remediation any more.
    check(done["status"]["reason"] == "StableEarly", done["status"])
    check(when(done, "completedAt") < when(done, "verifyUntil"), done["status"])
    check(ops.memory_limit("app") == "96Mi", ops.memory_limit("app"))


def test_expiry_happens_at_its_deadline_not_before(ops: Ops, waiting: str) -> None:
    # approvalTTLSeconds cannot go below 60 s (CRD minimum): move the deadline near instead.
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    ops.patch_status("remediations", waiting, {"expiresAt": clock.format_time(deadline)})
    holds_for(
        lambda: ops.phase("remediations", waiting) == "PendingApproval",
        max(0.0, (deadline - datetime.now(UTC)).total_seconds() - 1.0),
        "waiting until its deadline",
    )
    done = ops.wait_phase("remediations", waiting, *FINAL, timeout=10)
    check(done["status"]["phase"] == "Expired" and done["status"]["reason"] == "ApprovalExpired", done["status"])
    late = (when(done, "completedAt") - deadline).total_seconds()
    check(0 <= late <= 2, f"expired {late:.0f} s after its deadline")


def test_verification_fails_at_the_end_of_its_window_when_the_workload_stays_broken(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=10, cooldownSeconds=0, maxCooldownSeconds=0)
    run_operator(namespace, env=NO_WATCH)
    ops.deployment("broken", 1, fail="crashloop")
    pending(ops, "grow", "broken")
    ops.wait_phase("remediations", "grow", "PendingApproval")
    ops.approve("grow")
    verifying = ops.wait_phase("remediations", "grow", "Verifying", *FINAL, timeout=15)
    check(verifying["status"]["phase"] == "Verifying", verifying["status"])
    done = ops.wait_phase("remediations", "grow", *FINAL, timeout=30)
    check(done["status"]["phase"] == "Failed", done["status"])
    check(done["status"]["outcome"]["result"] == "Failed", done["status"])
    late = (when(done, "completedAt") - when(done, "verifyUntil")).total_seconds()
    check(0 <= late <= 3, f"judged {late:.0f} s after the window's end")


def test_a_restarted_operator_still_expires_at_the_deadline_in_status(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, cooldownSeconds=0, maxCooldownSeconds=0)
    op = run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 0)
    pending(ops, "grow", "app")
    ops.wait_phase("remediations", "grow", "PendingApproval")
    op.stop()
    # Set while no operator runs, so only the status can tell the new process when to expire it.
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=25)
    ops.patch_status("remediations", "grow", {"expiresAt": clock.format_time(deadline)})
    op.start()
    check(datetime.now(UTC) < deadline - timedelta(seconds=2), "the operator took too long to start for this test")
    check(ops.phase("remediations", "grow") == "PendingApproval", "not expired before its deadline")
    done = ops.wait_phase("remediations", "grow", *FINAL, timeout=35)
    check(done["status"]["phase"] == "Expired", done["status"])
    late = (when(done, "completedAt") - deadline).total_seconds()
    check(0 <= late <= 2, f"expired {late:.0f} s after its deadline")


def test_a_restarted_operator_finishes_a_verification_it_did_not_start(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(autoApplyThreshold=1.0, verifyWindowSeconds=30, cooldownSeconds=0, maxCooldownSeconds=0)
    op = run_operator(namespace, env=NO_WATCH)
    ops.deployment("app", 1, memory="64Mi")
    ops.running_pods("app", 1)
    pending(ops, "grow", "app")
    ops.wait_phase("remediations", "grow", "PendingApproval")
    ops.approve("grow")
    ops.wait_phase("remediations", "grow", "Verifying", timeout=15)
    op.stop()
    op.start()
    done = ops.wait_phase("remediations", "grow", *FINAL, timeout=45)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    late = (when(done, "completedAt") - when(done, "verifyUntil")).total_seconds()
    check(late <= 2, f"judged {late:.0f} s after the window's end")
