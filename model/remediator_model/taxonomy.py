"""Error types, remediation actions and the type -> default-actions prior."""

from __future__ import annotations

from enum import StrEnum


class ErrorType(StrEnum):
    OOM = "oom"
    CONFIG_ISSUE = "config_issue"
    DEPENDENCY_ERROR = "dependency_error"
    TIMEOUT = "timeout"
    IMAGE_PULL = "image_pull"
    APP_CRASH = "app_crash"
    PROBE_FAILURE = "probe_failure"
    PERMISSION_DENIED = "permission_denied"
    RESOURCE_EXHAUSTION = "resource_exhaustion"


class Action(StrEnum):
    RESTART_POD = "restart_pod"
    ROLLBACK = "rollback"
    SCALE_UP = "scale_up"
    INCREASE_MEMORY = "increase_memory"
    UPDATE_CONFIG = "update_config"
    NOTIFY = "notify"


ERROR_TYPES: tuple[str, ...] = tuple(t.value for t in ErrorType)
ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)
SOURCES: tuple[str, ...] = ("cluster", "user", "api", "alert", "")

# Acceptable actions per type, preferred first. Used as the seed labels' default, as a
# feature/fallback prior for the action model, and by the keyword baseline.
DEFAULT_ACTIONS: dict[str, tuple[str, ...]] = {
    "oom": ("increase_memory",),
    "config_issue": ("update_config", "rollback", "notify"),
    "dependency_error": ("notify", "restart_pod"),
    "timeout": ("scale_up", "notify", "restart_pod"),
    "image_pull": ("rollback", "notify", "update_config"),
    "app_crash": ("rollback", "restart_pod", "notify"),
    "probe_failure": ("restart_pod", "update_config", "notify"),
    "permission_denied": ("notify", "update_config"),
    "resource_exhaustion": ("scale_up", "notify"),
}

TYPE_DESCRIPTIONS: dict[str, str] = {
    "oom": "the container ran out of memory (OOMKilled, heap exhausted)",
    "config_issue": "the workload's own configuration is missing or wrong",
    "dependency_error": "a database, cache, queue, service, DNS name or API is unreachable or failing",
    "timeout": "deadlines exceeded or slowness",
    "image_pull": "the image cannot be pulled or run on this architecture",
    "app_crash": "the application crashed (exception, panic, segfault, missing module)",
    "probe_failure": "liveness/readiness/startup probes fail, not because of slowness",
    "permission_denied": "RBAC, cloud IAM or filesystem permissions, read-only filesystem",
    "resource_exhaustion": "the node/cluster/volume lacks resources",
}


def default_action(error_type: str) -> str:
    return DEFAULT_ACTIONS[error_type][0]


def is_error_type(value: str) -> bool:
    return value in DEFAULT_ACTIONS


def is_action(value: str) -> bool:
    return value in ACTIONS
