"""The metrics that answer an SRE's questions: failure-to-step latencies from status, first decisions, the
scrape-time gauges (in flight, approvals, pending feedback, model version) and where the failure time comes from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.registry import REGISTRY

from remediator import metrics
from remediator.domain.inflight import InFlight
from remediator.pipeline.remediation.decision import failure_seen_at
from remediator.pipeline.remediation.measure import TransitionMetrics, step_latencies
from remediator.pipeline.remediation.transition import Transition

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rem(status: dict[str, Any], action: str = "restart_pod") -> dict[str, Any]:
    return {"metadata": {"creationTimestamp": ts(4)}, "spec": {"action": action}, "status": status}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- latencies ------------------------------------------------------------------------------------------------
def test_first_write_measures_failure_to_remediation_from_the_creation_time() -> None:
    r = rem({"phase": "Approved", "failureSeenAt": ts(0)})
    assert step_latencies({}, r, "Approved") == {"remediation": 4.0}


def test_applied_is_measured_on_entering_verifying_and_verified_on_a_verified_success() -> None:
    applied = rem({"phase": "Verifying", "failureSeenAt": ts(0), "appliedAt": ts(30), "change": {}})
    assert step_latencies({"phase": "Applying"}, applied, "Verifying") == {"applied": 30.0}
    verified = rem(
        {"phase": "Succeeded", "failureSeenAt": ts(0), "completedAt": ts(95), "outcome": {"result": "Succeeded"}}
    )
    assert step_latencies({"phase": "Verifying"}, verified, "Succeeded") == {"verified": 95.0}


def test_no_latency_without_a_phase_change_a_failure_time_a_real_change_or_a_verified_outcome() -> None:
    r = rem({"phase": "Verifying", "failureSeenAt": ts(0), "appliedAt": ts(30)})
    assert step_latencies({"phase": "Verifying"}, r, "Verifying") == {}  # the Stable condition flipping
    assert step_latencies({"phase": "Applying"}, rem({"phase": "Verifying", "appliedAt": ts(30)}), "Verifying") == {}
    dry = rem({"phase": "Verifying", "failureSeenAt": ts(0), "appliedAt": ts(3), "change": {"dryRun": True}})
    assert step_latencies({"phase": "Applying"}, dry, "Verifying") == {}
    notify = rem({"phase": "Succeeded", "failureSeenAt": ts(0), "completedAt": ts(9)}, action="notify")
    assert step_latencies({"phase": "Approved"}, notify, "Succeeded") == {}  # nothing was verified


def test_a_failure_time_after_the_step_counts_as_zero_not_negative() -> None:
    r = rem({"phase": "Approved", "failureSeenAt": ts(60)})
    assert step_latencies({}, r, "Approved") == {"remediation": 0.0}


def test_the_observer_counts_the_first_decision_once_and_feeds_the_histograms() -> None:
    observer = TransitionMetrics()
    decided = sample("remediator_decisions_total", action="rollback", phase="PendingApproval", reason="BelowThreshold")
    count = sample("remediator_failure_to_remediation_seconds_count", action="rollback")
    first = rem({"phase": "PendingApproval", "failureSeenAt": ts(0)}, action="rollback")
    observer.transitioned({}, first, Transition("PendingApproval", "BelowThreshold", "waits"))
    observer.transitioned(first["status"], first, Transition("PendingApproval", "BelowThreshold", "again"))
    assert (
        sample("remediator_decisions_total", action="rollback", phase="PendingApproval", reason="BelowThreshold")
        == decided + 1
    )
    assert sample("remediator_failure_to_remediation_seconds_count", action="rollback") == count + 1


# -- where the failure time comes from ----------------------------------------------------------------------
def ee(first_seen: str | None, created: str = ts(100)) -> dict[str, Any]:
    spec = {"firstSeen": first_seen} if first_seen else {}
    return {"metadata": {"creationTimestamp": created}, "spec": spec}


def test_failure_time_is_the_errorevents_first_seen() -> None:
    assert failure_seen_at(ee(ts(40))) == T0 + timedelta(seconds=40)


def test_a_first_seen_claim_in_the_future_or_days_ago_is_replaced_by_the_errorevents_creation() -> None:
    created = T0 + timedelta(seconds=100)
    assert failure_seen_at(ee(ts(100 + 3600))) == created  # a writer cannot make the latency vanish
    assert failure_seen_at(ee(ts(100 - 3 * 86400))) == created  # ... nor make it days long
    assert failure_seen_at(ee(None)) == created
    assert failure_seen_at(ee("garbage")) is None
    assert failure_seen_at(None) is None


# -- scrape-time gauges ------------------------------------------------------------------------------------------
def test_watched_state_exports_in_flight_approvals_feedback_and_model_only_while_acting() -> None:
    now = datetime.now(UTC)
    items = [
        InFlight("PendingApproval", now - timedelta(minutes=10), now + timedelta(hours=1)),
        InFlight("Verifying", None, now - timedelta(minutes=20)),
    ]
    state = metrics.WatchedState()
    state.bind(metrics.Sources(in_flight=lambda: items, pending_feedback=lambda: 3, model_version=lambda: "v7"))
    registry = CollectorRegistry()
    registry.register(state)
    try:
        metrics.set_acting(False)
        assert registry.get_sample_value("remediator_model_info", {"version": "v7"}) == 1
        assert registry.get_sample_value("remediator_remediations_in_flight", {"phase": "Verifying"}) is None
        metrics.set_acting(True)
        get = registry.get_sample_value
        assert get("remediator_remediations_in_flight", {"phase": "PendingApproval"}) == 1
        assert get("remediator_remediations_in_flight", {"phase": "Applying"}) == 0
        assert get("remediator_remediations_overdue", {"phase": "Verifying"}) == 1
        assert get("remediator_approvals_pending", {}) == 1
        assert 599 <= (get("remediator_approval_oldest_wait_seconds", {}) or 0) <= 605
        assert get("remediator_feedback_pending", {}) == 3
    finally:
        metrics.set_acting(False)


def test_an_unbound_state_exports_nothing() -> None:
    registry = CollectorRegistry()
    registry.register(metrics.WatchedState())
    assert registry.get_sample_value("remediator_model_info", {"version": "x"}) is None


def test_an_index_that_changes_while_read_is_read_again() -> None:
    calls = {"n": 0}

    def flaky() -> list[InFlight]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("dictionary changed size during iteration")
        return [InFlight("Applying", None, None)]

    assert metrics._retrying(flaky) == [InFlight("Applying", None, None)]


# -- the feedback store's reachability --------------------------------------------------------------------
def test_store_calls_set_reachability_and_count_errors_by_operation_verb() -> None:
    import pytest
    from pymongo.errors import ServerSelectionTimeoutError

    from remediator.adapters.store import FeedbackStore, StoreUnavailable

    store = FeedbackStore("mongodb://127.0.0.1:1/test", timeout_ms=50)
    errors = sample("remediator_feedback_store_errors_total", operation="write")

    def down() -> None:
        raise ServerSelectionTimeoutError("no server")

    with pytest.raises(StoreUnavailable):
        store._call("write feedback shop/web-oom/uid/human/alice", down)
    assert sample("remediator_feedback_store_up", store="mongodb") == 0
    assert sample("remediator_feedback_store_errors_total", operation="write") == errors + 1
    assert store._call("read feedback", lambda: 1) == 1
    assert sample("remediator_feedback_store_up", store="mongodb") == 1
    store.close()
