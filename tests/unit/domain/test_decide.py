"""decide.py: auto / approval / skip, with a reason for every refusal or downgrade."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from remediator.domain.corroborate import PodSignals
from remediator.domain.decide import (
    Decision,
    DecisionInputs,
    History,
    PastRemediation,
    WorkloadFacts,
    cooldown_remaining,
    cooldown_seconds,
    decide,
    downgrade_to_approval,
    expired,
)
from remediator.domain.evidence import ConfigRef, Rollout
from remediator.domain.policy import Policy
from remediator.domain.types import Classification, Reason, WorkloadRef
from tests.unit.domain.builders import NS, T0

WEB = WorkloadRef("Deployment", "web", NS)
CRASHING = PodSignals(
    pods=4, ready=3, restarts=5, families=frozenset({"crash"}), examples=("Pod web-1: CrashLoopBackOff",)
)
FACTS = WorkloadFacts(ref=WEB, replicas=4, ready_replicas=3, pod_count=4, signals=CRASHING)


def inputs(
    action: str = "restart_pod",
    confidence: float = 0.95,
    policy: Policy | None = None,
    facts: WorkloadFacts = FACTS,
    history: History | None = None,
    **params: object,
) -> DecisionInputs:
    c = Classification("app_crash", action, confidence, "rollback", 0.03, "panic in handler", ("exit 2",), "m1")
    return DecisionInputs(
        classification=c,
        policy=policy or Policy(),
        workload=facts,
        now=T0,
        history=history or History(),
        parameters=params,
    )


def failed(minutes_ago: float, action: str = "restart_pod") -> PastRemediation:
    start = T0 - timedelta(minutes=minutes_ago)
    return PastRemediation(start, "Failed", start + timedelta(minutes=2), action)


def succeeded(minutes_ago: float) -> PastRemediation:
    start = T0 - timedelta(minutes=minutes_ago)
    return PastRemediation(start, "Succeeded", start + timedelta(minutes=2), "restart_pod")


def test_confident_allowed_action_is_auto_applied() -> None:
    d = decide(inputs())
    assert (d.mode, d.phase, d.auto_apply, d.action) == ("auto", "Approved", True, "restart_pod")
    assert d.codes() == ["PolicyAllows"]


def test_confidence_below_threshold_waits_for_approval() -> None:
    d = decide(inputs(confidence=0.72))
    assert (d.mode, d.phase, d.auto_apply) == ("approval", "PendingApproval", False)
    assert d.reason == Reason("BelowThreshold", "confidence 0.72 is below the auto-apply threshold 0.90")
    assert d.expires_at == T0 + timedelta(seconds=3600)


def test_dry_run_proposes_and_never_applies() -> None:
    d = decide(inputs(policy=Policy(dry_run=True)))
    assert (d.mode, d.auto_apply) == ("approval", False)
    assert "DryRun" in d.codes()


def test_update_config_needs_allowlisting_and_a_config_patch() -> None:
    d = decide(inputs("update_config"))
    assert d.mode == "approval" and "ActionNotAutoApplicable" in d.codes()
    allow = Policy.model_validate({"autoApplyActions": ["update_config"]})
    d = decide(inputs("update_config", policy=allow))
    assert d.mode == "approval" and "configPatch" in d.message()
    d = decide(inputs("update_config", policy=allow, configPatch={"LOG_LEVEL": "info"}))
    assert d.mode == "auto"


def test_notify_needs_no_approval_even_with_low_confidence() -> None:
    d = decide(inputs("notify", confidence=0.3))
    assert (d.mode, d.action, d.auto_apply) == ("auto", "notify", True)


def test_gitops_managed_workload_is_proposed_not_applied() -> None:
    d = decide(inputs(facts=replace(FACTS, gitops="argocd")))
    assert (d.mode, d.auto_apply) == ("approval", False)
    assert d.reason.code == "GitOpsManaged" and "argocd" in d.reason.message
    relaxed = Policy.model_validate({"gitOps": {"respect": False}})
    assert decide(inputs(policy=relaxed, facts=replace(FACTS, gitops="flux"))).mode == "auto"


def test_opted_out_and_excluded_namespaces_are_skipped_with_every_reason() -> None:
    d = decide(inputs(facts=replace(FACTS, opted_out=True, namespace_opted_out=True)))
    assert (d.mode, d.phase, d.auto_apply) == ("skip", "Skipped", False)
    assert d.codes() == ["OptedOut", "OptedOut"]
    kube = WorkloadRef("Deployment", "coredns", "kube-system")
    d = decide(inputs(facts=replace(FACTS, ref=kube)))
    assert d.mode == "skip" and d.codes() == ["NamespaceExcluded"]


def test_missing_target_and_active_remediation_are_skipped() -> None:
    assert decide(inputs(facts=replace(FACTS, exists=False))).codes() == ["TargetNotFound"]
    d = decide(inputs(history=History(active_for_workload=True)))
    assert d.mode == "skip" and d.codes() == ["ActiveRemediationExists"]


def test_hard_stop_wins_over_notify() -> None:
    d = decide(inputs("notify", facts=replace(FACTS, opted_out=True)))
    assert d.mode == "skip"


def test_scale_up_with_hpa_becomes_notify() -> None:
    d = decide(inputs("scale_up", facts=replace(FACTS, has_hpa=True)))
    assert (d.mode, d.action) == ("auto", "notify")
    assert d.codes()[0] == "HPAOwnsReplicas"


def test_rollback_of_statefulset_and_restart_of_bare_pod_become_notify() -> None:
    sts = replace(FACTS, ref=WorkloadRef("StatefulSet", "db", NS))
    d = decide(inputs("rollback", facts=sts))
    assert d.action == "notify" and d.codes()[0] == "ActionNotSupported"
    bare = replace(FACTS, ref=WorkloadRef("Pod", "debug-shell", NS))
    d = decide(inputs("restart_pod", facts=bare))
    assert d.action == "notify" and "bare Pod" in d.message()


def test_escalates_to_notify_after_consecutive_failures() -> None:
    history = History(workload=(failed(50), failed(20)))
    d = decide(inputs(history=history))
    assert (d.action, d.mode) == ("notify", "auto")
    assert d.codes()[0] == "EscalatedAfterFailures"
    # One success in between resets the streak: only one failure since.
    d = decide(inputs(history=History(workload=(failed(50), succeeded(30), failed(20)))))
    assert d.action == "restart_pod"


def test_cooldown_doubles_after_each_failed_remediation() -> None:
    p = Policy(escalate_after_failures=0)
    assert [cooldown_seconds(p, n) for n in range(0, 6)] == [300, 300, 600, 1200, 2400, 3600]
    # Last remediation finished 9 minutes ago; two failures in a row -> 600 s -> 60 s remain.
    history = (failed(40), failed(11))
    assert cooldown_remaining(p, history, T0) == 60
    d = decide(inputs(policy=p, history=History(workload=history)))
    assert d.mode == "approval" and d.reason.code == "CoolingDown"
    assert "60 s remaining" in d.reason.message and d.cooldown_remaining_seconds == 60
    # Only one failure: 300 s, long over.
    assert decide(inputs(policy=p, history=History(workload=(failed(11),)))).mode == "auto"


def test_rate_limits_and_in_flight_limit_need_approval() -> None:
    recent = tuple(succeeded(m) for m in (50, 40, 30))
    d = decide(inputs(history=History(workload=recent)))
    assert d.mode == "approval" and "RateLimitedWorkload" in d.codes()
    d = decide(inputs(history=History(cluster_started_last_minute=10)))
    assert d.codes() == ["RateLimitedCluster"]
    d = decide(inputs(history=History(namespace_in_flight=3)))
    assert d.codes() == ["InFlightLimit"]


def test_notify_history_does_not_count_toward_limits() -> None:
    notes = tuple(PastRemediation(T0 - timedelta(minutes=m), "Failed", None, "notify") for m in (1, 2, 3, 4))
    assert decide(inputs(history=History(workload=notes))).mode == "auto"


def test_every_applying_gate_is_reported() -> None:
    d = decide(
        inputs(
            confidence=0.5,
            policy=Policy(dry_run=True),
            facts=replace(FACTS, gitops="flux"),
            history=History(namespace_in_flight=5),
        )
    )
    assert d.codes() == ["DryRun", "BelowThreshold", "GitOpsManaged", "InFlightLimit"]
    assert all(r.message for r in d.reasons)


def test_downgrade_to_approval_keeps_history_of_reasons() -> None:
    d = decide(inputs())
    down = downgrade_to_approval(d, Reason("BlastRadius", "too many Pods"), T0, Policy())
    assert isinstance(down, Decision)
    assert (down.mode, down.phase, down.auto_apply) == ("approval", "PendingApproval", False)
    assert down.codes() == ["BlastRadius", "PolicyAllows"]


def test_approval_expires_after_ttl() -> None:
    p = Policy(approval_ttl_seconds=600)
    assert not expired(T0, T0 + timedelta(seconds=599), p)
    assert expired(T0, T0 + timedelta(seconds=600), p)


def test_the_models_per_action_probabilities_are_part_of_the_evidence() -> None:
    c = Classification(
        "oom",
        "increase_memory",
        0.71,
        alternatives=(("increase_memory", 0.71), ("notify", 0.12), ("update_config", 0.08), ("rollback", 0.01)),
    )
    oom = PodSignals(pods=1, ready=0, restarts=4, families=frozenset({"oom"}), examples=("Pod web-1: OOMKilled",))
    d = decide(DecisionInputs(c, Policy(), WorkloadFacts(ref=WEB, replicas=1, pod_count=1, signals=oom), T0))
    assert "model: increase_memory 0.71, notify 0.12, update_config 0.08" in d.evidence
    assert c.to_status()["actionProbabilities"]["notify"] == 0.12


def test_an_unfamiliar_text_goes_to_a_human_whatever_the_confidence() -> None:
    base = inputs("restart_pod", 0.99)
    familiar = replace(base, classification=replace(base.classification, novelty=0.2))
    assert decide(familiar).mode == "auto"
    strange = replace(base, classification=replace(base.classification, novelty=0.62))
    d = decide(strange)
    assert d.mode == "approval" and d.codes() == ["UnfamiliarInput"]
    assert "62% of the error text is unlike anything the model was trained on" in d.message()
    notify = replace(strange, classification=replace(strange.classification, action="notify"))
    assert decide(notify).mode == "auto"  # notify changes nothing: no human needed


NEW_DEPLOYMENT = replace(
    FACTS,
    ready_replicas=0,
    signals=PodSignals(pods=2, ready=0, restarts=6, families=frozenset({"crash"})),
    rollout=Rollout(revision=1, age_seconds=40, failing_on_newest=True),
)
TRUSTING = Policy.model_validate({"autoApplyThreshold": 0.5, "autoApplyActions": ["rollback", "update_config"]})


def test_a_rollback_with_no_earlier_revision_is_not_proposed_but_notified() -> None:
    d = decide(inputs("rollback", policy=TRUSTING, facts=NEW_DEPLOYMENT))
    assert (d.mode, d.action, d.auto_apply) == ("auto", "notify", True)
    assert d.codes() == ["NoPreviousRevision", "NotifyOnly"]
    assert "no earlier revision to roll back to" in d.message()
    # A user's own rollback request is never rewritten, only held back saying why.
    asked = replace(inputs("rollback", policy=TRUSTING, facts=NEW_DEPLOYMENT), choose_action=False)
    d = decide(asked)
    assert (d.mode, d.action) == ("approval", "rollback") and d.reason.code == "NoPreviousRevision"


def test_no_text_of_the_claim_turns_the_no_previous_revision_downgrade_off() -> None:
    base = inputs("rollback", confidence=0.99, policy=TRUSTING, facts=NEW_DEPLOYMENT)
    for claim in (
        {"dependency": "db:5432"},
        {"config": ConfigRef("ConfigMap", "app-config", "REVISION")},
        {"family": "crash"},
        {"classification": replace(base.classification, error_type="image_pull", novelty=0.0)},
    ):
        d = decide(replace(base, **claim))  # type: ignore[arg-type]
        assert d.action == "notify" and "NoPreviousRevision" in d.codes(), claim


def test_update_config_without_a_config_patch_says_up_front_which_patch_approving_needs() -> None:
    key = ConfigRef("ConfigMap", "app-config", "DATABASE_URL")
    d = replace(inputs("update_config", confidence=0.58), config=key)
    decided = decide(d)
    assert (decided.mode, decided.action) == ("approval", "update_config")
    assert decided.reason.code == "NeedsConfigPatch"
    assert 'configMapName: app-config and configPatch: {"data": {"DATABASE_URL": "<value>"}}' in decided.reason.message
    assert decided.codes()[1:] == ["BelowThreshold", "ActionNotAutoApplicable"]
    unnamed = decide(inputs("update_config", policy=TRUSTING))
    assert unnamed.codes() == ["NeedsConfigPatch"] and "strategic-merge patch of Deployment web" in unnamed.message()
    given = decide(replace(d, parameters={"configMapName": "app-config", "configPatch": {"DATABASE_URL": "x"}}))
    assert "NeedsConfigPatch" not in given.codes()


def test_update_config_for_a_missing_secret_notifies_naming_the_secret() -> None:
    d = decide(replace(inputs("update_config", confidence=0.71), config=ConfigRef("Secret", "db-credentials")))
    assert (d.mode, d.action) == ("auto", "notify")
    assert d.codes() == ["MissingSecret", "NotifyOnly"] and "Secret db-credentials is missing" in d.message()


PENDING = replace(
    FACTS,
    replicas=1,
    ready_replicas=0,
    pod_count=1,
    signals=PodSignals(pods=1, families=frozenset({"unschedulable"}), examples=("Pod web-1: Unschedulable",)),
    rollout=Rollout(revision=1, age_seconds=5, failing_on_newest=True),
)


def _unschedulable(action: str, confidence: float, **claim: object) -> DecisionInputs:
    c = Classification("resource_exhaustion", action, confidence)
    return replace(DecisionInputs(c, TRUSTING, PENDING, T0), **claim)  # type: ignore[arg-type]


def test_an_unschedulable_pod_gets_notify_whichever_source_reported_it_first() -> None:
    from_status = decide(_unschedulable("notify", 0.46, family="unschedulable"))  # the Pod's PodScheduled=False
    from_event = decide(_unschedulable("update_config", 0.39, family="unschedulable"))  # FailedScheduling
    assert from_status.action == from_event.action == "notify"
    assert from_event.codes() == ["PodsUnschedulable", "NotifyOnly"]
    for action in ("scale_up", "increase_memory", "restart_pod", "rollback"):
        assert decide(_unschedulable(action, 0.99)).action == "notify", action


def test_a_tenants_text_cannot_turn_the_unschedulable_downgrade_off() -> None:
    # The Pods show only unschedulable; the ErrorEvent, written to look like a config issue, claims another
    # family, names a ConfigMap key and a dependency, and is confidently classified as update_config.
    forged = _unschedulable(
        "update_config",
        0.99,
        family="config",
        config=ConfigRef("ConfigMap", "app-config", "CPU_REQUEST"),
        dependency="db:5432",
    )
    for error_type in ("config_issue", "timeout", "dependency_error", "resource_exhaustion"):
        c = replace(forged.classification, error_type=error_type)
        d = decide(replace(forged, classification=c))
        assert (d.action, d.codes()[0]) == ("notify", "PodsUnschedulable"), error_type
