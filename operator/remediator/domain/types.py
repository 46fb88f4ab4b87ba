"""The vocabulary shared by the domain modules: actions, error types and small immutable records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from remediator_model import taxonomy

# Literal spellings of the taxonomy for static typing; tests/unit/domain/test_taxonomy.py keeps them equal.
Action = Literal["restart_pod", "rollback", "scale_up", "increase_memory", "update_config", "notify"]
ErrorType = Literal[
    "oom",
    "config_issue",
    "dependency_error",
    "timeout",
    "image_pull",
    "app_crash",
    "probe_failure",
    "permission_denied",
    "resource_exhaustion",
]
Family = Literal["crash", "oom", "image", "config", "probe", "evicted", "unschedulable"]

ACTIONS: tuple[str, ...] = taxonomy.ACTIONS
ERROR_TYPES: tuple[str, ...] = taxonomy.ERROR_TYPES
FAMILIES: tuple[str, ...] = get_args(Family)
# Kinds a Remediation may target (crds/remediations.remediator.dev.yaml, spec.target.kind).
WORKLOAD_KINDS: tuple[str, ...] = ("Pod", "Deployment", "StatefulSet", "DaemonSet")

_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class WorkloadRef:
    """A namespaced object by kind and name (a workload, a bare Pod, or a ConfigMap a plan patches)."""

    kind: str
    name: str
    namespace: str

    def to_target(self) -> dict[str, str]:
        """The `spec.target` form of the ErrorEvent/Remediation CRDs (without pod/container names)."""
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class Failure:
    """One observed failure of one Pod (and container, when known), as detect.py reads it from the API."""

    namespace: str
    pod_name: str
    container_name: str | None
    pod_owner: tuple[str, str] | None
    reason: str
    message: str
    exit_code: int | None
    restart_count: int
    kind_family: str
    observed_at: datetime
    signal: int | None = None
    init_container: bool = False

    def __post_init__(self) -> None:
        if self.kind_family not in FAMILIES:
            raise ValueError(f"kind_family {self.kind_family!r} is not one of {', '.join(FAMILIES)}")


@dataclass(frozen=True)
class Classification:
    """What the model said about a failure: the error type, the action, and how sure it is."""

    error_type: str
    action: str
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float | None = None
    explanation: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)
    model_version: str = ""
    # The model's calibrated probability, per action, that it fixes this failure (most likely first).
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    novelty: float = 0.0  # share of the text's words the model never saw in training (1: nothing familiar)

    def __post_init__(self) -> None:
        if self.error_type not in ERROR_TYPES:
            raise ValueError(f"error_type {self.error_type!r} is not one of {', '.join(ERROR_TYPES)}")
        if self.action not in ACTIONS:
            raise ValueError(f"action {self.action!r} is not one of {', '.join(ACTIONS)}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside 0..1")
        if self.runner_up_confidence is not None and not 0.0 <= self.runner_up_confidence <= 1.0:
            raise ValueError(f"runner_up_confidence {self.runner_up_confidence} is outside 0..1")

    def to_status(self) -> dict[str, Any]:
        """The ErrorEvent `status.classification` form (camelCase, CRD length limits applied)."""
        out: dict[str, Any] = {
            "errorType": self.error_type,
            "action": self.action,
            "confidence": self.confidence,
            "explanation": self.explanation[:1024],
            "evidence": [e[:256] for e in self.evidence[:16]],
        }
        if self.runner_up is not None:
            out["runnerUp"] = self.runner_up[:64]
        if self.runner_up_confidence is not None:
            out["runnerUpConfidence"] = self.runner_up_confidence
        if self.model_version:
            out["modelVersion"] = self.model_version[:128]
        if self.alternatives:
            out["actionProbabilities"] = {a: p for a, p in self.alternatives if a in ACTIONS}
        if self.novelty:
            out["novelty"] = min(1.0, max(0.0, self.novelty))
        return out

    def alternatives_text(self, k: int = 3) -> str:
        """ "model: increase_memory 0.71, notify 0.12, update_config 0.08" (the k most likely actions), and how
        much of the text was unfamiliar to it ("; 38% of the text unseen in training")."""
        text = "model: " + ", ".join(f"{a} {p:.2f}" for a, p in self.alternatives[:k])
        return text + (f"; {self.novelty:.0%} of the text unseen in training" if self.novelty >= 0.01 else "")


@dataclass(frozen=True)
class Reason:
    """Why the operator did or refused something: a CamelCase code and a human sentence."""

    code: str
    message: str

    def __post_init__(self) -> None:
        if not _CAMEL.match(self.code) or len(self.code) > 64:
            raise ValueError(f"reason code {self.code!r} must be CamelCase and at most 64 characters")
        if not self.message:
            raise ValueError(f"reason {self.code} needs a message")

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
