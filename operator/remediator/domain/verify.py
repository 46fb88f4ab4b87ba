"""Judge, from snapshots taken after a remediation was applied, whether it worked.

Rule (evaluated in this order):
1. The same failure observed again -> Failed at once (FailureRecurred).
2. Healthy = ready replicas >= desired (and, when known, updated replicas >= desired, so the rollout is
   done) and no container restarts since the change was applied.
3. Past the deadline (appliedAt + verifyWindowSeconds): healthy -> Succeeded (Verified); restarts seen ->
   Failed (RestartedDuringWindow); otherwise -> Failed (NotReadyInTime).
4. Before the deadline: healthy and continuously so for min_stable_seconds (default 60 s; the caller keeps
   `ready_since`, e.g. as the lastTransitionTime of a Stable condition) -> Succeeded early (StableEarly);
   otherwise Pending. Restarts before the deadline keep it Pending (a restart may be the rollout itself)
   until the deadline, unless the caller reports the same failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from remediator.domain.clock import format_time
from remediator.domain.detect import pod_failures

Result = Literal["Succeeded", "Failed", "Pending"]
MIN_STABLE_SECONDS = 60.0


@dataclass(frozen=True)
class VerifySnapshot:
    """What the adapter saw at one poll during the verification window."""

    now: datetime
    deadline: datetime
    desired_replicas: int
    ready_replicas: int
    restarts_at_apply: Mapping[str, int] = field(default_factory=dict)  # Pod -> failing container restarts
    restarts_now: Mapping[str, int] = field(default_factory=dict)  # Pods present now (new Pods included)
    same_failure_seen: bool = False
    ready_since: datetime | None = None
    updated_replicas: int | None = None
    min_stable_seconds: float = MIN_STABLE_SECONDS


@dataclass(frozen=True)
class Outcome:
    """The verdict: result, a CamelCase reason, a sentence, and the numbers behind it."""

    result: Result
    reason: str
    message: str
    ready_replicas: int
    restarts_during_window: int

    def to_status(self) -> dict[str, Any] | None:
        """The Remediation status.outcome form; None while Pending (the CRD has no Pending result)."""
        if self.result == "Pending":
            return None
        return {"result": self.result, "message": self.message[:1024], "readyReplicas": self.ready_replicas,
                "restartsDuringWindow": self.restarts_during_window}


def restarts_during_window(snapshot: VerifySnapshot) -> int:
    """Restarts since apply: growth of each surviving Pod's count, plus every restart of a new Pod."""
    total = 0
    for pod, count in snapshot.restarts_now.items():
        total += max(0, count - snapshot.restarts_at_apply.get(pod, 0))
    return total


def healthy(snapshot: VerifySnapshot) -> bool:
    """All desired Pods ready (rollout complete when known) and no restarts since apply."""
    desired = snapshot.desired_replicas
    updated_ok = snapshot.updated_replicas is None or snapshot.updated_replicas >= desired
    return snapshot.ready_replicas >= desired and updated_ok and restarts_during_window(snapshot) == 0


def next_ready_since(snapshot: VerifySnapshot) -> datetime | None:
    """What the caller should keep as ready_since after this poll: kept while healthy, cleared otherwise."""
    if not healthy(snapshot):
        return None
    return snapshot.ready_since or snapshot.now


def judge(snapshot: VerifySnapshot) -> Outcome:
    """Succeeded, Failed or Pending for one snapshot (see the module docstring for the rule)."""
    restarts = restarts_during_window(snapshot)
    ready, desired = snapshot.ready_replicas, snapshot.desired_replicas

    def out(result: Result, reason: str, message: str) -> Outcome:
        return Outcome(result, reason, message, ready, restarts)

    if snapshot.same_failure_seen:
        return out("Failed", "FailureRecurred", "the same failure was observed again after the change")
    is_healthy = healthy(snapshot)
    counts = f"{ready}/{desired} ready, {restarts} restart{'s' if restarts != 1 else ''} since the change"
    if snapshot.now >= snapshot.deadline:
        if is_healthy:
            return out("Succeeded", "Verified", f"healthy at the end of the verification window: {counts}")
        if restarts:
            return out("Failed", "RestartedDuringWindow", f"containers kept restarting: {counts}")
        return out("Failed", "NotReadyInTime", f"not all Pods became ready within the window: {counts}")
    if is_healthy:
        stable_for = (snapshot.now - (snapshot.ready_since or snapshot.now)).total_seconds()
        if stable_for >= snapshot.min_stable_seconds:
            need = int(snapshot.min_stable_seconds)
            return out("Succeeded", "StableEarly", f"healthy for {int(stable_for)} s (>= {need} s): {counts}")
        return out("Pending", "Stabilizing", f"healthy for {int(stable_for)} s so far: {counts}")
    return out("Pending", "Verifying", f"waiting until {format_time(snapshot.deadline)}: {counts}")


def failure_recurred(
    pods: Sequence[Mapping[str, Any]], family: str, applied_at: datetime,
    restarts_at_apply: Mapping[str, int], container: str | None = None,
) -> bool:
    """Whether the same failure family shows again *because of* this change, for VerifySnapshot.

    Counts a Pod that did not exist at apply time (not in restarts_at_apply) showing the family, or a
    surviving Pod whose failing container restarted since. Old Pods still showing the old failure while a
    rollout replaces them do not count (otherwise every rollout would fail verification at once).
    """
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name", ""))
        is_new = name not in restarts_at_apply
        for failure in pod_failures(pod, since=applied_at):
            if failure.kind_family != family or (container and failure.container_name != container):
                continue
            if is_new or failure.restart_count > restarts_at_apply[name]:
                return True
    return False
