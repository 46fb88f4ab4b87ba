"""The remediation policy (RemediationPolicy spec and cluster default), its merge and scope checks.

Bounds mirror crds/remediationpolicies.remediator.dev.yaml, so a spec the API server accepts validates here.
Two ways to combine policies: override() for the trusted cluster default over the built-ins (it may loosen),
and merge()/merge_namespace() for a namespace's RemediationPolicy, which may only tighten: whoever can
write a RemediationPolicy in one namespace must not be able to raise the cluster's limits there. The
field-by-field rule is the STRICTER table below.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


class EvidencePolicy(_Spec):
    """How recent a rollout must be for a rollback, and how long its predecessor must have served."""

    rollout_window_seconds: int = Field(default=1800, ge=60, le=604800)
    previous_healthy_seconds: int = Field(default=600, ge=0, le=604800)


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
    evidence: EvidencePolicy = EvidencePolicy()
    approval_ttl_seconds: int = Field(default=3600, ge=60, le=604800, alias="approvalTTLSeconds")
    verify_window_seconds: int = Field(default=120, ge=10, le=86400)
    undo_on_failure: tuple[Action, ...] = ("increase_memory", "scale_up", "rollback")
    # Namespaces (globs) where a requester may approve their own change; none by default.
    self_approval_namespaces: tuple[str, ...] = ()

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
_INCLUDE_FIELDS = ("includeNamespaces", "include_namespaces")


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def override(base: Policy, spec: Mapping[str, Any] | None) -> Policy:
    """`spec` over `base` field by field, as the cluster-default RemediationPolicy sets the operator's defaults.

    Only for a policy as trusted as `base` (the cluster default, written by whoever runs the operator): it may
    loosen. Nested objects (rateLimit, blastRadius, gitOps) merge key by key; lists replace. Scope fields are
    not taken (as before). Raises pydantic.ValidationError, with the offending field named, for an invalid spec.
    """
    if not spec:
        return base
    clean = _to_aliases(Policy, {k: v for k, v in spec.items() if k not in _SCOPE_FIELDS})
    return Policy.model_validate(_deep_merge(base.to_spec(), clean))


def _stricter_escalation(cluster: int, namespace: int) -> int:
    # 0 means "never escalate": the loosest value, so it wins only when both ask for it.
    if cluster == 0 or namespace == 0:
        return max(cluster, namespace)
    return min(cluster, namespace)


def _smaller_ceiling(cluster: str, namespace: str) -> str:
    return namespace if parse_quantity(namespace) < parse_quantity(cluster) else cluster


def _intersection(cluster: tuple[Any, ...], namespace: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a for a in cluster if a in namespace)


def _union(cluster: tuple[Any, ...], namespace: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*cluster, *(a for a in namespace if a not in cluster))


def _cluster_only(cluster: Any, namespace: Any) -> Any:
    return cluster


# How a namespace policy combines with the cluster default, field by field: the stricter always wins.
# Keys are attribute paths; test_policy.py checks every Policy field has a rule, so a new field needs a decision.
STRICTER: dict[str, Callable[[Any, Any], Any]] = {
    "auto_apply_threshold": max,  # needs more confidence to act alone
    "auto_apply_actions": _intersection,  # may only drop actions from automatic application
    "max_replicas": min,
    "memory_growth_factor": min,  # smaller steps (each step is still capped at the ceiling)
    "memory_ceiling": _smaller_ceiling,
    "include_namespaces": _cluster_only,  # a namespace cannot bring itself into scope
    "exclude_namespaces": _union,  # may only add exclusions
    "dry_run": operator.or_,  # may switch dry-run on, never off
    "rate_limit.per_workload_per_hour": min,
    "rate_limit.cluster_per_minute": min,
    "cooldown_seconds": max,
    "backoff_factor": max,
    "max_cooldown_seconds": max,  # with cooldown_seconds by max, maxCooldown >= cooldown still holds
    "escalate_after_failures": _stricter_escalation,  # escalate sooner; 0 (never) cannot switch it off
    "blast_radius.max_pod_fraction": min,
    "blast_radius.min_ready_pods": max,
    "blast_radius.max_in_flight_per_namespace": min,
    "git_ops.respect": operator.or_,  # may start respecting GitOps, never stop
    "evidence.rollout_window_seconds": min,  # a rollback only closer to its rollout
    "evidence.previous_healthy_seconds": max,  # the predecessor must have served longer
    "approval_ttl_seconds": min,  # a stale proposal expires sooner rather than being approved late
    "verify_window_seconds": max,  # watches longer before calling a change a success
    "undo_on_failure": _union,  # may ask for more automatic undo (back to the state before), never less
    "self_approval_namespaces": _intersection,  # may only give up self-approval, never grant it
}


@dataclass(frozen=True)
class MergedPolicy:
    """A namespace's effective policy, and the fields (camelCase paths) where its own spec was looser."""

    policy: Policy
    clamped: tuple[str, ...] = ()

    def note(self) -> str:
        """A sentence for a condition or log line; empty when nothing was clamped."""
        if not self.clamped:
            return ""
        return "kept at the cluster default because a namespace policy may only tighten it: " + ", ".join(self.clamped)


def _stricter(
    model: type[BaseModel], cluster: BaseModel, wanted: BaseModel, prefix: str, shown_prefix: str, clamped: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path, shown = prefix + name, shown_prefix + (info.alias or name)
        a, b = getattr(cluster, name), getattr(wanted, name)
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out[name] = sub.model_validate(_stricter(sub, a, b, path + ".", shown + ".", clamped))
            continue
        value = STRICTER[path](a, b)
        if value != b:
            clamped.append(shown)
        out[name] = value
    return out


def merge_namespace(cluster: Policy, namespace_spec: Mapping[str, Any] | None) -> MergedPolicy:
    """The effective policy of a namespace: its RemediationPolicy spec may only make the cluster's stricter.

    Each field combines by its STRICTER rule (min for maxima, ceilings, rates, in-flight and blast radius;
    max for thresholds, cooldowns, backoff, minimum ready Pods and the verify window; dry-run and GitOps
    respect can only be switched on; auto-apply actions only intersect; exclusions and undo actions only add;
    includeNamespaces stays the cluster's). A looser value is not an error: it is replaced by the cluster's
    and named in `clamped`. Raises pydantic.ValidationError, with the offending field named, for an invalid
    spec (nested objects merge key by key first, so a partial rateLimit is fine).
    """
    if not namespace_spec:
        return MergedPolicy(cluster)
    wanted_include = next((namespace_spec[k] for k in _INCLUDE_FIELDS if k in namespace_spec), None)
    spec = _to_aliases(Policy, {k: v for k, v in namespace_spec.items() if k not in _INCLUDE_FIELDS})
    wanted = Policy.model_validate(_deep_merge(cluster.to_spec(), spec))
    clamped: list[str] = []
    policy = Policy.model_validate(_stricter(Policy, cluster, wanted, "", "", clamped))
    if wanted_include is not None and tuple(wanted_include) != cluster.include_namespaces:
        clamped.append("includeNamespaces")
    return MergedPolicy(policy, tuple(dict.fromkeys(clamped)))


def merge(cluster: Policy, namespace_spec: Mapping[str, Any] | None) -> Policy:
    """merge_namespace(...).policy: the namespace's effective policy, never looser than the cluster's."""
    return merge_namespace(cluster, namespace_spec).policy


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


def self_approval_allowed(namespace: str, policy: Policy) -> bool:
    """Whether a requester may approve their own change in this namespace (selfApprovalNamespaces, globs)."""
    return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in policy.self_approval_namespaces)


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


def is_gitops_managed(labels: Mapping[str, str] | None, annotations: Mapping[str, str] | None = None) -> str | None:
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
