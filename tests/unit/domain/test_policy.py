"""policy.py: safe defaults, validation, merge, scope, opt-out and GitOps detection."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from remediator.domain.policy import (
    STRICTER,
    Policy,
    is_gitops_managed,
    merge,
    merge_namespace,
    namespace_in_scope,
    opted_out,
    override,
    self_approval_allowed,
)


def test_defaults_are_the_documented_safe_values() -> None:
    p = Policy()
    assert p.auto_apply_threshold == 0.9
    assert set(p.auto_apply_actions) == {"restart_pod", "rollback", "scale_up", "increase_memory"}
    assert "update_config" not in p.auto_apply_actions
    assert p.exclude_namespaces == ("kube-system",)
    assert (p.rate_limit.per_workload_per_hour, p.rate_limit.cluster_per_minute) == (3, 10)
    assert (p.cooldown_seconds, p.backoff_factor, p.max_cooldown_seconds) == (300, 2.0, 3600)
    assert (p.blast_radius.max_pod_fraction, p.blast_radius.min_ready_pods) == (0.34, 1)
    assert p.git_ops.respect is True and p.dry_run is False
    assert p.memory_ceiling_bytes == 4 * 2**30


def test_policy_loads_from_camelcase_spec_including_ttl_alias() -> None:
    p = Policy.model_validate(
        {
            "autoApplyThreshold": 0.8,
            "approvalTTLSeconds": 600,
            "blastRadius": {"maxPodFraction": 0.5},
            "gitOps": {"respect": False},
        }
    )
    assert p.auto_apply_threshold == 0.8 and p.approval_ttl_seconds == 600
    assert p.blast_radius.max_pod_fraction == 0.5 and p.blast_radius.min_ready_pods == 1
    assert p.git_ops.respect is False
    assert p.to_spec()["approvalTTLSeconds"] == 600


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"autoApplyThreshold": 1.2}, "autoApplyThreshold"),
        ({"autoApplyThreshold": -0.1}, "autoApplyThreshold"),
        ({"memoryGrowthFactor": 0.9}, "memoryGrowthFactor"),
        ({"backoffFactor": 0.5}, "backoffFactor"),
        ({"cooldownSeconds": -1}, "cooldownSeconds"),
        ({"maxReplicas": 0}, "maxReplicas"),
        ({"approvalTTLSeconds": 5}, "approvalTTLSeconds"),
        ({"memoryCeiling": "4GB"}, "memoryCeiling"),
        ({"autoApplyActions": ["rollback", "rollback"]}, "autoApplyActions"),
        ({"memoryCeiling": "lots"}, "memoryCeiling"),
        ({"autoApplyActions": ["delete_namespace"]}, "autoApplyActions"),
        ({"rateLimit": {"perWorkloadPerHour": -3}}, "rateLimit"),
        ({"autoApplyThreshhold": 0.5}, "autoApplyThreshhold"),
    ],
)
def test_nonsense_is_rejected_naming_the_field(spec: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Policy.model_validate(spec)
    assert field in str(err.value)


def test_max_cooldown_below_cooldown_is_rejected() -> None:
    with pytest.raises(ValidationError, match="maxCooldownSeconds"):
        Policy.model_validate({"cooldownSeconds": 600, "maxCooldownSeconds": 60})


def test_namespace_policy_only_tightens_the_cluster_field_by_field() -> None:
    # Formerly the namespace overrode these (threshold 0.85, perWorkloadPerHour 6): a namespace loosening
    # its own limits. Now the looser values are clamped to the cluster's and reported.
    cluster = Policy.model_validate(
        {
            "autoApplyThreshold": 0.95,
            "maxReplicas": 20,
            "rateLimit": {"perWorkloadPerHour": 2, "clusterPerMinute": 5},
        }
    )
    spec = {"autoApplyThreshold": 0.85, "rateLimit": {"perWorkloadPerHour": 6}, "dry_run": True, "maxReplicas": 8}
    p = merge(cluster, spec)
    assert p.auto_apply_threshold == 0.95 and p.dry_run is True
    assert p.max_replicas == 8
    assert (p.rate_limit.per_workload_per_hour, p.rate_limit.cluster_per_minute) == (2, 5)
    assert merge_namespace(cluster, spec).clamped == ("autoApplyThreshold", "rateLimit.perWorkloadPerHour")
    assert merge(cluster, None) == cluster


def test_override_lets_the_cluster_default_set_the_operator_defaults() -> None:
    # The cluster-default RemediationPolicy (trusted) may loosen the built-ins; scope fields are not taken.
    p = override(Policy(), {"maxReplicas": 20, "rateLimit": {"clusterPerMinute": 30}, "excludeNamespaces": []})
    assert p.max_replicas == 20 and p.rate_limit.cluster_per_minute == 30
    assert p.rate_limit.per_workload_per_hour == 3 and p.exclude_namespaces == ("kube-system",)
    assert override(Policy(), None) == Policy()


CLUSTER = Policy.model_validate(
    {
        "autoApplyThreshold": 0.8,
        "autoApplyActions": ["restart_pod", "rollback", "scale_up"],
        "maxReplicas": 10,
        "memoryGrowthFactor": 1.5,
        "memoryCeiling": "4Gi",
        "includeNamespaces": ["team-*"],
        "excludeNamespaces": ["kube-system"],
        "rateLimit": {"perWorkloadPerHour": 3, "clusterPerMinute": 10},
        "cooldownSeconds": 300,
        "backoffFactor": 2.0,
        "maxCooldownSeconds": 3600,
        "escalateAfterFailures": 2,
        "blastRadius": {"maxPodFraction": 0.34, "minReadyPods": 1, "maxInFlightPerNamespace": 3},
        "gitOps": {"respect": True},
        "approvalTTLSeconds": 3600,
        "verifyWindowSeconds": 120,
        "undoOnFailure": ["scale_up"],
        "selfApprovalNamespaces": ["team-sandbox", "team-dev-*"],
    }
)


def _get(policy: Policy, path: str) -> object:
    value: object = policy
    for part in path.split("."):
        value = getattr(value, part)
    return value


# (a looser spec, a stricter spec, the attribute, its value after each)
@pytest.mark.parametrize(
    ("looser", "tighter", "attr", "kept", "tightened"),
    [
        ({"autoApplyThreshold": 0.5}, {"autoApplyThreshold": 0.95}, "auto_apply_threshold", 0.8, 0.95),
        ({"autoApplyActions": ["restart_pod", "update_config"]}, {"autoApplyActions": ["rollback"]},
         "auto_apply_actions", ("restart_pod",), ("rollback",)),
        ({"maxReplicas": 500}, {"maxReplicas": 4}, "max_replicas", 10, 4),
        ({"memoryGrowthFactor": 4.0}, {"memoryGrowthFactor": 1.2}, "memory_growth_factor", 1.5, 1.2),
        ({"memoryCeiling": "64Gi"}, {"memoryCeiling": "1024Mi"}, "memory_ceiling", "4Gi", "1024Mi"),
        ({"includeNamespaces": ["*"]}, {"includeNamespaces": ["team-a"]}, "include_namespaces",
         ("team-*",), ("team-*",)),
        ({"excludeNamespaces": []}, {"excludeNamespaces": ["kube-system", "team-legacy"]}, "exclude_namespaces",
         ("kube-system",), ("kube-system", "team-legacy")),
        ({"rateLimit": {"perWorkloadPerHour": 100}}, {"rateLimit": {"perWorkloadPerHour": 1}},
         "rate_limit.per_workload_per_hour", 3, 1),
        ({"rateLimit": {"clusterPerMinute": 1000}}, {"rateLimit": {"clusterPerMinute": 2}},
         "rate_limit.cluster_per_minute", 10, 2),
        ({"cooldownSeconds": 0}, {"cooldownSeconds": 900}, "cooldown_seconds", 300, 900),
        ({"backoffFactor": 1.0}, {"backoffFactor": 3.0}, "backoff_factor", 2.0, 3.0),
        ({"maxCooldownSeconds": 300}, {"maxCooldownSeconds": 7200}, "max_cooldown_seconds", 3600, 7200),
        ({"escalateAfterFailures": 10}, {"escalateAfterFailures": 1}, "escalate_after_failures", 2, 1),
        ({"escalateAfterFailures": 0}, {"escalateAfterFailures": 1}, "escalate_after_failures", 2, 1),
        ({"blastRadius": {"maxPodFraction": 1.0}}, {"blastRadius": {"maxPodFraction": 0.1}},
         "blast_radius.max_pod_fraction", 0.34, 0.1),
        ({"blastRadius": {"minReadyPods": 0}}, {"blastRadius": {"minReadyPods": 2}},
         "blast_radius.min_ready_pods", 1, 2),
        ({"blastRadius": {"maxInFlightPerNamespace": 100}}, {"blastRadius": {"maxInFlightPerNamespace": 1}},
         "blast_radius.max_in_flight_per_namespace", 3, 1),
        ({"gitOps": {"respect": False}}, {"gitOps": {"respect": True}}, "git_ops.respect", True, True),
        ({"approvalTTLSeconds": 604800}, {"approvalTTLSeconds": 600}, "approval_ttl_seconds", 3600, 600),
        ({"verifyWindowSeconds": 10}, {"verifyWindowSeconds": 600}, "verify_window_seconds", 120, 600),
        ({"undoOnFailure": []}, {"undoOnFailure": ["scale_up", "rollback"]}, "undo_on_failure",
         ("scale_up",), ("scale_up", "rollback")),
        ({"selfApprovalNamespaces": ["team-sandbox", "team-dev-*", "team-prod"]},
         {"selfApprovalNamespaces": ["team-sandbox"]}, "self_approval_namespaces",
         ("team-sandbox", "team-dev-*"), ("team-sandbox",)),
    ],
)
def test_each_field_takes_the_stricter_value(
    looser: dict[str, object], tighter: dict[str, object], attr: str, kept: object, tightened: object
) -> None:
    loose = merge_namespace(CLUSTER, looser)
    assert _get(loose.policy, attr) == kept
    [(key, value)] = looser.items()
    assert loose.clamped == (f"{key}.{next(iter(value))}" if isinstance(value, dict) else key,)
    assert "may only tighten" in loose.note()
    tight = merge_namespace(CLUSTER, tighter)
    assert _get(tight.policy, attr) == tightened
    if attr not in ("include_namespaces", "git_ops.respect"):  # these cannot be tightened past the cluster's
        assert tight.clamped == () and tight.note() == ""


def test_dry_run_can_be_added_never_lifted() -> None:
    on = CLUSTER.model_copy(update={"dry_run": True})
    lifted = merge_namespace(on, {"dryRun": False})
    assert lifted.policy.dry_run is True and lifted.clamped == ("dryRun",)
    assert merge(CLUSTER, {"dryRun": True}).dry_run is True


def test_a_union_field_spec_dropping_cluster_entries_is_reported() -> None:
    # The spec's own list is what it asked for; dropping the cluster's entries from it is the looser part.
    merged = merge_namespace(CLUSTER, {"excludeNamespaces": ["team-legacy"]})
    assert merged.policy.exclude_namespaces == ("kube-system", "team-legacy")
    assert merged.clamped == ("excludeNamespaces",)


def test_a_clamped_policy_is_still_consistent() -> None:
    # cooldown and maxCooldown both take the max, so maxCooldown >= cooldown survives the merge.
    merged = merge(CLUSTER, {"cooldownSeconds": 3000, "maxCooldownSeconds": 3000})
    assert (merged.cooldown_seconds, merged.max_cooldown_seconds) == (3000, 3600)


def test_every_policy_field_has_a_merge_rule() -> None:
    def paths(model: type, prefix: str = "") -> set[str]:
        out = set()
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                out |= paths(sub, f"{prefix}{name}.")
            else:
                out.add(prefix + name)
        return out

    assert paths(Policy) == set(STRICTER)


def test_namespace_snake_case_and_unset_fields_keep_the_cluster() -> None:
    merged = merge_namespace(CLUSTER, {"max_replicas": 3, "rate_limit": {"cluster_per_minute": 4}})
    assert merged.policy.max_replicas == 3 and merged.policy.rate_limit.cluster_per_minute == 4
    assert merged.policy.rate_limit.per_workload_per_hour == 3 and merged.clamped == ()
    assert merge_namespace(CLUSTER, {}).policy == CLUSTER


def test_namespace_policy_cannot_widen_scope() -> None:
    p = merge(Policy(), {"excludeNamespaces": [], "includeNamespaces": ["kube-system"]})
    assert not namespace_in_scope("kube-system", p)


def test_invalid_namespace_policy_raises() -> None:
    with pytest.raises(ValidationError):
        merge(Policy(), {"blastRadius": {"maxPodFraction": 2}})


def test_namespace_scope_with_include_exclude_and_globs() -> None:
    assert namespace_in_scope("shop", Policy())
    assert not namespace_in_scope("kube-system", Policy())
    p = Policy.model_validate({"includeNamespaces": ["team-*"], "excludeNamespaces": ["team-legacy"]})
    assert namespace_in_scope("team-a", p)
    assert not namespace_in_scope("team-legacy", p)
    assert not namespace_in_scope("shop", p)


def test_ignore_label_or_annotation_opts_out() -> None:
    assert opted_out({"remediator.dev/ignore": "true"}, None)
    assert opted_out(None, {"remediator.dev/ignore": "True"})
    assert not opted_out({"remediator.dev/ignore": "false"}, {})
    assert not opted_out(None, None)


def test_gitops_markers_are_recognised() -> None:
    assert (
        is_gitops_managed({}, {"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/web"}) == "argocd"
    )
    assert is_gitops_managed({"argocd.argoproj.io/instance": "shop"}, {}) == "argocd"
    assert (
        is_gitops_managed(
            {
                "kustomize.toolkit.fluxcd.io/name": "apps",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            },
            {},
        )
        == "flux"
    )
    assert is_gitops_managed({"helm.toolkit.fluxcd.io/name": "web"}, {}) == "flux"


def test_plain_helm_and_instance_label_are_not_gitops() -> None:
    labels = {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "web"}
    assert is_gitops_managed(labels, {"meta.helm.sh/release-name": "web"}) is None


def test_self_approval_is_off_by_default_and_granted_only_by_the_cluster_default() -> None:
    assert not self_approval_allowed("team-sandbox", Policy())
    assert self_approval_allowed("team-sandbox", CLUSTER) and self_approval_allowed("team-dev-42", CLUSTER)
    assert not self_approval_allowed("team-prod", CLUSTER)
    # A namespace's own policy can give it up, and cannot grant it to itself.
    assert not self_approval_allowed("team-dev-1", merge(CLUSTER, {"selfApprovalNamespaces": []}))
    assert not self_approval_allowed("team-prod", merge(CLUSTER, {"selfApprovalNamespaces": ["team-prod"]}))
