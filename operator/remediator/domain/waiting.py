"""When a Remediation that waits must be looked at again, read from its status alone (no clock kept elsewhere),
and which workloads' changes concern it: the operator wakes it then instead of polling it.

A waiting Remediation moves on for one of three reasons: a person annotates it (a watch event on the
Remediation itself), its workload changes while it is verified (a watch event on the workload or its Pods),
or a deadline passes. The deadlines are the in-flight ones (domain.inflight: expiresAt, verifyUntil, a step's
window) plus, while verifying, the moment a workload that is Stable has been so long enough to succeed early.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from remediator.domain.clock import parse_time
from remediator.domain.conditions import get_condition
from remediator.domain.inflight import in_flight
from remediator.domain.verify import MIN_STABLE_SECONDS

VERIFYING = "Verifying"
STABLE = "Stable"  # the condition the verification step keeps (api.Condition.STABLE)
WorkloadKey = tuple[str, str, str]  # (namespace, kind, name)
VERIFY_CHECK_SECONDS = 5.0
VERIFY_CHECK_INS = 6  # bounded: this is a safety net for a missed event, not polling


def stable_seconds(status: Mapping[str, Any]) -> float | None:
    """How long a verified workload must stay healthy to succeed before the window ends: half the window
    recorded at apply (verifyUntil - appliedAt), at most MIN_STABLE_SECONDS; None when status lacks either."""
    try:
        applied, until = parse_time(status.get("appliedAt")), parse_time(status.get("verifyUntil"))
    except ValueError:
        return None
    if applied is None or until is None:
        return None
    return min(MIN_STABLE_SECONDS, max(0.0, (until - applied).total_seconds()) / 2)


def _check_ins(status: Mapping[str, Any], deadline: datetime | None) -> list[datetime]:
    """While verifying and not yet Stable: a few looks at the workload after the change, in case its watch
    events came before this Remediation was known to be verifying (they wake only Remediations the index
    already holds as Verifying). At most VERIFY_CHECK_INS, VERIFY_CHECK_SECONDS apart, never past the deadline."""
    try:
        applied = parse_time(status.get("appliedAt"))
    except ValueError:
        return []
    if applied is None:
        return []
    times = (applied + timedelta(seconds=VERIFY_CHECK_SECONDS * k) for k in range(1, VERIFY_CHECK_INS + 1))
    return [t for t in times if deadline is None or t < deadline]


def wake_times(rem: Mapping[str, Any]) -> list[datetime]:
    """The times, earliest first, at which this Remediation must be reconciled although nothing about it
    changed; empty once it is final (nothing to wait for). A time in the past means: now."""
    item = in_flight(rem)
    if item is None:
        return []
    wakes = [item.deadline]
    status = rem.get("status") or {}
    stable = get_condition(status.get("conditions"), STABLE) if item.phase == VERIFYING else None
    if item.phase == VERIFYING and (stable is None or stable.get("status") != "True"):
        wakes.extend(_check_ins(status, item.deadline))
    if stable is not None and stable.get("status") == "True":
        seconds = stable_seconds(status)
        try:
            since = parse_time(stable.get("lastTransitionTime"))
        except ValueError:
            since = None
        if seconds is not None and since is not None:
            wakes.append(since + timedelta(seconds=seconds))
    return sorted(w for w in wakes if w is not None)


def verified_workload(rem: Mapping[str, Any]) -> WorkloadKey:
    """The workload whose changes wake this Remediation while it is verified."""
    target = (rem.get("spec") or {}).get("target") or {}
    return str((rem.get("metadata") or {}).get("namespace")), str(target.get("kind")), str(target.get("name"))


def workloads_changed(obj: Mapping[str, Any]) -> list[WorkloadKey]:
    """The workloads a watch event of `obj` may concern: the object itself (a Deployment, StatefulSet,
    DaemonSet or a Pod target), and for a Pod its controller too, a Deployment's found from the ReplicaSet's
    name (<deployment>-<pod-template-hash>, as the Deployment controller names it). Only a hint: a wrong
    guess costs one reconcile, a missed one waits for the deadline."""
    meta = obj.get("metadata") or {}
    namespace, kind = str(meta.get("namespace")), str(obj.get("kind") or "Pod")
    keys = [(namespace, kind, str(meta.get("name")))]
    if kind != "Pod":
        return keys
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is None:
        return keys
    owner_kind, owner_name = str(owner.get("kind")), str(owner.get("name"))
    pod_hash = (meta.get("labels") or {}).get("pod-template-hash")
    if owner_kind == "ReplicaSet" and pod_hash and owner_name.endswith(f"-{pod_hash}"):
        keys.append((namespace, "Deployment", owner_name[: -len(pod_hash) - 1]))
    elif owner_kind in ("StatefulSet", "DaemonSet"):
        keys.append((namespace, owner_kind, owner_name))
    return keys
