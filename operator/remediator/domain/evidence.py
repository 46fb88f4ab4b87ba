"""Which action the cluster's own facts support: the step from error type to action an SRE takes.

The model reads text; these rules read what the operator observed itself (the rollout history, the Pods'
states, usage from metrics.k8s.io) and say whether the model's action may change the workload by itself:

- Pods that cannot be scheduled (the Pods show only "unschedulable", or the claim names that family): no
  change to the workload makes room on a node, so notify (PodsUnschedulable); only a rollback the rollout
  history fully supports stays, since the newest revision may be what asks for too much.
- rollback: only when the failing Pods run a revision rolled out within the rollout window, and the revision
  before it had been the newest for at least previousHealthySeconds (it served, so going back is a fix);
  otherwise the rollback is only proposed (NoRecentRollout). With no earlier revision in the ReplicaSets there
  is nothing to go back to: notify (NoPreviousRevision).
- scale_up: only with observed saturation (most ready replicas at >= 90% of a CPU or memory request or
  limit), or with readiness failing on every replica; otherwise notify, naming the slow dependency the
  error text names (NoSaturation). A timeout the model would fix with update_config (a client timeout: a
  patch only a human can write) follows the same rule: scale_up when saturated (Saturated), else notify.
  An HPA owning replicas is decide.py's HPAOwnsReplicas.
- restart_pod: when some replicas are healthy and a minority is stuck, or a probe fails on a process that
  is otherwise running; when every replica fails the same way a restart is only proposed
  (AllReplicasFailing).
- a changing action for dependency_error: notify naming the dependency, unless other replicas are healthy
  and the action is restart_pod (DependencyElsewhere).
- update_config for a missing Secret, or a ConfigMap that does not exist (as the error text names them):
  notify naming it (MissingSecret, MissingConfigMap); update_config writes no Secret and creates no ConfigMap.
  A missing key of an existing ConfigMap stays update_config: decide.py says up front which patch approving
  it needs (NeedsConfigPatch).
- increase_memory needs an observed OOMKilled: corroborate.py's ACTION_NEEDS.

What the error text names (a dependency, a ConfigMap or Secret, the claimed family) is the writer's word: it
may only turn an action into notify, never keep one the operator's own observations or the other rules turn
into notify; a ConfigMap or Secret is named only in the target's own namespace (nothing is read from it).

Each rule returns a Finding: the action to take, a gate (a Reason that makes it a proposal) or nothing,
and one line of evidence for status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remediator.domain.actions.rollback import HASH_LABEL, revision_of
from remediator.domain.clock import parse_time
from remediator.domain.corroborate import PodSignals
from remediator.domain.patch_guard import is_dns1123_subdomain
from remediator.domain.quantity import format_mi, parse_millicores, parse_quantity
from remediator.domain.types import Reason
from remediator.domain.workload_state import pod_ready

SATURATED = 0.9  # usage / (limit, else request) at which a replica counts as saturated
SATURATED_SHARE = 0.8  # share of ready replicas that must be saturated


@dataclass(frozen=True)
class Rollout:
    """The Deployment's newest revision and the one before it, as its ReplicaSets show them."""

    revision: int
    age_seconds: float  # since the newest ReplicaSet was created
    failing_on_newest: bool  # the failing Pods run the newest revision's template
    previous_revision: int | None = None
    previous_newest_seconds: float | None = None  # how long the previous revision was the newest


@dataclass(frozen=True)
class Saturation:
    """Usage of the ready replicas against their requests/limits (from metrics.k8s.io)."""

    ready: int
    saturated: int
    busiest: str = ""  # "web-1 app cpu 950m of 1000m"


@dataclass(frozen=True)
class ConfigRef:
    """A ConfigMap or Secret an error text says is missing (`key`: only that key of it is missing)."""

    kind: str  # "ConfigMap" | "Secret"
    name: str
    key: str | None = None

    def __str__(self) -> str:
        return f"key {self.key} of {self.kind} {self.name}" if self.key else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ActionEvidence:
    """What the rules look at besides the Pods' signals."""

    signals: PodSignals
    rollout: Rollout | None = None  # None: not a Deployment, or no ReplicaSets read
    saturation: Saturation | None = None  # None: metrics.k8s.io not served or no usage yet
    dependency: str | None = None  # host:port (or host) the error text names
    config: ConfigRef | None = None  # the ConfigMap or Secret the error text says is missing
    family: str | None = None  # the failure family the claim names (an ErrorEvent's spec.context.family)
    rollout_window_seconds: int = 1800
    previous_healthy_seconds: int = 600


@dataclass(frozen=True)
class Finding:
    """The action the evidence supports, a gate when it only supports a proposal, and what was seen."""

    action: str
    evidence: str
    gate: Reason | None = None
    replaced: Reason | None = None  # set when the action was replaced (by notify)


def _rollback(e: ActionEvidence) -> Finding:
    r = e.rollout
    if r is None:
        return Finding(
            "rollback",
            "no rollout history was read",
            Reason("NoRecentRollout", "no rollout history of this workload: rollback is only proposed"),
        )
    seen = f"revision {r.revision} rolled out {int(r.age_seconds)} s ago"
    if r.previous_revision is not None and r.previous_newest_seconds is not None:
        seen += f"; revision {r.previous_revision} ran {int(r.previous_newest_seconds)} s before it"
    seen += (
        "; the failing Pods run the newest revision"
        if r.failing_on_newest
        else "; the failing Pods do not run the newest revision"
    )
    if r.previous_revision is None:
        # The ReplicaSets show nothing to go back to: approved, the rollback could only end Skipped.
        why = Reason(
            "NoPreviousRevision",
            f"revision {r.revision} is the only one the ReplicaSets show: there is no earlier revision to roll "
            "back to, so a human is notified instead of proposing rollback",
        )
        return Finding("notify", seen, replaced=why)
    problems = []
    if r.age_seconds > e.rollout_window_seconds:
        problems.append(f"the last rollout is older than the {e.rollout_window_seconds} s window")
    if (r.previous_newest_seconds or 0) < e.previous_healthy_seconds:
        problems.append(f"the previous revision served less than {e.previous_healthy_seconds} s")
    if not r.failing_on_newest:
        problems.append("the failure is not on the newest revision")
    if problems:
        return Finding("rollback", seen, Reason("NoRecentRollout", "rollback is only proposed: " + "; ".join(problems)))
    return Finding("rollback", seen)


def _scale_up(e: ActionEvidence, error_type: str) -> Finding:
    s, sig = e.saturation, e.signals
    all_unready = sig.pods > 0 and sig.ready == 0 and "notready" in sig.families
    if s is not None and s.ready > 0 and s.saturated >= max(1, SATURATED_SHARE * s.ready):
        return Finding("scale_up", f"{s.saturated}/{s.ready} ready replicas saturated ({s.busiest})")
    if all_unready and error_type in ("timeout", "resource_exhaustion"):
        return Finding("scale_up", f"readiness fails on all {sig.pods} replicas under a load-shaped error")
    seen = (
        "no usage from metrics.k8s.io"
        if s is None
        else f"{s.saturated}/{s.ready} ready replicas saturated ({s.busiest or 'none near a limit'})"
    )
    named = f"; the error names {e.dependency}" if e.dependency else ""
    why = Reason(
        "NoSaturation",
        f"scale_up needs saturated replicas, and {seen}: notifying instead{named} "
        "(more replicas of a caller rarely fix a slow dependency)",
    )
    return Finding("notify", seen + named, replaced=why)


def _restart(e: ActionEvidence) -> Finding:
    sig = e.signals
    failing = sig.pods - sig.ready
    seen = f"{failing}/{sig.pods} replicas failing, {sig.ready} ready"
    if sig.ready > 0 or ("notready" in sig.families and not ({"crash", "oom"} & sig.families)):
        return Finding("restart_pod", seen)
    return Finding(
        "restart_pod",
        seen,
        Reason(
            "AllReplicasFailing", f"every replica fails ({seen}): a restart is unlikely to help, so it is only proposed"
        ),
    )


def _dependency(e: ActionEvidence, action: str) -> Finding:
    sig = e.signals
    named = e.dependency or "a dependency"
    if action == "restart_pod" and sig.ready > 0:
        return Finding(action, f"{named} works for the {sig.ready} ready replica(s)")
    why = Reason(
        "DependencyElsewhere", f"the failure is in {named}, outside this workload: notifying instead of {action}"
    )
    return Finding("notify", f"the error names {named}", replaced=why)


def unschedulable(e: ActionEvidence) -> bool:
    """Whether the failure is Pods that cannot be scheduled: all the Pods show, or what the claim names."""
    families = e.signals.families
    return e.family == "unschedulable" or (bool(families) and families <= {"unschedulable"})


def _unschedulable(e: ActionEvidence, action: str) -> Finding:
    sig = e.signals
    seen = f"{sig.pods - sig.ready}/{sig.pods} Pods not running" + (
        f" ({'; '.join(sig.examples)[:200]})" if sig.examples else ""
    )
    why = Reason(
        "PodsUnschedulable",
        f"the Pods cannot be scheduled: {action} makes no room on a node, so a human is notified instead "
        "(lower the Pods' requests, relax their placement, or add capacity)",
    )
    return Finding("notify", seen, replaced=why)


def _config(e: ActionEvidence) -> Finding:
    ref = e.config
    if ref is None:
        return Finding("update_config", "")
    seen = f"the error names {ref}"
    if ref.kind == "Secret":
        why = Reason(
            "MissingSecret",
            f"{ref} is missing: update_config writes no Secret, so a human is notified to create it",
        )
        return Finding("notify", seen, replaced=why)
    if ref.key is None:
        why = Reason(
            "MissingConfigMap",
            f"{ref} does not exist: update_config only patches an existing ConfigMap, so a human is notified",
        )
        return Finding("notify", seen, replaced=why)
    return Finding("update_config", seen)


def support(error_type: str, action: str, e: ActionEvidence) -> Finding:
    """The action the evidence supports for this error type (see the module docstring)."""
    if action == "notify":
        return Finding("notify", "notify changes nothing")
    found = _usual(error_type, action, e)
    # Only a rollback the other rules fully support stays for unschedulable Pods (the newest revision, rolled
    # out just now, is what the nodes cannot place); the claimed family never keeps what they turn into notify.
    fresh_rollback = found.action == "rollback" and found.gate is None and found.replaced is None
    if unschedulable(e) and not (action == "rollback" and fresh_rollback):
        return _unschedulable(e, action)
    return found


def _usual(error_type: str, action: str, e: ActionEvidence) -> Finding:
    """support() for Pods that can be scheduled."""
    if error_type == "dependency_error":
        return _dependency(e, action)
    if action == "rollback":
        return _rollback(e)
    if action == "scale_up" or (error_type == "timeout" and action == "update_config"):
        # A timeout's fix follows from what the replicas show: saturated -> more of them; otherwise the slow
        # dependency, or the client's timeout (a patch only a human can write), is named in a notification.
        found = _scale_up(e, error_type)
        if action == "update_config" and found.action == "scale_up":
            why = Reason(
                "Saturated",
                f"the replicas are saturated ({found.evidence}): scale_up instead of "
                "update_config, which needs a patch",
            )
            return Finding("scale_up", found.evidence, replaced=why)
        return found
    if action == "restart_pod":
        return _restart(e)
    if action == "update_config":
        return _config(e)
    return Finding(action, "")


# host:port after the words errors use ("dial tcp", "connect to", URLs), or a bare host:port token.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://([A-Za-z0-9.-]+(?::\d{1,5})?)")
_HOST_PORT = re.compile(r"(?<![\w.-])((?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*|\d{1,3}(?:\.\d{1,3}){3}):(\d{2,5})\b")
_NOT_HOSTS = {"http", "https", "tcp", "udp", "line", "port", "error", "exit", "code"}


# Dependencies are named near the start of an error; scanning a bounded prefix keeps a hostile 20k-character
# message (dotted runs make the host pattern backtrack) from slowing the serialized decisions.
SCAN_CHARS = 4096


def dependency_named(text: str) -> str | None:
    """The first dependency an error text names (host:port, a URL's host) in its first SCAN_CHARS, or None."""
    text = text[:SCAN_CHARS]
    for match in _URL.finditer(text):
        return match.group(1)[:253]
    for match in _HOST_PORT.finditer(text):
        host, port = match.group(1), match.group(2)
        if host.lower() not in _NOT_HOSTS and 0 < int(port) < 65536:
            return f"{host}:{port}"[:253]
    return None


# What the kubelet writes when a container's configuration is missing (CreateContainerConfigError, a volume
# that cannot be mounted): "couldn't find key K in ConfigMap ns/name", `secret "name" not found`.
_MISSING_KEY = re.compile(
    r"couldn't find key ([-._a-zA-Z0-9]{1,253}) in (ConfigMap|Secret) (?:([a-z0-9-]{1,63})/)?(\S+)"
)
_NOT_FOUND = re.compile(r"\b(configmap|secret)s? \"([^\"]+)\" not found", re.IGNORECASE)
_KINDS = {"configmap": "ConfigMap", "secret": "Secret"}


def config_named(text: str, namespace: str) -> ConfigRef | None:
    """The first ConfigMap or Secret (or key of one) an error text says is missing, in its first SCAN_CHARS;
    None when it names none, one that is not a valid object name or key, or one of another namespace than
    the target's `namespace` (a Pod can only use its own namespace's: such a text is not the kubelet's)."""
    text = text[:SCAN_CHARS]
    found = [m for m in (_MISSING_KEY.search(text), _NOT_FOUND.search(text)) if m is not None]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    if match.re is _MISSING_KEY:
        if match.group(3) not in (None, namespace):
            return None
        key, kind, name = match.group(1), match.group(2), match.group(4).rstrip(".,;:)")
    else:
        key, kind, name = None, _KINDS[match.group(1).lower()], match.group(2)
    return ConfigRef(kind, name, key) if is_dns1123_subdomain(name) else None


def _seconds(since: datetime | None, until: datetime) -> float:
    # Never negative: the API server's clock and the operator's may differ a little.
    return max(0.0, (until - since).total_seconds()) if since is not None else 0.0


def _label(obj: Mapping[str, Any], key: str) -> str | None:
    value = ((obj.get("metadata") or {}).get("labels") or {}).get(key)
    return str(value) if value is not None else None


def rollout_of(
    replicasets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Rollout | None:
    """The newest revision of a Deployment's ReplicaSets, the one before, and where the failing Pods run."""
    revisions = sorted(
        ((rev, rs) for rs in replicasets if (rev := revision_of(rs)) is not None),
        key=lambda item: item[0],
        reverse=True,
    )
    if not revisions:
        return None
    newest_rev, newest = revisions[0]
    created = parse_time((newest.get("metadata") or {}).get("creationTimestamp"))
    newest_hash = _label(newest, HASH_LABEL)
    failing = [p for p in pods if not pod_ready(p) and (p.get("status") or {}).get("phase") != "Succeeded"]
    on_newest = bool(failing) and all(_label(p, HASH_LABEL) == newest_hash for p in failing)
    previous_rev, previous_for = None, None
    if len(revisions) > 1:
        previous_rev, previous = revisions[1]
        before = parse_time((previous.get("metadata") or {}).get("creationTimestamp"))
        previous_for = _seconds(before, created) if created is not None else None
    return Rollout(newest_rev, _seconds(created, now), on_newest, previous_rev, previous_for)


def _limits(container: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(cpu millicores, memory bytes) a container may use: its limit, else its request."""
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    cpu = limits.get("cpu") or requests.get("cpu")
    mem = limits.get("memory") or requests.get("memory")
    try:
        return (parse_millicores(cpu) if cpu else None, parse_quantity(mem) if mem else None)
    except ValueError:
        return None, None


def saturation_of(
    pods: Sequence[Mapping[str, Any]],
    usage: Mapping[str, Mapping[str, tuple[int, int]]] | None,
) -> Saturation | None:
    """How many ready replicas use >= SATURATED of a CPU or memory limit (else request); None without usage."""
    if usage is None:
        return None
    ready = [p for p in pods if pod_ready(p) and str((p.get("metadata") or {}).get("name")) in usage]
    if not ready:
        return None
    saturated, busiest, top = 0, "", -1.0
    for pod in ready:
        name = str((pod.get("metadata") or {}).get("name"))
        worst = 0.0
        for container in (pod.get("spec") or {}).get("containers") or []:
            used = usage[name].get(str(container.get("name")))
            if used is None:
                continue
            cpu_cap, mem_cap = _limits(container)
            for label, value, cap in (("cpu", used[0], cpu_cap), ("memory", used[1], mem_cap)):
                if cap:
                    ratio = value / cap
                    worst = max(worst, ratio)
                    if ratio > top:
                        top = ratio
                        shown = f"{value}m of {cap}m" if label == "cpu" else f"{format_mi(value)} of {format_mi(cap)}"
                        busiest = f"{name} {container.get('name')} {label} {shown}"
        saturated += worst >= SATURATED
    return Saturation(len(ready), saturated, busiest)
