"""Decide whether a classified failure is remediated automatically, proposed for approval, or skipped.

Order, and what each rule does (every refusal or downgrade adds a Reason with a CamelCase code):

1. Hard stops -> mode "skip", phase Skipped: TargetNotFound, UnsupportedTarget (e.g. a bare ReplicaSet),
   NamespaceExcluded, OptedOut (workload or namespace), ActiveRemediationExists. Nothing is proposed:
   a human asked us to stay away, or the work is already in hand. All hard stops that apply are listed.
2. Action downgrades, the action becomes notify: EscalatedAfterFailures (the workload's last
   escalateAfterFailures remediations failed in a row), HPAOwnsReplicas (scale_up of an HPA-scaled
   workload), ActionNotSupported (the action cannot apply to this kind, e.g. rollback of a StatefulSet,
   restart_pod of a bare Pod nothing would recreate), and what the evidence rules replace (evidence.py:
   NoSaturation, DependencyElsewhere, NoPreviousRevision, PodsUnschedulable, MissingSecret,
   MissingConfigMap).
3. notify changes nothing, so it needs no approval and ignores limits and dry-run: mode "auto".
4. Gates for changing actions -> mode "approval", phase PendingApproval, auto_apply False. A human may
   still approve, so limits do not skip; the Remediation shows every gate that applies: NeedsConfigPatch
   first (update_config without parameters.configPatch: approved as is it could only end Skipped, so the
   reason says which patch to add before approving), NotCorroborated
   (the target's Pods do not show the claimed failure, see corroborate.py), what human feedback on the
   error's family says (corrections.py: CorrectedByFeedback, FeedbackDisagrees), UnfamiliarInput (the text
   is far from the training data: NOVELTY_LIMIT), what the evidence rules
   only propose (NoRecentRollout, AllReplicasFailing), DryRun,
   BelowThreshold, ActionNotAutoApplicable, GitOpsManaged, RateLimitedWorkload, RateLimitedCluster,
   CoolingDown (remaining seconds), InFlightLimit. RateLimitedCluster and InFlightLimit are listed only where
   they change the mode: the caller counts the cluster's recent starts and the namespace's changes in flight
   only for a decision that would otherwise be automatic (pipeline/facts.decide_on_history), because those
   counts cost a LIST of every Remediation.
5. Otherwise mode "auto", phase Approved, with a PolicyAllows reason saying why.

Cooldown: after the workload's last remediation finished (or started, while unfinished) the next automatic
one waits cooldownSeconds; after n >= 1 consecutive failures it waits cooldownSeconds * backoffFactor^(n-1),
capped at maxCooldownSeconds. Only changing remediations (not notify) that were applied count toward
history: rate limits, cooldown and escalation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from remediator.domain.corrections import Adjusted
from remediator.domain.corroborate import PodSignals, corroborate
from remediator.domain.evidence import ActionEvidence, ConfigRef, Finding, Rollout, Saturation, support
from remediator.domain.policy import Policy, namespace_in_scope
from remediator.domain.types import WORKLOAD_KINDS, Classification, Reason, WorkloadRef

Mode = Literal["auto", "approval", "skip"]
PHASES: dict[str, str] = {"auto": "Approved", "approval": "PendingApproval", "skip": "Skipped"}
# A text with at least this share of words no training example contained goes to a human, whatever the
# model's confidence: far from its data, the model's calibration says nothing. Chosen on the real corpus's
# calibration part (7 of 255 items at >= 0.5, none with the right action); docs/classifier.md.
NOVELTY_LIMIT = 0.5

# Which actions make sense for which target kinds (crds/remediations.remediator.dev.yaml validations).
SUPPORTED_KINDS: dict[str, tuple[str, ...]] = {
    "restart_pod": ("Deployment", "StatefulSet", "DaemonSet"),
    "rollback": ("Deployment",),
    "scale_up": ("Deployment", "StatefulSet"),
    "increase_memory": ("Deployment", "StatefulSet", "DaemonSet"),
    "update_config": ("Deployment", "StatefulSet", "DaemonSet"),
    "notify": ("Pod", "Deployment", "StatefulSet", "DaemonSet"),
}


@dataclass(frozen=True)
class WorkloadFacts:
    """What the adapter read about the target workload just before deciding."""

    ref: WorkloadRef
    replicas: int | None = None
    ready_replicas: int = 0
    pod_count: int = 0
    has_hpa: bool = False
    gitops: str | None = None
    opted_out: bool = False
    namespace_opted_out: bool = False
    exists: bool = True
    # What the Pods show now; the default (nothing seen) corroborates no claim.
    signals: PodSignals = field(default_factory=PodSignals)
    rollout: Rollout | None = None  # Deployments: the newest revision and the one before
    saturation: Saturation | None = None  # from metrics.k8s.io; None when it is not served

    @property
    def kind(self) -> str:
        """The workload's kind."""
        return self.ref.kind


@dataclass(frozen=True)
class PastRemediation:
    """One applied remediation of this workload: when it started, finished, and how verification judged it."""

    started_at: datetime
    result: str  # "Succeeded" | "Failed" | "Unknown" (status.outcome.result); "" while still verifying
    finished_at: datetime | None = None
    action: str = ""


@dataclass(frozen=True)
class History:
    """Recent remediations relevant to the decision (the adapter counts them from Remediation objects)."""

    workload: tuple[PastRemediation, ...] = ()
    cluster_started_last_minute: int = 0
    namespace_in_flight: int = 0
    active_for_workload: bool = False


@dataclass(frozen=True)
class DecisionInputs:
    """Everything decide() looks at; nothing else."""

    classification: Classification
    policy: Policy
    workload: WorkloadFacts
    now: datetime
    history: History = field(default_factory=History)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    dependency: str | None = None  # the dependency the error text names (evidence.dependency_named)
    config: ConfigRef | None = None  # the ConfigMap or Secret the error text says is missing (evidence.config_named)
    family: str | None = None  # the failure family the claim names (ErrorEvent spec.context.family)
    # The evidence rules may replace the action the operator's own classification chose; a user's requested
    # action (and one already proposed, at apply time) is never replaced, only gated.
    choose_action: bool = True
    # What humans said about earlier errors of the same family (corrections.adjust); `classification` is
    # already the adjusted one. Feedback adds evidence and gates, never autonomy.
    feedback: Adjusted | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome: mode, the (possibly downgraded) action, the Remediation phase and every reason."""

    mode: Mode
    action: str
    phase: str
    auto_apply: bool
    reasons: tuple[Reason, ...]
    expires_at: datetime | None = None
    cooldown_remaining_seconds: int | None = None
    evidence: tuple[str, ...] = ()  # what the operator checked itself, for status.evidence

    @property
    def reason(self) -> Reason:
        """The first (most important) reason, for status.reason."""
        return self.reasons[0]

    def message(self) -> str:
        """All reasons as one sentence list, fitting status.message (1024 characters)."""
        text = "; ".join(r.message for r in self.reasons)
        return text if len(text) <= 1024 else text[:1021] + "..."

    def codes(self) -> list[str]:
        """The reason codes, in order."""
        return [r.code for r in self.reasons]


def _changing(history: Sequence[PastRemediation]) -> list[PastRemediation]:
    return sorted((h for h in history if h.action != "notify"), key=lambda h: h.started_at, reverse=True)


def consecutive_failures(history: Sequence[PastRemediation]) -> int:
    """How many of the newest finished remediations failed in a row (Unknown and unfinished are skipped)."""
    count = 0
    for past in _changing(history):
        if past.result == "Failed":
            count += 1
        elif past.result == "Succeeded":
            break
    return count


def cooldown_seconds(policy: Policy, failures: int) -> int:
    """The cooldown after a remediation: the base, times backoffFactor per consecutive failure after one."""
    if failures <= 0:
        return policy.cooldown_seconds
    value = policy.cooldown_seconds * policy.backoff_factor ** (failures - 1)
    return int(min(value, policy.max_cooldown_seconds))


def cooldown_remaining(policy: Policy, history: Sequence[PastRemediation], now: datetime) -> int:
    """Seconds until the workload may be remediated automatically again (0 = now)."""
    changing = _changing(history)
    if not changing:
        return 0
    last = changing[0]
    since = last.finished_at or last.started_at
    until = since + timedelta(seconds=cooldown_seconds(policy, consecutive_failures(history)))
    return max(0, int((until - now).total_seconds() + 0.999))


def _hard_stops(inputs: DecisionInputs) -> list[Reason]:
    wl, ref = inputs.workload, inputs.workload.ref
    stops: list[Reason] = []
    if not wl.exists:
        stops.append(Reason("TargetNotFound", f"{ref.kind} {ref.namespace}/{ref.name} no longer exists"))
    if ref.kind not in WORKLOAD_KINDS:
        stops.append(Reason("UnsupportedTarget", f"a Remediation cannot target a {ref.kind}"))
    if not namespace_in_scope(ref.namespace, inputs.policy):
        stops.append(Reason("NamespaceExcluded", f"namespace {ref.namespace} is outside the policy's scope"))
    if wl.opted_out:
        stops.append(Reason("OptedOut", f"{ref.kind} {ref.name} is annotated remediator.dev/ignore=true"))
    if wl.namespace_opted_out:
        stops.append(Reason("OptedOut", f"namespace {ref.namespace} is annotated remediator.dev/ignore=true"))
    if inputs.history.active_for_workload:
        stops.append(
            Reason("ActiveRemediationExists", f"another remediation of {ref.kind} {ref.name} is still in progress")
        )
    return stops


def _downgrade(inputs: DecisionInputs, action: str) -> tuple[str, list[Reason]]:
    policy, wl = inputs.policy, inputs.workload
    reasons: list[Reason] = []
    failures = consecutive_failures(inputs.history.workload)
    if action != "notify" and policy.escalate_after_failures and failures >= policy.escalate_after_failures:
        reasons.append(
            Reason(
                "EscalatedAfterFailures",
                f"the last {failures} remediations of {wl.ref.name} failed; escalating {action} to notify",
            )
        )
        action = "notify"
    if action == "scale_up" and wl.has_hpa:
        reasons.append(
            Reason(
                "HPAOwnsReplicas",
                f"a HorizontalPodAutoscaler owns the replicas of {wl.ref.name}; proposing notify instead of scale_up",
            )
        )
        action = "notify"
    if wl.kind not in SUPPORTED_KINDS.get(action, ()):
        why = "nothing would recreate a bare Pod" if wl.kind == "Pod" else f"{action} does not apply to a {wl.kind}"
        reasons.append(Reason("ActionNotSupported", f"{why}; proposing notify instead of {action}"))
        action = "notify"
    return action, reasons


def _corroboration(inputs: DecisionInputs, action: str) -> Reason:
    wl = inputs.workload
    hot = wl.saturation
    saturated = f"{hot.saturated}/{hot.ready} ready replicas ({hot.busiest})" if hot and hot.saturated else None
    return corroborate(inputs.classification.error_type, action, wl.signals, f"{wl.kind} {wl.ref.name}", saturated)


def _needs_config_patch(inputs: DecisionInputs) -> Reason:
    ref, wl = inputs.config, inputs.workload.ref
    if ref is not None and ref.kind == "ConfigMap" and ref.key:
        patch = f'configMapName: {ref.name} and configPatch: {{"data": {{"{ref.key}": "<value>"}}}}'
    else:
        patch = f"configPatch: a strategic-merge patch of {wl.kind} {wl.name} (or configMapName and a data patch)"
    return Reason(
        "NeedsConfigPatch",
        f"approving needs spec.parameters first: {patch}; the value is for a human to write, and approved as is "
        "update_config is skipped",
    )


def _gates(inputs: DecisionInputs, action: str, evidence: Reason) -> tuple[list[Reason], int]:
    policy, wl, hist, now = inputs.policy, inputs.workload, inputs.history, inputs.now
    conf = inputs.classification.confidence
    gates: list[Reason] = [evidence] if evidence.code == "NotCorroborated" else []
    if action == "update_config" and not inputs.parameters.get("configPatch"):
        gates.insert(0, _needs_config_patch(inputs))
    if inputs.feedback is not None and inputs.feedback.gate is not None:
        gates.append(inputs.feedback.gate)
    novelty = inputs.classification.novelty
    if novelty >= NOVELTY_LIMIT:
        gates.append(
            Reason(
                "UnfamiliarInput",
                f"{novelty:.0%} of the error text is unlike anything the model was trained on "
                f"(limit {NOVELTY_LIMIT:.0%}): its confidence means little here",
            )
        )
    if policy.dry_run:
        gates.append(Reason("DryRun", "the policy is in dry-run mode: changes are proposed, never applied"))
    if conf < policy.auto_apply_threshold:
        gates.append(
            Reason(
                "BelowThreshold",
                f"confidence {conf:.2f} is below the auto-apply threshold {policy.auto_apply_threshold:.2f}",
            )
        )
    if action not in policy.auto_apply_actions:
        gates.append(Reason("ActionNotAutoApplicable", f"the policy does not auto-apply {action}"))
    if wl.gitops and policy.git_ops.respect:
        gates.append(
            Reason(
                "GitOpsManaged",
                f"{wl.ref.name} is managed by {wl.gitops}; the change is proposed so it can be made in Git",
            )
        )
    hour_ago = now - timedelta(hours=1)
    recent = [h for h in _changing(hist.workload) if h.started_at > hour_ago]
    if len(recent) >= policy.rate_limit.per_workload_per_hour:
        gates.append(
            Reason(
                "RateLimitedWorkload",
                f"{len(recent)} remediations of {wl.ref.name} started in the last hour "
                f"(limit {policy.rate_limit.per_workload_per_hour})",
            )
        )
    if hist.cluster_started_last_minute >= policy.rate_limit.cluster_per_minute:
        gates.append(
            Reason(
                "RateLimitedCluster",
                f"{hist.cluster_started_last_minute} remediations started cluster-wide in the "
                f"last minute (limit {policy.rate_limit.cluster_per_minute})",
            )
        )
    remaining = cooldown_remaining(policy, hist.workload, now)
    if remaining > 0:
        failures = consecutive_failures(hist.workload)
        text = f"{wl.ref.name} is cooling down after its last remediation: {remaining} s remaining"
        if failures:
            text += f" ({failures} consecutive failure{'s' if failures != 1 else ''})"
        gates.append(Reason("CoolingDown", text))
    if hist.namespace_in_flight >= policy.blast_radius.max_in_flight_per_namespace:
        gates.append(
            Reason(
                "InFlightLimit",
                f"{hist.namespace_in_flight} remediations are in flight in namespace "
                f"{wl.ref.namespace} (limit {policy.blast_radius.max_in_flight_per_namespace})",
            )
        )
    return gates, remaining


def _finding(inputs: DecisionInputs, action: str) -> Finding:
    wl, policy = inputs.workload, inputs.policy
    facts = ActionEvidence(
        signals=wl.signals,
        rollout=wl.rollout,
        saturation=wl.saturation,
        dependency=inputs.dependency,
        config=inputs.config,
        family=inputs.family,
        rollout_window_seconds=policy.evidence.rollout_window_seconds,
        previous_healthy_seconds=policy.evidence.previous_healthy_seconds,
    )
    return support(inputs.classification.error_type, action, facts)


def decide(inputs: DecisionInputs) -> Decision:
    """Decide auto / approval / skip for one classified failure (see the module docstring for the order)."""
    action = inputs.classification.action
    stops = _hard_stops(inputs)
    if stops:
        return Decision("skip", action, PHASES["skip"], False, tuple(stops))
    action, downgrades = _downgrade(inputs, action)
    finding = _finding(inputs, action)
    seen = (f"{action}: {finding.evidence}",) if finding.evidence and action != "notify" else ()
    if inputs.feedback is not None:
        seen = (*seen, inputs.feedback.evidence)
    if inputs.classification.alternatives:
        seen = (*seen, inputs.classification.alternatives_text())
    gate = finding.gate
    if finding.replaced is not None and inputs.choose_action:
        downgrades.append(finding.replaced)
        action = finding.action
    elif finding.replaced is not None:
        gate = finding.replaced
    if action == "notify":
        note = Reason("NotifyOnly", "notify changes nothing, so it needs no approval")
        fb = inputs.feedback
        said = (Reason(fb.code, fb.evidence),) if fb is not None and fb.code == "CorrectedByFeedback" else ()
        return Decision("auto", action, PHASES["auto"], True, (*downgrades, *said, note), evidence=seen)
    corroboration = _corroboration(inputs, action)
    evidence = (corroboration.message, *seen)
    gates, remaining = _gates(inputs, action, corroboration)
    if gate is not None:
        gates.insert(1 if gates and gates[0].code == "NotCorroborated" else 0, gate)
    if gates:
        expires = inputs.now + timedelta(seconds=inputs.policy.approval_ttl_seconds)
        return Decision(
            "approval", action, PHASES["approval"], False, (*downgrades, *gates), expires, remaining or None, evidence
        )
    conf, threshold = inputs.classification.confidence, inputs.policy.auto_apply_threshold
    allow = Reason(
        "PolicyAllows",
        f"confidence {conf:.2f} meets the auto-apply threshold {threshold:.2f}, "
        f"the Pods corroborate the claim, and no limit applies to {action}",
    )
    return Decision("auto", action, PHASES["auto"], True, (*downgrades, allow), evidence=evidence)


def downgrade_to_approval(decision: Decision, reason: Reason, now: datetime, policy: Policy) -> Decision:
    """Turn an auto decision into a proposal, e.g. when the action's planner refused (BlastRadius)."""
    return replace(
        decision,
        mode="approval",
        phase=PHASES["approval"],
        auto_apply=False,
        reasons=(reason, *decision.reasons),
        expires_at=now + timedelta(seconds=policy.approval_ttl_seconds),
    )


def expired(proposed_at: datetime, now: datetime, policy: Policy) -> bool:
    """Whether a proposal waiting for approval has outlived approvalTTLSeconds."""
    return now >= proposed_at + timedelta(seconds=policy.approval_ttl_seconds)
