"""Check a claimed failure against what the target's own Pods show, before anything changes automatically.

An ErrorEvent is a claim: its text may come from a user, an API client, an alert, or a forged Warning Event.
The operator changes a workload by itself only when the Pods' status, as the API server reports it now
(container states, termination reasons, readiness, restart counts), shows a failure of the kind the claim's
error type implies. A claim the cluster does not show is still classified and proposed, never auto-applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from remediator.domain.detect import pod_failures
from remediator.domain.types import Reason
from remediator.domain.workload_state import pod_ready, restarts

# Pod-visible failure families (detect.FAMILIES, plus "notready": running but failing readiness) each error
# type is expected to show. Application-level errors (timeouts, a dependency down) show as crashes, restarts
# or lost readiness of the Pods that suffer them.
_APP_LEVEL = frozenset({"crash", "oom", "notready"})
EXPECTED: dict[str, frozenset[str]] = {
    "oom": frozenset({"oom"}),
    "image_pull": frozenset({"image"}),
    "config_issue": frozenset({"config", "crash"}),
    "app_crash": frozenset({"crash", "oom"}),
    "probe_failure": frozenset({"notready", "crash"}),
    "permission_denied": frozenset({"crash", "config", "notready"}),
    "dependency_error": _APP_LEVEL,
    "timeout": _APP_LEVEL | {"saturated"},  # saturated: replicas near their limits (metrics.k8s.io)
    "resource_exhaustion": _APP_LEVEL | {"evicted", "unschedulable", "saturated"},
}
# Actions whose premise is one specific family, whatever the error type says.
ACTION_NEEDS: dict[str, frozenset[str]] = {"increase_memory": frozenset({"oom"})}
# Terminations older than this are history, not the failure being claimed now.
RECENT = timedelta(minutes=30)


@dataclass(frozen=True)
class PodSignals:
    """What the target's Pods show now: counts and the failure families seen, with one example of each."""

    pods: int = 0
    ready: int = 0
    restarts: int = 0
    families: frozenset[str] = frozenset()
    examples: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line of what was checked, for status."""
        seen = ", ".join(sorted(self.families)) or "no failure"
        return f"{self.ready}/{self.pods} Pods ready, {self.restarts} restarts, seen: {seen}"


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def observe(pods: Iterable[Mapping[str, Any]], now: datetime) -> PodSignals:
    """Read the failure families the Pods show now (terminations within RECENT count)."""
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    families: set[str] = set()
    examples: list[str] = []
    for pod in live:
        found = {f.kind_family: f.reason for f in pod_failures(pod, now=now, since=now - RECENT)}
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and not pod_ready(pod) and status.get("conditions"):
            found.setdefault("notready", "NotReady")
        for family, reason in sorted(found.items()):
            if family not in families and len(examples) < 8:
                examples.append(f"Pod {_name(pod)}: {reason}")
            families.add(family)
    return PodSignals(
        pods=len(live),
        ready=sum(1 for p in live if pod_ready(p)),
        restarts=sum(restarts(p, None) for p in live),
        families=frozenset(families),
        examples=tuple(examples),
    )


def expected_families(error_type: str, action: str) -> frozenset[str]:
    """The families that would corroborate this claim: the action's own premise, else the error type's."""
    return ACTION_NEEDS.get(action) or EXPECTED.get(error_type, _APP_LEVEL)


def corroborate(error_type: str, action: str, signals: PodSignals, target: str, saturated: str | None = None) -> Reason:
    """Corroborated or NotCorroborated, saying what was expected and what the Pods show (`saturated`: what
    metrics.k8s.io showed, when replicas run near their limits)."""
    expected = expected_families(error_type, action)
    seen = (signals.families | ({"saturated"} if saturated else set())) & expected
    checked = f"checked {target}: {signals.summary()}" + (f"; saturated: {saturated}" if saturated else "")
    if seen:
        examples = f" ({'; '.join(signals.examples)[:300]})" if signals.examples else ""
        return Reason(
            "Corroborated",
            f"the Pods show the claimed {error_type} ({', '.join(sorted(seen))}); {checked}{examples}",
        )
    wanted = " or ".join(sorted(expected))
    return Reason(
        "NotCorroborated",
        f"the claimed {error_type} is not visible on the Pods (expected {wanted} "
        f"for {action}); {checked}: proposed, not applied automatically",
    )
