"""domain/evidence.py: the facts the operator observed select and gate the model's action."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediator.domain.corroborate import PodSignals
from remediator.domain.evidence import (
    ActionEvidence,
    ConfigRef,
    Rollout,
    Saturation,
    config_named,
    dependency_named,
    rollout_of,
    saturation_of,
    support,
)
from tests.unit.domain.builders import T0, crashloop_status, pod, replicaset

CRASHING_ONE_OF_THREE = PodSignals(pods=3, ready=2, restarts=5, families=frozenset({"crash"}))
ALL_CRASHING = PodSignals(pods=3, ready=0, restarts=15, families=frozenset({"crash"}))
RECENT = Rollout(
    revision=7, age_seconds=120, failing_on_newest=True, previous_revision=6, previous_newest_seconds=86400
)


def test_rollback_right_after_a_rollout_of_a_healthy_predecessor_is_supported() -> None:
    found = support("app_crash", "rollback", ActionEvidence(CRASHING_ONE_OF_THREE, rollout=RECENT))
    assert found.action == "rollback" and found.gate is None
    assert "revision 7 rolled out 120 s ago" in found.evidence and "revision 6 ran 86400 s" in found.evidence


@pytest.mark.parametrize(
    ("rollout", "why"),
    [
        (None, "no rollout history"),
        (Rollout(7, 90 * 86400, True, 6, 86400), "older than the 1800 s window"),
        (Rollout(7, 120, True, 6, 60), "served less than 600 s"),
        (Rollout(7, 120, False, 6, 86400), "not on the newest revision"),
    ],
)
def test_rollback_without_that_evidence_is_only_proposed(rollout: Rollout | None, why: str) -> None:
    found = support("app_crash", "rollback", ActionEvidence(CRASHING_ONE_OF_THREE, rollout=rollout))
    assert found.action == "rollback" and found.gate is not None and found.gate.code == "NoRecentRollout"
    assert why in found.gate.message


def test_rollback_with_no_earlier_revision_notifies_instead_of_proposing_what_cannot_apply() -> None:
    found = support("app_crash", "rollback", ActionEvidence(ALL_CRASHING, rollout=Rollout(1, 120, True)))
    assert found.action == "notify" and found.replaced is not None and found.replaced.code == "NoPreviousRevision"
    assert "revision 1 is the only one" in found.replaced.message and "revision 1 rolled out 120 s" in found.evidence
    # Unread history is not the absence of one: that rollback is still proposed.
    unknown = support("app_crash", "rollback", ActionEvidence(ALL_CRASHING))
    assert unknown.action == "rollback" and unknown.gate is not None and unknown.gate.code == "NoRecentRollout"


PENDING = PodSignals(pods=1, ready=0, families=frozenset({"unschedulable"}), examples=("Pod app-1: Unschedulable",))


@pytest.mark.parametrize("action", ["update_config", "scale_up", "increase_memory", "restart_pod", "rollback"])
def test_pods_that_cannot_be_scheduled_notify_whatever_changing_action_was_chosen(action: str) -> None:
    found = support("resource_exhaustion", action, ActionEvidence(PENDING, rollout=Rollout(1, 30, True)))
    assert found.action == "notify" and found.replaced is not None and found.replaced.code == "PodsUnschedulable"
    assert action in found.replaced.message and "Pod app-1: Unschedulable" in found.evidence


def test_a_rollback_of_the_revision_that_asks_for_too_much_stays_for_unschedulable_pods() -> None:
    found = support("resource_exhaustion", "rollback", ActionEvidence(PENDING, rollout=RECENT))
    assert found.action == "rollback" and found.gate is None and found.replaced is None
    old = Rollout(7, 90 * 86400, True, 6, 86400)  # not a fresh rollout: not what made them unschedulable
    assert support("resource_exhaustion", "rollback", ActionEvidence(PENDING, rollout=old)).action == "notify"


def test_the_claimed_family_may_make_the_rule_more_careful_and_never_less() -> None:
    # The claim says unschedulable while the Pods crash: notify (the writer's word may only add caution).
    claimed = support("app_crash", "restart_pod", ActionEvidence(CRASHING_ONE_OF_THREE, family="unschedulable"))
    assert claimed.action == "notify" and claimed.replaced is not None
    # The Pods show only unschedulable: a claim of another family, a config key and a dependency in the text
    # change nothing.
    hostile = ActionEvidence(
        PENDING, family="config", config=ConfigRef("ConfigMap", "app-config", "CPU_REQUEST"), dependency="db:5432"
    )
    for error_type in ("config_issue", "timeout", "dependency_error"):
        found = support(error_type, "update_config", hostile)
        assert found.action == "notify" and found.replaced is not None and found.replaced.code == "PodsUnschedulable"
    # Pods that also crash are not "only unschedulable": the usual rules decide.
    mixed = PodSignals(pods=3, ready=1, families=frozenset({"crash", "unschedulable"}))
    assert support("app_crash", "restart_pod", ActionEvidence(mixed)).action == "restart_pod"


def test_update_config_for_a_missing_secret_or_configmap_notifies_naming_it() -> None:
    secret = support("config_issue", "update_config", ActionEvidence(ALL_CRASHING, config=ConfigRef("Secret", "db")))
    assert secret.action == "notify" and secret.replaced is not None and secret.replaced.code == "MissingSecret"
    assert "Secret db is missing" in secret.replaced.message
    key = ConfigRef("Secret", "db", "password")
    found = support("config_issue", "update_config", ActionEvidence(ALL_CRASHING, config=key))
    assert found.replaced is not None and "key password of Secret db" in found.replaced.message
    cm = support("config_issue", "update_config", ActionEvidence(ALL_CRASHING, config=ConfigRef("ConfigMap", "cfg")))
    assert cm.action == "notify" and cm.replaced is not None and cm.replaced.code == "MissingConfigMap"
    key = ConfigRef("ConfigMap", "cfg", "DATABASE_URL")
    kept = support("config_issue", "update_config", ActionEvidence(ALL_CRASHING, config=key))
    assert kept.action == "update_config" and kept.replaced is None and kept.gate is None
    assert kept.evidence == "the error names key DATABASE_URL of ConfigMap cfg"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "couldn't find key DATABASE_URL in ConfigMap shop/app-config",
            ConfigRef("ConfigMap", "app-config", "DATABASE_URL"),
        ),
        ("couldn't find key password in Secret shop/db-credentials", ConfigRef("Secret", "db-credentials", "password")),
        ('Error: secret "db-credentials" not found', ConfigRef("Secret", "db-credentials")),
        (
            'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found',
            ConfigRef("ConfigMap", "app-config"),
        ),
        ('configmaps "app-config" not found; secret "s" not found', ConfigRef("ConfigMap", "app-config")),
        ('secret "Not A Name; rm -rf /" not found', None),  # not an object name: nothing named
        ("couldn't find key K in ConfigMap shop/" + "a" * 300, None),
        ("dial tcp db:5432: connection refused", None),
    ],
)
def test_the_configmap_or_secret_an_error_says_is_missing(text: str, named: ConfigRef | None) -> None:
    assert config_named(text, "shop") == named


def test_a_hostile_message_names_a_config_only_in_its_scanned_prefix() -> None:
    assert config_named("x" * 5000 + ' secret "db" not found', "shop") is None
    assert config_named('secret "' + '"' * 10000, "shop") is None


@pytest.mark.parametrize(
    "text",
    [
        "couldn't find key token in Secret kube-system/admin-token",
        "couldn't find key DATABASE_URL in ConfigMap other-team/app-config",
        'secret "kube-system/admin-token" not found',  # not an object name either
    ],
)
def test_a_config_of_another_namespace_is_never_named(text: str) -> None:
    # A Pod can only use its own namespace's ConfigMaps and Secrets: a text naming another namespace's is not
    # the kubelet's, and the operator neither names that object nor suggests a patch for it.
    assert config_named(text, "shop") is None


def test_a_config_of_the_targets_own_namespace_is_named() -> None:
    text = "couldn't find key token in Secret kube-system/admin-token"
    assert config_named(text, "kube-system") == ConfigRef("Secret", "admin-token", "token")


@pytest.mark.parametrize("error_type", ["app_crash", "dependency_error", "config_issue", "timeout", "oom"])
@pytest.mark.parametrize("action", ["rollback", "restart_pod", "scale_up", "update_config", "increase_memory"])
@pytest.mark.parametrize("signals", [ALL_CRASHING, CRASHING_ONE_OF_THREE, PENDING])
def test_a_claimed_unschedulable_family_never_keeps_what_the_other_rules_replace(
    error_type: str, action: str, signals: PodSignals
) -> None:
    # The claim is the writer's word: with it the finding is the same as without it, or notify.
    for rollout in (RECENT, None, Rollout(1, 30, True)):
        plain = support(error_type, action, ActionEvidence(signals, rollout=rollout))
        claimed = support(error_type, action, ActionEvidence(signals, rollout=rollout, family="unschedulable"))
        assert claimed == plain or claimed.action == "notify", (plain, claimed)
        if plain.action == "notify":
            assert claimed.action == "notify", (plain, claimed)


def test_scale_up_needs_saturated_replicas() -> None:
    hot = ActionEvidence(CRASHING_ONE_OF_THREE, saturation=Saturation(2, 2, "web-1 app cpu 980m of 1000m"))
    assert support("timeout", "scale_up", hot).action == "scale_up"
    one_of_four = ActionEvidence(CRASHING_ONE_OF_THREE, saturation=Saturation(4, 1, "web-1 app cpu 980m of 1000m"))
    assert support("timeout", "scale_up", one_of_four).action == "notify"


def test_a_timeout_without_saturation_notifies_naming_the_dependency() -> None:
    found = support("timeout", "scale_up", ActionEvidence(CRASHING_ONE_OF_THREE, dependency="payments:8443"))
    assert found.action == "notify" and found.replaced is not None and found.replaced.code == "NoSaturation"
    assert "payments:8443" in found.replaced.message and "no usage from metrics.k8s.io" in found.evidence


def test_readiness_failing_everywhere_under_a_timeout_is_load() -> None:
    unready = PodSignals(pods=3, ready=0, families=frozenset({"notready"}))
    assert support("timeout", "scale_up", ActionEvidence(unready)).action == "scale_up"
    assert support("app_crash", "scale_up", ActionEvidence(unready)).action == "notify"


def test_restart_helps_a_stuck_minority_not_a_workload_failing_everywhere() -> None:
    assert support("app_crash", "restart_pod", ActionEvidence(CRASHING_ONE_OF_THREE)).gate is None
    gated = support("app_crash", "restart_pod", ActionEvidence(ALL_CRASHING)).gate
    assert gated is not None and gated.code == "AllReplicasFailing"
    hung = PodSignals(pods=2, ready=0, families=frozenset({"notready"}))
    assert support("probe_failure", "restart_pod", ActionEvidence(hung)).gate is None


def test_a_dependency_error_notifies_unless_other_replicas_are_fine_and_the_action_is_a_restart() -> None:
    e = ActionEvidence(CRASHING_ONE_OF_THREE, dependency="redis-master:6379")
    assert support("dependency_error", "restart_pod", e).action == "restart_pod"
    moved = support("dependency_error", "rollback", e)
    assert moved.action == "notify" and moved.replaced is not None and "redis-master:6379" in moved.replaced.message
    assert support("dependency_error", "restart_pod", ActionEvidence(ALL_CRASHING)).action == "notify"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("dial tcp 10.96.0.12:5432: connect: connection refused", "10.96.0.12:5432"),
        (
            'Get "http://payments.shop.svc.cluster.local:8080/v1/charge": context deadline exceeded',
            "payments.shop.svc.cluster.local:8080",
        ),
        ("Connection to node -1 (kafka-0.kafka-headless/10.1.2.3:9092) could not be established", "10.1.2.3:9092"),
        ("Error: connect ECONNREFUSED redis-master:6379", "redis-master:6379"),
        ("panic: runtime error: index out of range [3] with length 3", None),
        ("at line 12:34 of main.go", None),
    ],
)
def test_the_dependency_named_in_an_error(text: str, named: str | None) -> None:
    assert dependency_named(text) == named


def _rs(rev: int, created: str, hash_: str) -> dict:
    rs = replicaset(revision=rev, hash_=hash_, image=f"registry.example/web:{rev}")
    rs["metadata"]["creationTimestamp"] = created
    return rs


def test_rollout_is_read_from_replicasets_and_the_failing_pods_template_hash() -> None:
    replicasets = [_rs(6, "2024-04-01T08:00:00Z", "aaa"), _rs(7, "2024-05-01T11:58:00Z", "bbb")]
    failing = pod("web-2", [crashloop_status()], ready=False, hash_="bbb")
    rollout = rollout_of(replicasets, [pod("web-1", hash_="aaa"), failing], T0)
    assert rollout is not None
    assert (rollout.revision, rollout.previous_revision, rollout.failing_on_newest) == (7, 6, True)
    assert rollout.age_seconds == 120 and rollout.previous_newest_seconds == 30 * 86400 + 3 * 3600 + 58 * 60
    old_failure = pod("web-3", [crashloop_status()], ready=False, hash_="aaa")
    assert rollout_of(replicasets, [old_failure], T0 + timedelta(minutes=5)).failing_on_newest is False  # type: ignore[union-attr]
    assert rollout_of([], [failing], T0) is None


def test_saturation_counts_ready_replicas_near_their_limits() -> None:
    pods = [pod("web-1"), pod("web-2"), pod("web-3", [crashloop_status()], ready=False)]
    usage = {"web-1": {"app": (480, 10 * 2**20)}, "web-2": {"app": (100, 250 * 2**20)}, "web-3": {"app": (0, 0)}}
    s = saturation_of(pods, usage)  # builders: cpu limit 500m, memory limit 256Mi
    assert s is not None and (s.ready, s.saturated) == (2, 2)
    assert "web-1 app cpu 480m of 500m" in s.busiest or "web-2 app memory" in s.busiest
    assert saturation_of(pods, None) is None and saturation_of(pods, {}) is None


def test_a_timeout_the_model_would_fix_by_config_follows_the_replicas() -> None:
    hot = ActionEvidence(CRASHING_ONE_OF_THREE, saturation=Saturation(2, 2, "web-1 app memory 60Mi of 64Mi"))
    found = support("timeout", "update_config", hot)
    assert found.action == "scale_up" and found.replaced is not None and found.replaced.code == "Saturated"
    calm = support("timeout", "update_config", ActionEvidence(CRASHING_ONE_OF_THREE, dependency="db:5432"))
    assert calm.action == "notify" and calm.replaced is not None and "db:5432" in calm.replaced.message
    assert support("config_issue", "update_config", ActionEvidence(CRASHING_ONE_OF_THREE)).action == "update_config"


def test_a_hostile_message_is_scanned_only_as_far_as_a_real_error_names_its_dependency() -> None:
    assert dependency_named("a." * 10000) is None
    assert dependency_named("dial tcp db:5432: refused " + "a." * 10000) == "db:5432"
    assert dependency_named("a" * 5000 + " dial tcp db:5432: refused") is None  # past the scanned prefix
