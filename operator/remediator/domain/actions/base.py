"""The records every action planner shares: PlanContext in; Plan (with Patches) or Refusal out; Change."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from remediator.domain.policy import Policy
from remediator.domain.types import Reason, WorkloadRef

PatchType = Literal["merge", "strategic", "json"]
# Content types an adapter sends for each patch type.
CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}


@dataclass(frozen=True)
class PlanContext:
    """What a planner may look at: the workload, its Pods and ReplicaSets (API dicts), the parameters."""

    workload: Mapping[str, Any]
    pods: Sequence[Mapping[str, Any]] = ()
    replicasets: Sequence[Mapping[str, Any]] = ()
    pod_name: str | None = None
    container_name: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    has_hpa: bool = False
    configmap: Mapping[str, Any] | None = None  # update_config: the ConfigMap named configMapName, as read
    now: datetime | None = None  # update_config: the restartedAt stamp

    @property
    def ref(self) -> WorkloadRef:
        """The workload's kind, name and namespace."""
        meta = self.workload.get("metadata") or {}
        return WorkloadRef(str(self.workload.get("kind", "")), str(meta.get("name", "")),
                           str(meta.get("namespace", "")))


@dataclass(frozen=True)
class Patch:
    """One PATCH request: the object, the body, and how the API should read the body."""

    target: WorkloadRef
    body: Any  # a dict for merge/strategic patches, a list of operations for json patches
    patch_type: PatchType

    @property
    def content_type(self) -> str:
        """The Content-Type header for this patch."""
        return CONTENT_TYPES[self.patch_type]


@dataclass(frozen=True)
class Plan:
    """What an action will do, in order: patches, then evictions; plus the before/after it records."""

    action: str
    target: WorkloadRef
    description: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    patches: tuple[Patch, ...] = ()
    evict: tuple[str, ...] = ()

    @property
    def changes_nothing(self) -> bool:
        """True for notify: no patch, no eviction."""
        return not self.patches and not self.evict

    def change(self) -> Change:
        """The record to keep in Remediation status.change so the plan can be undone."""
        return Change(kind=self.target.kind, name=self.target.name, namespace=self.target.namespace,
                      before=copy.deepcopy(self.before), after=copy.deepcopy(self.after), action=self.action)


@dataclass(frozen=True)
class Refusal(Reason):
    """A planner's refusal: a CamelCase code and a sentence (the caller proposes or notifies instead)."""


@dataclass(frozen=True)
class Change:
    """What was changed (Remediation status.change), enough for undo()."""

    kind: str
    name: str
    namespace: str
    before: dict[str, Any]
    after: dict[str, Any]
    action: str = ""
    undone: bool = False

    def to_status(self) -> dict[str, Any]:
        """The status.change form (kind, name, before, after, undone)."""
        return {"kind": self.kind, "name": self.name, "before": self.before, "after": self.after,
                "undone": self.undone}

    @classmethod
    def from_status(cls, status_change: Mapping[str, Any], namespace: str, action: str) -> Change:
        """Rebuild a Change from status.change (plus the Remediation's namespace and spec.action)."""
        return cls(kind=str(status_change.get("kind", "")), name=str(status_change.get("name", "")),
                   namespace=namespace, before=dict(status_change.get("before") or {}),
                   after=dict(status_change.get("after") or {}), action=action,
                   undone=bool(status_change.get("undone", False)))


TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def pod_spec(workload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Pod spec of a workload (its template's) or of a Pod."""
    spec = workload.get("spec") or {}
    if workload.get("kind") == "Pod":
        return spec
    return (spec.get("template") or {}).get("spec") or {}


def find_container(workload: Mapping[str, Any], name: str) -> tuple[str, Mapping[str, Any]] | None:
    """("containers" | "initContainers", container) for a named container of the workload's Pod spec."""
    spec = pod_spec(workload)
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if container.get("name") == name:
                return key, container
    return None


def template_patch(kind: str, pod_spec_patch: dict[str, Any]) -> dict[str, Any]:
    """Wrap a Pod-spec patch in the workload's spec.template.spec."""
    if kind == "Pod":
        return {"spec": pod_spec_patch}
    return {"spec": {"template": {"spec": pod_spec_patch}}}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A recursive dict merge (override wins; nested dicts merge; lists and scalars replace)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def number_parameter(
    parameters: Mapping[str, Any], name: str, minimum: float, maximum: float, integer: bool = False
) -> int | float | Refusal | None:
    """parameters[name] as a number within [minimum, maximum] (the CRD's bounds); None when absent.

    The CRD validates these, but a spec written before it (or without it) reaches the planner as is; a value
    that cannot be used is refused with a reason rather than raising, which would retry forever.
    """
    value = parameters.get(name)
    if value is None:
        return None
    # bool is an int to Python, never a count to a human; strings are not coerced either.
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or not math.isfinite(value) or not minimum <= value <= maximum:
        kind = "an integer" if integer else "a number"
        return Refusal("InvalidParameter", f"parameters.{name} must be {kind} from {minimum:g} to {maximum:g}, "
                                           f"not {str(value)[:40]!r}")
    return value


def drift_refusal(change: Change, now_value: Any) -> Refusal:
    """The refusal to undo when the object no longer holds what the remediation wrote."""
    return Refusal("Drifted", f"{change.kind} {change.name} changed since the remediation "
                              f"(now {now_value!r}); not undoing over someone else's change")
