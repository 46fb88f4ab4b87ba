"""policy.py: safe defaults, validation, merge, scope, opt-out and GitOps detection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from remediator.domain.policy import Policy, is_gitops_managed, merge, namespace_in_scope, opted_out


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


def test_namespace_policy_overrides_cluster_field_by_field() -> None:
    cluster = Policy.model_validate(
        {
            "autoApplyThreshold": 0.95,
            "maxReplicas": 20,
            "rateLimit": {"perWorkloadPerHour": 2, "clusterPerMinute": 5},
        }
    )
    p = merge(cluster, {"autoApplyThreshold": 0.85, "rateLimit": {"perWorkloadPerHour": 6}, "dry_run": True})
    assert p.auto_apply_threshold == 0.85 and p.dry_run is True
    assert p.max_replicas == 20
    assert (p.rate_limit.per_workload_per_hour, p.rate_limit.cluster_per_minute) == (6, 5)
    assert merge(cluster, None) == cluster


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
