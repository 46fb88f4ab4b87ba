"""Turn Pods and core/v1 Events, as the API returns them (camelCase dicts), into Failures."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from remediator.domain.clock import format_time, parse_time
from remediator.domain.types import Failure, WorkloadRef

# Waiting reasons the kubelet reports for a container that cannot run, and their family.
WAITING_FAMILIES: dict[str, str] = {
    "CrashLoopBackOff": "crash",
    "RunContainerError": "crash",  # created, but the runtime could not start it (bad entrypoint, exec format)
    "ImagePullBackOff": "image",
    "ErrImagePull": "image",
    "InvalidImageName": "image",
    "ErrImageNeverPull": "image",
    "CreateContainerConfigError": "config",
    "CreateContainerError": "config",
}
CONTROLLER_KINDS = ("ReplicaSet", "StatefulSet", "DaemonSet")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIELD_PATH = re.compile(r"^spec\.(containers|initContainers)\{([^}]+)\}$")
_DNS_LABEL_BAD = re.compile(r"[^a-z0-9-]+")
_IMAGE_WORDS = ("imagepull", "errimagepull", "pull image", "pulling image", "invalidimagename",
                "errimageneverpull", "manifest unknown")
_CONFIG_WORDS = ("createcontainerconfigerror", "createcontainererror", "couldn't find key", "configmap",
                 "secret")


def pod_owner(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    """The Pod's controller (kind, name) from ownerReferences, preferring the one marked controller."""
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    chosen = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if not chosen:
        return None
    return str(chosen.get("kind", "")), str(chosen.get("name", ""))


def _pod_time(pod: Mapping[str, Any], now: datetime | None) -> datetime:
    if now is not None:
        return now
    status = pod.get("status") or {}
    times = [parse_time(c.get("lastTransitionTime")) for c in status.get("conditions") or []]
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    times += [parse_time(status.get("startTime")), parse_time(created)]
    known = [t for t in times if t is not None]
    return max(known) if known else _EPOCH


def _join(*parts: str | None) -> str:
    return "; ".join(p.strip() for p in parts if p and p.strip())


def _container_failure(
    pod: Mapping[str, Any], cs: Mapping[str, Any], init: bool, now: datetime | None, since: datetime | None
) -> Failure | None:
    meta = pod.get("metadata") or {}
    name = str(cs.get("name", ""))
    restarts = int(cs.get("restartCount") or 0)
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    terminated_now = state.get("terminated") or {}
    last = (cs.get("lastState") or {}).get("terminated") or {}

    def make(reason: str, message: str, family: str, term: Mapping[str, Any], at: datetime | None) -> Failure:
        code = term.get("exitCode")
        signal = term.get("signal")
        return Failure(
            namespace=str(meta.get("namespace", "")),
            pod_name=str(meta.get("name", "")),
            container_name=name or None,
            pod_owner=pod_owner(pod),
            reason=reason,
            message=message or reason,
            exit_code=int(code) if code is not None else None,
            restart_count=restarts,
            kind_family=family,
            observed_at=at or _pod_time(pod, now),
            signal=int(signal) if signal is not None else None,
            init_container=init,
        )

    def failed(term: Mapping[str, Any]) -> bool:
        return bool(term) and (term.get("reason") == "OOMKilled" or int(term.get("exitCode") or 0) != 0)

    def describe(term: Mapping[str, Any]) -> str:
        reason = term.get("reason") or "Error"
        text = f"container {name} terminated with {reason} (exit code {term.get('exitCode')}"
        if term.get("signal") is not None:
            text += f", signal {term.get('signal')}"
        return text + ")"

    waiting_reason = str(waiting.get("reason") or "")
    if waiting_reason in WAITING_FAMILIES:
        family = WAITING_FAMILIES[waiting_reason]
        if family == "crash" and last.get("reason") == "OOMKilled":
            # CrashLoopBackOff caused by the OOM killer: the OOM is the failure worth classifying.
            now_waiting = f"now {waiting_reason}: {waiting.get('message') or ''}"
            msg = _join(describe(last), last.get("message"), now_waiting)
            return make("OOMKilled", msg, "oom", last, now or parse_time(last.get("finishedAt")))
        term = last if family == "crash" and failed(last) else {}
        msg = _join(waiting.get("message"), describe(term) if term else None, term.get("message"))
        return make(waiting_reason, msg, family, term, now or parse_time(term.get("finishedAt")))
    for term in (terminated_now, last):
        if not failed(term):
            continue
        finished = parse_time(term.get("finishedAt"))
        if since is not None and finished is not None and finished < since:
            continue  # an old termination the watcher has already reported
        reason = "OOMKilled" if term.get("reason") == "OOMKilled" else str(term.get("reason") or "Error")
        family = "oom" if reason == "OOMKilled" else "crash"
        return make(reason, _join(describe(term), term.get("message")), family, term, finished)
    return None


def pod_failures(
    pod: Mapping[str, Any], *, now: datetime | None = None, since: datetime | None = None
) -> list[Failure]:
    """The failures a Pod shows now: evicted, unschedulable, or one per failing (init) container.

    A running container that is merely not ready (restarts 0) is not a failure by itself: probe failures
    arrive as Unhealthy Events (see event_failure). `now` stamps failures that carry no time of their own
    (waiting states); without it the newest timestamp on the Pod is used. Terminations that finished
    before `since` are ignored so an old OOM in lastState is not reported forever.
    """
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    observed = _pod_time(pod, now)

    def pod_level(reason: str, message: str, family: str, at: datetime) -> Failure:
        return Failure(
            namespace=str(meta.get("namespace", "")), pod_name=str(meta.get("name", "")), container_name=None,
            pod_owner=pod_owner(pod), reason=reason, message=message, exit_code=None, restart_count=0,
            kind_family=family, observed_at=at,
        )

    if status.get("reason") == "Evicted":
        message = str(status.get("message") or "the Pod was evicted")
        return [pod_level("Evicted", message, "evicted", observed)]
    failures: list[Failure] = []
    for cond in status.get("conditions") or []:
        unschedulable = cond.get("status") == "False" and cond.get("reason") == "Unschedulable"
        if cond.get("type") == "PodScheduled" and unschedulable:
            at = now or parse_time(cond.get("lastTransitionTime")) or observed
            message = str(cond.get("message") or "the Pod cannot be scheduled")
            failures.append(pod_level("Unschedulable", message, "unschedulable", at))
    for key, init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for cs in status.get(key) or []:
            failure = _container_failure(pod, cs, init, now, since)
            if failure is not None:
                failures.append(failure)
    return failures


def _event_family(reason: str, message: str) -> str | None:
    text = message.lower()
    if reason == "FailedScheduling":
        return "unschedulable"
    if reason == "Unhealthy":
        return "probe" if "probe failed" in text or "probe errored" in text else None
    if reason == "Evicted":
        return "evicted"
    if reason in ("OOMKilling", "OOMKilled"):
        return "oom"
    if reason == "BackOff":
        if "pulling image" in text:
            return "image"
        return "crash" if "restarting failed container" in text else None
    if reason == "Failed":
        if any(k in text for k in _IMAGE_WORDS):
            return "image"
        if any(k in text for k in _CONFIG_WORDS):
            return "config"
        return "crash"
    return None


def event_failure(event: Mapping[str, Any]) -> Failure | None:
    """A Failure from a core/v1 Warning Event about a Pod; None for Normal Events and anything else."""
    if event.get("type") != "Warning":
        return None
    obj = event.get("involvedObject") or event.get("regarding") or {}
    if obj.get("kind") != "Pod":
        return None
    reason = str(event.get("reason") or "")
    message = str(event.get("message") or event.get("note") or "")
    family = _event_family(reason, message)
    if family is None:
        return None
    meta = event.get("metadata") or {}
    container = None
    match = _FIELD_PATH.match(str(obj.get("fieldPath") or ""))
    if match:
        container = match.group(2)
    series = event.get("series") or {}
    at = (
        parse_time(event.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("firstTimestamp"))
        or parse_time(meta.get("creationTimestamp"))
        or _EPOCH
    )
    return Failure(
        namespace=str(obj.get("namespace") or meta.get("namespace") or ""),
        pod_name=str(obj.get("name", "")),
        container_name=container,
        pod_owner=None,
        reason=reason,
        message=message or reason,
        exit_code=None,
        restart_count=0,
        kind_family=family,
        observed_at=at,
        init_container=bool(match and match.group(1) == "initContainers"),
    )


def workload_ref(
    namespace: str, pod_name: str, owner: tuple[str, str] | None, replicaset: Mapping[str, Any] | None = None,
    pod_template_hash: str | None = None,
) -> WorkloadRef:
    """The workload a failing Pod belongs to: ReplicaSet -> its Deployment, StatefulSet/DaemonSet as is.

    The ReplicaSet's own controller ownerReference is authoritative when `replicaset` is given; otherwise a
    ReplicaSet named "<deployment>-<pod-template-hash>" is taken to belong to that Deployment. Pods owned by
    anything else (Jobs, nodes) or nothing are their own target.
    """
    if owner is None:
        return WorkloadRef("Pod", pod_name, namespace)
    kind, name = owner
    if kind == "ReplicaSet":
        if replicaset is not None:
            rs_owner = pod_owner(replicaset)
            if rs_owner and rs_owner[0] == "Deployment":
                return WorkloadRef("Deployment", rs_owner[1], namespace)
            return WorkloadRef("ReplicaSet", name, namespace)
        if pod_template_hash and name.endswith("-" + pod_template_hash):
            return WorkloadRef("Deployment", name[: -len(pod_template_hash) - 1], namespace)
        return WorkloadRef("ReplicaSet", name, namespace)
    if kind in ("StatefulSet", "DaemonSet"):
        return WorkloadRef(kind, name, namespace)
    return WorkloadRef("Pod", pod_name, namespace)


def fingerprint(failure: Failure, workload: WorkloadRef) -> str:
    """A stable 16-hex-digit hash of namespace/workload kind/name/container/family (not Pod, not message)."""
    key = "/".join(
        (workload.namespace or failure.namespace, workload.kind, workload.name, failure.container_name or "",
         failure.kind_family)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def errorevent_name(workload: WorkloadRef, family: str, fingerprint: str) -> str:
    """A deterministic DNS-1123 label (<= 63 chars) naming the ErrorEvent: <kind>-<name>-<family>-<fp8>."""
    suffix = "-" + _DNS_LABEL_BAD.sub("-", f"{family}-{fingerprint[:8]}".lower()).strip("-")
    stem = _DNS_LABEL_BAD.sub("-", f"{workload.kind}-{workload.name}".lower()).strip("-")
    stem = re.sub("-{2,}", "-", stem)[: 63 - len(suffix)].rstrip("-") or "workload"
    return stem + suffix


def errorevent_spec(failure: Failure, workload: WorkloadRef, *, count: int = 1) -> dict[str, Any]:
    """The ErrorEvent `spec` for a failure (source "cluster"), within the CRD's length limits."""
    target: dict[str, Any] = {"kind": workload.kind, "name": workload.name, "podName": failure.pod_name}
    if failure.container_name:
        target["containerName"] = failure.container_name[:63]
    spec: dict[str, Any] = {
        "target": target,
        "message": (failure.message or failure.reason)[:4096],
        "reason": failure.reason[:128],
        "source": "cluster",
        "firstSeen": format_time(failure.observed_at),
        "lastSeen": format_time(failure.observed_at),
        "count": max(1, count),
        "context": {"family": failure.kind_family, "restartCount": str(failure.restart_count)},
    }
    if failure.exit_code is not None:
        spec["exitCode"] = max(-255, min(255, failure.exit_code))
    if failure.signal is not None:
        spec["context"]["signal"] = str(failure.signal)
    if failure.pod_owner:
        spec["context"]["podOwner"] = f"{failure.pod_owner[0]}/{failure.pod_owner[1]}"[:256]
    return spec
