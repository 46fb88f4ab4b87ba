"""The single writer of a Remediation's status: phase, reason, conditions, metrics, logs and Events.

Whatever else must see every step (traces, the audit stream, metrics beyond the phase counter) is a
TransitionObserver: told after each successful write, never able to fail or delay the step."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from remediator import api, failpoints, metrics
from remediator.adapters.kube import Kube, NotFound
from remediator.adapters.kubeapi import ApiException
from remediator.domain import clock, notification
from remediator.domain.conditions import make_condition, set_condition
from remediator.domain.lifecycle import standard_conditions
from remediator.domain.types import WorkloadRef
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.view import target_ref

log = logging.getLogger(__name__)


class TransitionObserver(Protocol):
    def transitioned(self, before: Mapping[str, Any], rem: Mapping[str, Any], t: Transition) -> None:
        """`before` is the status the step read; `rem` the Remediation as written. Must not block."""


class StatusWriter:
    def __init__(self, kube: Kube, observers: Sequence[TransitionObserver] = ()) -> None:
        self.kube = kube
        self.observers = tuple(observers)

    def write(self, rem: dict[str, Any], t: Transition, *, conditional: bool = True) -> dict[str, Any]:
        """Patch status with `t` (status first: the phase is recorded before the step acts on it) and return
        the Remediation as the API server has it afterwards. `conditional=False` only for the first status of
        a Remediation the caller has just created (kopf may add its finalizer in between)."""
        meta = rem["metadata"]
        now = clock.now()
        status = dict(rem.get("status") or {})
        generation = meta.get("generation")
        conditions = status.get("conditions") or []
        if t.phase != status.get("phase") or t.event:
            conditions = standard_conditions(conditions, t.phase, t.reason, t.message, now, generation)
        for type_, cstatus, reason, message in t.conditions:
            conditions = set_condition(conditions, make_condition(type_, cstatus, reason, message, now, generation))
        update = {
            "phase": t.phase,
            "reason": t.reason,
            "message": t.message[:1024],
            "conditions": conditions,
            "observedGeneration": generation,
            **t.fields,
        }
        # What humans must be told is recorded with the phase, in the same write (the sender delivers it).
        notice = notification.recorded_patch(rem, update, now)
        if notice is not None:
            update["notification"] = notice
        # Conditional on the version the step read: if anything wrote the Remediation since (another pass, or a
        # read that was stale), the API server refuses with 409 and the pass is retried from a fresh read.
        version = meta.get("resourceVersion") if conditional else None
        updated = self.kube.patch_status(
            api.REMEDIATIONS, meta["namespace"], meta["name"], update, resource_version=version
        )
        failpoints.reached(f"after-status:{t.phase}")
        rem["status"] = updated.get("status", {**status, **update})
        rem["metadata"] = updated.get("metadata", meta)
        if t.phase != status.get("phase"):
            metrics.REMEDIATIONS.labels(action=rem["spec"]["action"], phase=t.phase).inc()
            log.info(
                "remediation %s/%s: %s -> %s (%s) %s",
                meta["namespace"],
                meta["name"],
                status.get("phase"),
                t.phase,
                t.reason,
                t.message,
            )
        if t.event:
            self.events(rem, t.reason, t.message, warning=t.warning)
        self._notify(status, rem, t)
        return rem

    def _notify(self, before: Mapping[str, Any], rem: Mapping[str, Any], t: Transition) -> None:
        # The write has landed: an observer's trouble (a collector down, a bug) is logged, never raised.
        for observer in self.observers:
            try:
                observer.transitioned(before, rem, t)
            except Exception:
                log.exception("transition observer %s failed", type(observer).__name__)

    def events(self, rem: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        """An Event on the Remediation and one on its target, so `kubectl describe` of either shows it."""
        self.kube.event(rem, reason, message, warning=warning)
        ref = target_ref(rem)
        obj = _owner_target(rem, ref)
        if obj is None:  # not the operator's own (it names its target as owner): read the target's uid
            try:
                obj = self.kube.get(ref)
            except (NotFound, ApiException):
                return
        obj.setdefault("apiVersion", "v1" if ref.kind == "Pod" else "apps/v1")
        obj.setdefault("kind", ref.kind)
        self.kube.event(obj, reason, f"Remediation {rem['metadata']['name']}: {message}", warning=warning)


def _owner_target(rem: Mapping[str, Any], ref: WorkloadRef) -> dict[str, Any] | None:
    """The target as the Remediation's owner reference names it (kind, name, uid): enough for an Event on it,
    without a GET per Event."""
    for owner in (rem.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("kind") == ref.kind and owner.get("name") == ref.name and owner.get("uid"):
            return {
                "apiVersion": owner.get("apiVersion"),
                "kind": ref.kind,
                "metadata": {"name": ref.name, "namespace": ref.namespace, "uid": owner["uid"]},
            }
    return None
