"""Where policies come from: the cluster default (settings + a RemediationPolicy in the operator's namespace)
merged with the RemediationPolicy of the target's namespace, re-read at most every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable, Iterable, Mapping
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


# A kopf index of RemediationPolicies (handlers.py): namespace -> (name, spec) of each policy there.
PolicyIndex = Mapping[Hashable, Iterable[tuple[str, dict[str, Any]]]]


class PolicySource:
    def __init__(self, kube: Kube | None, settings: Settings, ttl: float = 5.0) -> None:
        self.kube, self.settings, self.ttl = kube, settings, ttl
        self._cache: dict[str, tuple[float, Policy]] = {}
        self._lock = threading.Lock()
        self._index: PolicyIndex | None = None

    def bind(self, index: PolicyIndex) -> None:
        """Read policies from the watch's index in the namespaces the operator watches (the cluster default's
        namespace may be elsewhere: read with a GET, as before)."""
        self._index = index

    def _indexed(self, namespace: str) -> list[tuple[str, dict[str, Any]]] | None:
        """The policies of a watched namespace, by name; None when the index does not cover it."""
        if self._index is None or (self.settings.namespaces and namespace not in self.settings.namespaces):
            return None
        for _ in range(3):
            try:
                return sorted(self._index.get(namespace) or (), key=lambda entry: entry[0])
            except RuntimeError:  # the event loop changed it while this thread read it: again
                continue
        return None

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
        """The named policy's spec, or (no name) the namespace's own policy: the first by name that is not the
        cluster default of the policy namespace."""
        entries = self._indexed(namespace)
        if entries is None:
            entries = self._read(namespace, name)
        for entry_name, spec in entries:
            if name is not None:
                if entry_name == name:
                    return dict(spec) or None
            elif entry_name != CLUSTER_DEFAULT_NAME or namespace != self.settings.policy_namespace:
                return dict(spec)
        return None

    def _read(self, namespace: str, name: str | None) -> list[tuple[str, dict[str, Any]]]:
        if self.kube is None:
            return []
        try:
            if name is not None:
                obj = self.kube.get_cr(api.POLICIES, namespace, name)
                return [(name, dict(obj.get("spec") or {}))] if obj else []
            items = self.kube.list_cr(api.POLICIES, namespace)
        except Exception as err:  # the API being down must not make the operator bolder: keep defaults
            log.warning("cannot read RemediationPolicy in %s: %s", namespace, err)
            return []
        return sorted((o["metadata"]["name"], dict(o.get("spec") or {})) for o in items)

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
