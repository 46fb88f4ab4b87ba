"""Where policies come from: the cluster default (settings + a RemediationPolicy in the operator's namespace)
merged with the RemediationPolicy of the target's namespace, re-read at most every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from pydantic import ValidationError

from remediator import api
from remediator.adapters.kube import Kube
from remediator.domain import clock
from remediator.domain.conditions import make_condition, set_condition
from remediator.domain.policy import Policy, merge, merge_namespace, override
from remediator.settings import Settings

log = logging.getLogger(__name__)
CLUSTER_DEFAULT_NAME = "cluster-default"


class PolicySource:
    def __init__(self, kube: Kube | None, settings: Settings, ttl: float = 5.0) -> None:
        self.kube, self.settings, self.ttl = kube, settings, ttl
        self._cache: dict[str, tuple[float, Policy]] = {}
        self._lock = threading.Lock()

    def base(self) -> Policy:
        """The operator's own defaults: flags and environment over the built-in safe values."""
        return Policy(auto_apply_threshold=self.settings.threshold, dry_run=self.settings.dry_run)

    def for_namespace(self, namespace: str) -> Policy:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(namespace)
            if hit and now - hit[0] < self.ttl:
                return hit[1]
        policy = self._load(namespace)
        with self._lock:
            self._cache[namespace] = (now, policy)
        return policy

    def _spec(self, namespace: str, name: str | None) -> dict[str, Any] | None:
        if self.kube is None:
            return None
        try:
            if name is not None:
                obj = self.kube.get_cr(api.POLICIES, namespace, name)
                return dict(obj["spec"]) if obj and obj.get("spec") else None
            items = sorted(self.kube.list_cr(api.POLICIES, namespace), key=lambda o: o["metadata"]["name"])
        except Exception as err:  # the API being down must not make the operator bolder: keep defaults
            log.warning("cannot read RemediationPolicy in %s: %s", namespace, err)
            return None
        for obj in items:
            if obj["metadata"]["name"] != CLUSTER_DEFAULT_NAME or namespace != self.settings.policy_namespace:
                return dict(obj.get("spec") or {})
        return None

    def _load(self, namespace: str) -> Policy:
        policy = self.base()
        for scope, spec in (
            ("cluster", self._spec(self.settings.policy_namespace, CLUSTER_DEFAULT_NAME)),
            ("namespace", self._spec(namespace, None)),
        ):
            if not spec:
                continue
            try:
                # Global dry-run is the operator's switch: a namespace policy may add dry-run, never lift it.
                # The cluster default may loosen the built-ins; a namespace policy may only tighten.
                merged = override(policy, spec) if scope == "cluster" else merge(policy, spec)
                policy = merged.model_copy(update={"dry_run": True}) if policy.dry_run else merged
            except (ValidationError, ValueError) as err:
                log.warning("ignoring invalid %s RemediationPolicy for %s: %s", scope, namespace, err)
        return policy

    def validity(self, spec: dict[str, Any], conditions: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The RemediationPolicy's conditions with `Valid` saying whether the operator will use it, so its
        author sees a bad policy in `kubectl describe` instead of only in the operator's log."""
        try:
            merged = merge_namespace(self.base(), spec)
        except (ValidationError, ValueError) as err:
            message = f"ignored, the defaults apply instead: {err}"
            cond = make_condition(api.PolicyCondition.VALID, False, "InvalidPolicy", message, clock.now())
        else:
            note = merged.note() if merged.clamped else ""
            text = f"in effect; {note}" if note else "in effect"
            cond = make_condition(api.PolicyCondition.VALID, True, "Accepted", text, clock.now())
        return set_condition(conditions, cond)
