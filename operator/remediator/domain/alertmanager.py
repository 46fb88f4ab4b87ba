"""Alertmanager's webhook payload (version 4) -> the ErrorEvents it asks for. Pure: plain dicts in and out.

An alert becomes an ErrorEvent (source ``alert``) when it is firing and names a workload the way
kube-state-metrics alerts do: a ``namespace`` label and one of ``deployment``, ``statefulset``, ``daemonset``
or ``pod`` (the controller wins over the Pod: the operator remediates workloads). The ErrorEvent's name is
derived from the alert's fingerprint and its ``startsAt``, so Alertmanager's repeats of one firing
(group_interval, repeat_interval, retries) name the same object and create nothing new, while the same alert
firing again after it resolved is a new occurrence. A resolved alert creates and closes nothing; it is
reported so the caller can count it. Everything taken from labels and annotations is cut to the CRD's limits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Label -> ErrorEvent target kind, in order of preference.
WORKLOAD_LABELS: tuple[tuple[str, str], ...] = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("pod", "Pod"),
)
# Labels that say where, not what: not repeated in the context.
_WHERE = frozenset({"namespace", "deployment", "statefulset", "daemonset", "pod", "container"})
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_NOT_NAME = re.compile(r"[^a-z0-9-]+")

MAX_MESSAGE = 4096
MAX_REASON = 128
MAX_CONTEXT = 32
MAX_CONTEXT_KEY = 63
MAX_CONTEXT_VALUE = 256

# Why an alert made no ErrorEvent (the counted reasons).
IGNORED_NO_NAMESPACE = "no_namespace"
IGNORED_NO_WORKLOAD = "no_workload"
IGNORED_BAD_NAME = "invalid_name"
IGNORED_BAD_STATUS = "unknown_status"


@dataclass(frozen=True)
class AlertEvent:
    """One ErrorEvent to create: its namespace, name and spec, and the alert's fingerprint."""

    namespace: str
    name: str
    fingerprint: str
    alertname: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class Ignored:
    alertname: str
    reason: str  # one of IGNORED_*


@dataclass(frozen=True)
class Resolved:
    alertname: str
    fingerprint: str
    namespace: str


@dataclass
class WebhookResult:
    """What one webhook call asks for."""

    events: list[AlertEvent] = field(default_factory=list)
    resolved: list[Resolved] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def alert_fingerprint(alert: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint when given, else a stable hash of the sorted labels (older senders)."""
    given = str(alert.get("fingerprint") or "").strip().lower()
    if given and re.fullmatch(r"[0-9a-f]{1,64}", given):
        return given
    joined = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def errorevent_name(alertname: str, fingerprint: str, starts_at: str) -> str:
    """``alert-<alertname>-<12 hex>``: a DNS-1123 label of at most 63 characters, one per firing."""
    digest = hashlib.sha256(f"{fingerprint}/{starts_at}".encode()).hexdigest()[:12]
    stem = re.sub("-{2,}", "-", _NOT_NAME.sub("-", alertname.lower())).strip("-")[:36].rstrip("-") or "unnamed"
    return f"alert-{stem}-{digest}"


def _target(labels: Mapping[str, str]) -> tuple[str, str] | None:
    for label, kind in WORKLOAD_LABELS:
        name = labels.get(label, "").strip()
        if name:
            return kind, name
    return None


def _context(labels: Mapping[str, str], annotations: Mapping[str, str], fingerprint: str) -> dict[str, str]:
    ctx: dict[str, str] = {"alertmanager/fingerprint": fingerprint}
    for key in sorted(labels):
        if key in _WHERE or len(ctx) >= MAX_CONTEXT:
            continue
        ctx[_cut(key, MAX_CONTEXT_KEY)] = _cut(labels[key], MAX_CONTEXT_VALUE)
    for key in ("runbook_url", "summary"):
        if key in annotations and len(ctx) < MAX_CONTEXT:
            ctx[f"annotation/{key}"] = _cut(annotations[key], MAX_CONTEXT_VALUE)
    return ctx


def _exported(labels: dict[str, str]) -> dict[str, str]:
    """Without honor_labels, Prometheus renames the object's labels that clash with the scrape target's to
    exported_<name> (namespace, pod, container of kube-state-metrics itself): the object's win."""
    out = dict(labels)
    for key in ("namespace", "pod", "container"):
        exported = labels.get(f"exported_{key}", "").strip()
        if exported:
            out[key] = exported
            out.pop(f"exported_{key}")
    return out


def map_alert(
    alert: Mapping[str, Any], common_labels: Mapping[str, str] | None = None
) -> AlertEvent | Ignored | Resolved:
    """One alert of the payload: the ErrorEvent it becomes, or why it becomes none."""
    labels = _exported({**(common_labels or {}), **_str_map(alert.get("labels"))})
    annotations = _str_map(alert.get("annotations"))
    alertname = labels.get("alertname", "") or "unnamed"
    status = str(alert.get("status") or "")
    fingerprint = alert_fingerprint(alert, labels)
    namespace = labels.get("namespace", "").strip()
    if status == "resolved":
        return Resolved(alertname, fingerprint, namespace)
    if status != "firing":
        return Ignored(alertname, IGNORED_BAD_STATUS)
    if not namespace:
        return Ignored(alertname, IGNORED_NO_NAMESPACE)
    target = _target(labels)
    if target is None:
        return Ignored(alertname, IGNORED_NO_WORKLOAD)
    kind, name = target
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return Ignored(alertname, IGNORED_BAD_NAME)

    spec_target: dict[str, Any] = {"kind": kind, "name": name}
    pod = labels.get("pod", "").strip()
    if pod and len(pod) <= 253 and _DNS_SUBDOMAIN.match(pod):
        spec_target["podName"] = pod
    # kube-state-metrics' own scrape labels (container, instance) ride on workload-level alerts: a container
    # is the failing one only on a Pod's alert.
    container = labels.get("container", "").strip()
    if container and "podName" in spec_target:
        spec_target["containerName"] = _cut(container, 63)
    message = (
        annotations.get("description") or annotations.get("message") or annotations.get("summary") or ""
    ).strip() or f"{alertname} is firing for {kind} {namespace}/{name}"
    reason = (labels.get("reason") or alertname).strip() or alertname
    spec: dict[str, Any] = {
        "target": spec_target,
        "message": _cut(message, MAX_MESSAGE),
        "reason": _cut(reason, MAX_REASON),
        "source": "alert",
        "context": _context(labels, annotations, fingerprint),
    }
    starts_at = str(alert.get("startsAt") or "")
    if _is_timestamp(starts_at):
        spec["firstSeen"] = starts_at
        spec["lastSeen"] = starts_at
    return AlertEvent(namespace, errorevent_name(alertname, fingerprint, starts_at), fingerprint, alertname, spec)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _is_timestamp(value: str) -> bool:
    # Alertmanager sends 0001-01-01T00:00:00Z for "unset": not a time anybody saw.
    return bool(_RFC3339.match(value)) and not value.startswith("0001-")


def map_webhook(alerts: Sequence[Mapping[str, Any]], common_labels: Mapping[str, str] | None = None) -> WebhookResult:
    """Every alert of a webhook call, in order; the same ErrorEvent asked twice is kept once."""
    out = WebhookResult()
    seen: set[tuple[str, str]] = set()
    for alert in alerts:
        result = map_alert(alert, common_labels)
        if isinstance(result, AlertEvent):
            key = (result.namespace, result.name)
            if key not in seen:
                seen.add(key)
                out.events.append(result)
        elif isinstance(result, Resolved):
            out.resolved.append(result)
        else:
            out.ignored.append(result)
    return out
