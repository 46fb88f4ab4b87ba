"""The remediation policy (RemediationPolicy spec and cluster default), its merge and scope checks.

Bounds mirror crds/remediationpolicies.remediator.dev.yaml, so a spec the API server accepts validates here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from remediator.domain.quantity import parse_quantity
from remediator.domain.types import Action

IGNORE_KEY = "remediator.dev/ignore"
# Same pattern as the RemediationPolicy CRD (crds/remediationpolicies.remediator.dev.yaml).
_CEILING = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$")


class _Spec(BaseModel):
    # Unknown keys are rejected: a misspelt safety field must not silently fall back to its default.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class RateLimit(_Spec):
    """How many automatic changes may start, per workload per hour and cluster-wide per minute."""

    per_workload_per_hour: int = Field(default=3, ge=0, le=1000)
    cluster_per_minute: int = Field(default=10, ge=0, le=10000)


class BlastRadius(_Spec):
    """How much of a workload or namespace one remediation may disturb at once."""

    max_pod_fraction: float = Field(default=0.34, ge=0.01, le=1.0)
    min_ready_pods: int = Field(default=1, ge=0, le=10000)
    max_in_flight_per_namespace: int = Field(default=3, ge=1, le=1000)


class GitOps(_Spec):
    """Whether workloads managed by Argo CD or Flux only get proposals (respect=true)."""

    respect: bool = True


class Policy(_Spec):
    """What the operator may do on its own; every default is the safe choice."""

    auto_apply_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    auto_apply_actions: tuple[Action, ...] = ("restart_pod", "rollback", "scale_up", "increase_memory")
    max_replicas: int = Field(default=10, ge=1, le=1000)
    memory_growth_factor: float = Field(default=1.5, ge=1.0, le=8.0)
    memory_ceiling: str = "4Gi"
    include_namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ("kube-system",)
    dry_run: bool = False
    rate_limit: RateLimit = RateLimit()
    cooldown_seconds: int = Field(default=300, ge=0, le=604800)
    backoff_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    max_cooldown_seconds: int = Field(default=3600, ge=0, le=604800)
    escalate_after_failures: int = Field(default=2, ge=0, le=100)
    blast_radius: BlastRadius = BlastRadius()
    git_ops: GitOps = GitOps()
    approval_ttl_seconds: int = Field(default=3600, ge=60, le=604800, alias="approvalTTLSeconds")
    verify_window_seconds: int = Field(default=120, ge=10, le=86400)
    undo_on_failure: tuple[Action, ...] = ("increase_memory", "scale_up", "rollback")

    @field_validator("memory_ceiling")
    @classmethod
    def _ceiling_is_quantity(cls, value: str) -> str:
        if not _CEILING.match(value) or parse_quantity(value) <= 0:
            raise ValueError(f"memoryCeiling {value!r} must be a positive quantity such as 4Gi or 512Mi")
        return value

    @field_validator("auto_apply_actions", "undo_on_failure")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("actions must not repeat")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.max_cooldown_seconds < self.cooldown_seconds:
            raise ValueError(
                f"maxCooldownSeconds ({self.max_cooldown_seconds}) must be at least cooldownSeconds "
                f"({self.cooldown_seconds})"
            )
        return self

    @property
    def memory_ceiling_bytes(self) -> int:
        """memoryCeiling in bytes."""
        return parse_quantity(self.memory_ceiling)

    def to_spec(self) -> dict[str, Any]:
        """The camelCase spec form, as a RemediationPolicy would hold it."""
        return self.model_dump(by_alias=True, mode="json")


_SCOPE_FIELDS = ("includeNamespaces", "excludeNamespaces", "include_namespaces", "exclude_namespaces")


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge(cluster: Policy, namespace_spec: Mapping[str, Any] | None) -> Policy:
    """The effective policy of a namespace: its RemediationPolicy spec overrides the cluster's field by field.

    Nested objects (rateLimit, blastRadius, gitOps) merge key by key; lists replace. The namespace spec may
    not change scope: includeNamespaces/excludeNamespaces always come from the cluster policy, so a namespace
    cannot bring itself into scope (it can still leave with the remediator.dev/ignore annotation). Raises
    pydantic.ValidationError, with the offending field named, for an invalid spec.
    """
    if not namespace_spec:
        return cluster
    spec = _to_aliases(Policy, {k: v for k, v in namespace_spec.items() if k not in _SCOPE_FIELDS})
    return Policy.model_validate(_deep_merge(cluster.to_spec(), spec))


def _to_aliases(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Rename snake_case field names to their camelCase aliases (recursively) so merged keys line up."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        info = model.model_fields.get(key)
        alias = (info.alias or key) if info is not None else key
        if info is None:  # already an alias, or unknown (validation will name it)
            info = next((f for f in model.model_fields.values() if f.alias == key), None)
        sub = info.annotation if info is not None else None
        if isinstance(value, Mapping) and isinstance(sub, type) and issubclass(sub, BaseModel):
            value = _to_aliases(sub, value)
        out[alias] = value
    return out


def namespace_in_scope(namespace: str, policy: Policy) -> bool:
    """Whether a namespace is in scope: not excluded and included (empty include = all); globs allowed."""
    if any(fnmatch.fnmatchcase(namespace, pattern) for pattern in policy.exclude_namespaces):
        return False
    if not policy.include_namespaces:
        return True
    return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in policy.include_namespaces)


def opted_out(labels: Mapping[str, str] | None, annotations: Mapping[str, str] | None = None) -> bool:
    """Whether an object carries remediator.dev/ignore: "true" as a label or an annotation."""
    for source in (labels or {}, annotations or {}):
        if str(source.get(IGNORE_KEY, "")).strip().lower() == "true":
            return True
    return False


# Markers only Argo CD or Flux write (or that a user writes to hand an object to them). Plain Helm
# (app.kubernetes.io/managed-by: Helm) and app.kubernetes.io/instance are deliberately not markers: both
# are common without any GitOps controller, and guessing "GitOps" there would silence the operator.
_ARGO_ANNOTATIONS = ("argocd.argoproj.io/tracking-id",)
_ARGO_LABELS = ("argocd.argoproj.io/instance",)
_FLUX_LABELS = (
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
    "helm.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/namespace",
)


def is_gitops_managed(
    labels: Mapping[str, str] | None, annotations: Mapping[str, str] | None = None
) -> str | None:
    """ "argocd" or "flux" when labels/annotations show a GitOps controller owns the object, else None."""
    labels = labels or {}
    annotations = annotations or {}
    managed_by = str(labels.get("app.kubernetes.io/managed-by", "")).strip().lower()
    if any(k in annotations for k in _ARGO_ANNOTATIONS) or any(k in labels for k in _ARGO_LABELS):
        return "argocd"
    if managed_by in ("argocd", "argo-cd"):
        return "argocd"
    if any(k in labels for k in _FLUX_LABELS) or managed_by in ("flux", "fluxcd"):
        return "flux"
    return None
