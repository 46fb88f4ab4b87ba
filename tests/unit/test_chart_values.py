"""`helm template` of the chart (no cluster): the training CronJob needs a store, the learning-loop settings
reach both the operator and training, and each setting has one knob."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.helm import helm_template, rendered_objects

TRAINING_KINDS = {("CronJob", "kr-kube-remediator-training"), ("ServiceAccount", "kr-kube-remediator-training"),
                  ("NetworkPolicy", "kr-kube-remediator-training")}  # fmt: skip
STORES = {
    "bundled": ["mongodb.bundled.enabled=true"],
    "uri": ["mongodb.uri=mongodb://db.example:27017/remediator"],
    "ssm": ["mongodb.uri=ssm:///kube-remediator/mongodb/uri"],
    "secret": ["mongodb.existingSecret.name=mongo-uri"],
}
LEARNING = [
    "learning.logsBucket=acme-logs", "learning.logsPrefix=ee", "learning.modelsBucket=acme-ml",
    "learning.modelsPrefix=m", "learning.modelPollSeconds=120", "learning.retentionDays=14",
    "learning.feedbackRetrySeconds=5", "learning.s3EndpointUrl=http://minio.minio:9000", "aws.region=eu-west-1",
]  # fmt: skip
LEARNING_ENV = {
    "REMEDIATOR_LOGS_BUCKET": "acme-logs", "REMEDIATOR_LOGS_PREFIX": "ee", "REMEDIATOR_MODELS_BUCKET": "acme-ml",
    "REMEDIATOR_MODELS_PREFIX": "m", "REMEDIATOR_MODEL_POLL_SECONDS": "120", "REMEDIATOR_RETENTION_DAYS": "14",
    "REMEDIATOR_FEEDBACK_RETRY_SECONDS": "5", "REMEDIATOR_S3_ENDPOINT_URL": "http://minio.minio:9000",
    "AWS_REGION": "eu-west-1", "REMEDIATOR_AWS_REGION": "eu-west-1",
}  # fmt: skip


def _kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [obj] = [o for o in objects if o["kind"] == kind]
    return obj


def _env(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    obj = _one(objects, kind)
    pod = obj["spec"]["jobTemplate"]["spec"]["template"] if kind == "CronJob" else obj["spec"]["template"]
    [container] = pod["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_no_store_no_training() -> None:
    objects = rendered_objects()
    assert not TRAINING_KINDS & _kinds(objects)
    assert "REMEDIATOR_MONGODB_URI" not in _env(objects, "Deployment")


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_store_brings_training(store: str) -> None:
    objects = rendered_objects(*STORES[store])
    assert _kinds(objects) >= TRAINING_KINDS
    assert "REMEDIATOR_MONGODB_URI" in _env(objects, "CronJob")
    assert _env(objects, "CronJob")["REMEDIATOR_MONGODB_URI"] == _env(objects, "Deployment")["REMEDIATOR_MONGODB_URI"]


def test_training_enabled_false_wins_over_a_store() -> None:
    assert not TRAINING_KINDS & _kinds(rendered_objects("training.enabled=false", *STORES["bundled"]))


def test_learning_values_reach_operator_and_training_alike() -> None:
    objects = rendered_objects(*STORES["bundled"], *LEARNING)
    for kind in ("Deployment", "CronJob"):
        env = _env(objects, kind)
        assert {k: env.get(k) for k in LEARNING_ENV} == LEARNING_ENV, kind


def test_learning_defaults_match_the_operator_settings() -> None:
    from remediator.settings import Settings

    env = _env(rendered_objects(), "Deployment")
    defaults = Settings()
    assert env["REMEDIATOR_LOGS_PREFIX"] == defaults.logs_prefix
    assert env["REMEDIATOR_MODELS_PREFIX"] == defaults.models_prefix
    assert int(env["REMEDIATOR_MODEL_POLL_SECONDS"]) == defaults.model_poll_seconds
    assert int(env["REMEDIATOR_RETENTION_DAYS"]) == defaults.retention_days
    assert float(env["REMEDIATOR_FEEDBACK_RETRY_SECONDS"]) == defaults.feedback_retry_seconds
    # Unset buckets and endpoint render nothing (the operator reads "unset" as off).
    assert not {"REMEDIATOR_LOGS_BUCKET", "REMEDIATOR_MODELS_BUCKET", "REMEDIATOR_S3_ENDPOINT_URL"} & set(env)


def test_bundled_database_is_the_uri_path() -> None:
    env = _env(rendered_objects(*STORES["bundled"], "mongodb.bundled.database=feedback"), "Deployment")
    assert env["REMEDIATOR_MONGODB_URI"].split("?")[0].endswith(":27017/feedback")


def test_one_threshold_knob() -> None:
    objects = rendered_objects("json:defaultPolicy.autoApplyThreshold=0.75")
    assert _env(objects, "Deployment")["REMEDIATOR_THRESHOLD"] == "0.75"
    assert _one(objects, "RemediationPolicy")["spec"]["autoApplyThreshold"] == 0.75
    removed = helm_template("json:operator.threshold=0.8", check=False)
    assert removed.returncode != 0
    assert "defaultPolicy.autoApplyThreshold" in removed.stderr


def test_dry_run_the_kill_switch_and_the_policy_knob_are_separate() -> None:
    objects = rendered_objects("operator.dryRun=true")
    assert _env(objects, "Deployment")["REMEDIATOR_DRY_RUN"] == "true"
    assert _one(objects, "RemediationPolicy")["spec"]["dryRun"] is False
    objects = rendered_objects("defaultPolicy.dryRun=true")
    assert _env(objects, "Deployment")["REMEDIATOR_DRY_RUN"] == "false"
    assert _one(objects, "RemediationPolicy")["spec"]["dryRun"] is True


def test_the_default_policy_waits_for_its_crd_when_the_chart_installs_it() -> None:
    hook = _one(rendered_objects(), "RemediationPolicy")["metadata"]["annotations"]
    assert hook["helm.sh/hook"] == "post-install,post-upgrade"
    plain = _one(rendered_objects("crds.enabled=false"), "RemediationPolicy")["metadata"]
    assert "helm.sh/hook" not in (plain.get("annotations") or {})


@pytest.mark.parametrize(
    "bad", ["learning.retentionDays=0", "learning.logBucket=x", "learning.s3EndpointUrl=minio:9000", "crds.keepit=true"]
)
def test_the_schema_refuses_bad_learning_and_crds_values(bad: str) -> None:
    assert helm_template(bad, check=False).returncode != 0


# -- notifications (docs/notifications.md) ---------------------------------------------------------------------
NOTIFY_ENV = (
    "REMEDIATOR_ALERTMANAGER_URLS", "REMEDIATOR_WEBHOOK_URLS", "REMEDIATOR_NOTIFY_TIMEOUT_SECONDS",
    "REMEDIATOR_NOTIFY_RESEND_SECONDS", "REMEDIATOR_NOTIFY_RETRY_MAX_SECONDS", "REMEDIATOR_NOTIFY_HOLD_SECONDS",
    "REMEDIATOR_RUNBOOK_URL",
)  # fmt: skip


def _sink_egress(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "kr-kube-remediator"]
    return [r for r in policy["spec"]["egress"] if {"protocol": "TCP", "port": 9093} in r.get("ports", [])]


def test_no_sink_no_notification_env_and_no_egress() -> None:
    objects = rendered_objects()
    assert not set(NOTIFY_ENV) & set(_env(objects, "Deployment"))
    assert _sink_egress(objects) == []


def test_notification_values_reach_the_operator() -> None:
    objects = rendered_objects(
        "notifications.alertmanager.urls={http://am-0.monitoring:9093,http://am-1.monitoring:9093}",
        "notifications.webhook.urls={https://hooks.example/T1/abc}",
        "notifications.timeoutSeconds=3",
        "notifications.resendSeconds=30",
        "notifications.retryMaxSeconds=120",
        "notifications.holdSeconds=3600",
        "notifications.runbookUrl=https://runbooks.example/remediator",
    )
    env = _env(objects, "Deployment")
    assert env["REMEDIATOR_ALERTMANAGER_URLS"] == "http://am-0.monitoring:9093,http://am-1.monitoring:9093"
    assert env["REMEDIATOR_WEBHOOK_URLS"] == "https://hooks.example/T1/abc"
    assert (env["REMEDIATOR_NOTIFY_TIMEOUT_SECONDS"], env["REMEDIATOR_NOTIFY_RESEND_SECONDS"]) == ("3", "30")
    assert (env["REMEDIATOR_NOTIFY_RETRY_MAX_SECONDS"], env["REMEDIATOR_NOTIFY_HOLD_SECONDS"]) == ("120", "3600")
    assert env["REMEDIATOR_RUNBOOK_URL"] == "https://runbooks.example/remediator"
    [rule] = _sink_egress(objects)
    assert "to" not in rule and {"protocol": "TCP", "port": 443} in rule["ports"]
    # The operator reads what the chart renders.
    from remediator.settings import load

    settings = load(environ={k: v for k, v in env.items() if isinstance(v, str)})
    assert len(settings.alertmanager_urls) == 2 and settings.notify_hold_seconds == 3600


def test_webhook_urls_from_a_secret_and_egress_narrowed() -> None:
    objects = rendered_objects(
        "notifications.webhook.existingSecret.name=slack-hooks",
        'json:notifications.egress.to=[{"ipBlock": {"cidr": "203.0.113.0/24"}}]',
    )
    env = _env(objects, "Deployment")
    assert env["REMEDIATOR_WEBHOOK_URLS"] == {"secretKeyRef": {"name": "slack-hooks", "key": "urls"}}
    [rule] = _sink_egress(objects)
    assert rule["to"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]


def test_notification_defaults_match_the_operator_settings() -> None:
    from remediator.settings import Settings

    env = _env(rendered_objects("notifications.alertmanager.urls={http://am:9093}"), "Deployment")
    defaults = Settings()
    assert float(env["REMEDIATOR_NOTIFY_TIMEOUT_SECONDS"]) == defaults.notify_timeout_seconds
    assert float(env["REMEDIATOR_NOTIFY_RESEND_SECONDS"]) == defaults.notify_resend_seconds
    assert float(env["REMEDIATOR_NOTIFY_RETRY_MAX_SECONDS"]) == defaults.notify_retry_max_seconds
    assert int(env["REMEDIATOR_NOTIFY_HOLD_SECONDS"]) == defaults.notify_hold_seconds
    assert "REMEDIATOR_RUNBOOK_URL" not in env


@pytest.mark.parametrize(
    "bad",
    [
        "notifications.alertmanager.urls={am:9093}",
        "notifications.webhook.urls={file:///etc/passwd}",
        "notifications.webhook.urls={http://a b}",
        "notifications.timeoutSeconds=0",
        "notifications.holdSeconds=1",
        "notifications.runbookUrl=javascript:alert(1)",
        "notifications.webhook.token=x",
    ],
)
def test_the_schema_refuses_bad_notification_values(bad: str) -> None:
    assert helm_template(bad, check=False).returncode != 0
