"""Notifications out, end to end: the operator on the local control plane, a real Alertmanager (pinned, built
from Go modules) whose route delivers to a webhook receiver in this process, and a generic webhook sink.

- a failing workload's PendingApproval fires in Alertmanager and reaches the route's receiver; approved and
  verified (Succeeded), the alert resolves; the webhook gets one message per state;
- a Failed (undone) remediation fires RemediationFailed until a person judges it;
- both sinks down: status keeps the notification pending (attempts, lastError, metric), other Remediations
  still progress, an operator restart loses nothing, and once the sinks are back each state is delivered
  exactly once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fixtures.alertmanager import AlertmanagerServer, WebhookReceiver
from tests.fixtures.operator import OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
PENDING = "RemediationPendingApproval"


def sinks_env(am: AlertmanagerServer, hook: WebhookReceiver, **extra: str) -> dict[str, str]:
    return {
        "REMEDIATOR_ALERTMANAGER_URLS": am.url,
        "REMEDIATOR_WEBHOOK_URLS": hook.url,
        "REMEDIATOR_NOTIFY_RESEND_SECONDS": "2",
        "REMEDIATOR_NOTIFY_RETRY_MAX_SECONDS": "2",
        "REMEDIATOR_NOTIFY_POLL_SECONDS": "0.5",
        "REMEDIATOR_NOTIFY_TIMEOUT_SECONDS": "2",
        "REMEDIATOR_RUNBOOK_URL": "https://runbooks.example/kube-remediator",
        **extra,
    }


def messages(hook: WebhookReceiver, remediation: str, state: str | None = None) -> list[dict[str, Any]]:
    return [
        m
        for m in hook.received()
        if m.get("labels", {}).get("remediation") == remediation and (state is None or m.get("state") == state)
    ]


def note(ops: Ops, name: str) -> dict[str, Any]:
    rem = ops.get("remediations", name) or {}
    return dict((rem.get("status") or {}).get("notification") or {})


def the_remediation(ops: Ops, target: str) -> dict[str, Any]:
    return wait_for(
        lambda: next((r for r in ops.items("remediations") if r["spec"]["target"]["name"] == target), None),
        40,
        f"a Remediation of {target}",
    )


def metric(text: str, name: str, sink: str) -> float:
    m = re.search(rf'^{name}\{{sink="{sink}"\}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_pending_approval_fires_in_alertmanager_and_resolves_when_verified(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    alertmanager: AlertmanagerServer,
    webhook_sink: WebhookReceiver,
) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)
    run_operator(namespace, env=sinks_env(alertmanager, webhook_sink))
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    rem = the_remediation(ops, "hungry")
    name = rem["metadata"]["name"]
    ops.wait_phase("remediations", name, "PendingApproval", timeout=40)

    firing = wait_for(lambda: alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the alert in Alertmanager")
    check(len(firing) == 1, firing)
    alert = firing[0]
    labels = alert["labels"]
    check(
        labels["namespace"] == namespace
        and labels["workload"] == "hungry"
        and labels["action"] == "increase_memory"
        and labels["error_type"] == "oom"
        and labels["severity"] == "warning",
        labels,
    )
    check(alert["status"]["state"] == "active", alert["status"])
    ann = alert["annotations"]
    check(f"-n {namespace} remediation {name} remediator.dev/approve=true" in ann["approve"], ann)
    check("OOMKilled" in ann["description"], ann["description"])
    check(ann["runbook_url"] == "https://runbooks.example/kube-remediator#remediationpendingapproval", ann)
    # ... and it reached the team's receiver through Alertmanager's route.
    routed = wait_for(lambda: alertmanager.notified(alertname=PENDING, remediation=name), 20, "the routed alert")
    check(routed[0]["status"] == "firing", routed[0])
    fired = wait_for(lambda: messages(webhook_sink, name, "firing"), 20, "the webhook's firing message")
    check(fired[0]["text"].startswith(":warning: *increase_memory of") and fired[0]["approve"], fired[0])
    token = f"{PENDING}:firing"

    def recorded() -> dict[str, Any] | None:  # a sink's delivery is written to status right after its 2xx
        status = note(ops, name)
        sinks = status.get("sinks") or {}
        sent = [(sinks.get(s) or {}).get("sent") for s in ("alertmanager", "webhook-0")]
        return status if sent == [token, token] else None

    status = wait_for(recorded, 20, "both deliveries recorded in status")
    check(status["alert"] == PENDING and status["state"] == "firing", status)

    ops.approve(name)
    done = ops.wait_phase("remediations", name, *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    wait_for(lambda: not alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the alert to resolve")
    wait_for(
        lambda: [a for a in alertmanager.notified(alertname=PENDING, remediation=name) if a["status"] == "resolved"],
        30,
        "the resolution routed to the receiver",
    )
    wait_for(lambda: messages(webhook_sink, name, "resolved"), 20, "the webhook's resolved message")
    holds_for(lambda: len(messages(webhook_sink, name)) == 2, 4, "one webhook message per state (firing, resolved)")
    ids = [m["id"] for m in messages(webhook_sink, name)]
    check(len(set(ids)) == 2, ids)
    final = note(ops, name)
    check(final["state"] == "resolved" and final["sinks"]["alertmanager"]["sent"] == f"{PENDING}:resolved", final)


def test_failed_remediation_fires_until_a_person_judges_it(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    alertmanager: AlertmanagerServer,
    webhook_sink: WebhookReceiver,
) -> None:
    # increase_memory of a 32Mi OOM-ing Deployment to 48Mi still OOMs in the simulation: verification fails,
    # the change is undone, the Remediation is Failed.
    ops.policy(autoApplyThreshold=0.0, **FAST)
    run_operator(namespace, env=sinks_env(alertmanager, webhook_sink))
    ops.deployment("hungry", 1, fail="oom", memory="32Mi")
    name = the_remediation(ops, "hungry")["metadata"]["name"]
    done = ops.wait_phase("remediations", name, *FINAL, timeout=90)
    check(done["status"]["phase"] == "Failed", done["status"])
    firing = wait_for(
        lambda: alertmanager.alerts(alertname="RemediationFailed", remediation=name), 30, "RemediationFailed"
    )
    check(firing[0]["labels"]["severity"] == "critical", firing[0]["labels"])
    # Fired at Undoing already; re-posted with the same labels, the alert is updated to the final phase.
    updated = wait_for(
        lambda: [
            a
            for a in alertmanager.alerts(alertname="RemediationFailed", remediation=name)
            if a["annotations"].get("phase") == "Failed"
        ],
        20,
        "the alert updated to Failed",
    )
    check("Undone" in updated[0]["annotations"]["description"], updated[0]["annotations"])
    check(len(alertmanager.alerts(remediation=name)) == 1, alertmanager.alerts(remediation=name))
    wait_for(lambda: alertmanager.notified(alertname="RemediationFailed", remediation=name), 20, "the routed alert")
    holds_for(
        lambda: bool(alertmanager.alerts(alertname="RemediationFailed", remediation=name)),
        5,
        "the alert keeps firing (re-posted with endsAt ahead) while nobody judged it",
    )
    ops.cluster.kubectl(
        "annotate",
        "-n",
        namespace,
        "--overwrite",
        "remediation",
        name,
        "remediator.dev/feedback=correct",
        f"remediator.dev/feedback-by={ops.me}",
    )
    wait_for(lambda: not alertmanager.alerts(alertname="RemediationFailed", remediation=name), 30, "judged: resolved")
    wait_for(lambda: messages(webhook_sink, name, "resolved"), 20, "the webhook's resolved message")
    check(len(messages(webhook_sink, name, "firing")) == 1, messages(webhook_sink, name))


def test_sinks_down_keep_it_pending_block_nothing_and_deliver_once_after_a_restart(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    alertmanager: AlertmanagerServer,
    webhook_sink: WebhookReceiver,
) -> None:
    ops.policy(autoApplyThreshold=1.0, **FAST)
    alertmanager.stop()
    webhook_sink.down = True
    op = run_operator(namespace, env=sinks_env(alertmanager, webhook_sink))
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    name = the_remediation(ops, "hungry")["metadata"]["name"]
    ops.wait_phase("remediations", name, "PendingApproval", timeout=40)

    def failing() -> dict[str, Any] | None:
        n = note(ops, name)
        sinks = n.get("sinks") or {}
        am, hook = sinks.get("alertmanager") or {}, sinks.get("webhook-0") or {}
        ok = am.get("attempts", 0) >= 2 and hook.get("attempts", 0) >= 2 and "sent" not in am and "sent" not in hook
        return n if ok else None

    pending = wait_for(failing, 30, "failed attempts recorded in status")
    check(pending["state"] == "firing" and pending["alert"] == PENDING, pending)
    check("unreachable" in pending["sinks"]["alertmanager"]["lastError"], pending)
    check("503" in pending["sinks"]["webhook-0"]["lastError"], pending)
    check(webhook_sink.url not in str(pending) and alertmanager.url not in str(pending), "a sink URL in status")
    text = op.metrics()
    check(metric(text, "remediator_notifications_pending", "alertmanager") >= 1, text[-2000:])
    check(metric(text, "remediator_notification_failures_total", "webhook-0") >= 2, text[-2000:])

    # The reconcile loop is not blocked: another Remediation goes through approval, apply and verification.
    ops.deployment("other", 1, memory="64Mi")
    ops.running_pods("other", 1)
    ops.remediation("grow-other", "other", "increase_memory", error_type="oom", confidence=0.5, approve=True)
    other = ops.wait_phase("remediations", "grow-other", *FINAL, timeout=60)
    check(other["status"]["phase"] == "Succeeded", other["status"])

    # A restart while the sinks are still down loses nothing.
    op.stop()
    op.start()
    wait_for(
        lambda: note(ops, name)["sinks"]["alertmanager"]["attempts"] > pending["sinks"]["alertmanager"]["attempts"],
        30,
        "retries after the restart",
    )
    check("sent" not in note(ops, name)["sinks"]["alertmanager"], note(ops, name))

    alertmanager.start()
    webhook_sink.down = False
    wait_for(lambda: alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the alert after the sink returned")
    wait_for(lambda: messages(webhook_sink, name, "firing"), 30, "the webhook message after the sink returned")
    wait_for(lambda: alertmanager.notified(alertname=PENDING, remediation=name), 20, "the routed alert")
    holds_for(lambda: len(messages(webhook_sink, name)) == 1, 5, "exactly one message for the firing state")
    # The other Remediation was approved and succeeded while nobody could be told: it is not announced late.
    check(not messages(webhook_sink, "grow-other"), messages(webhook_sink, "grow-other"))
    check(not alertmanager.alerts(remediation="grow-other"), alertmanager.alerts(remediation="grow-other"))
    delivered = note(ops, name)["sinks"]
    check(delivered["alertmanager"]["attempts"] == 0 and "lastError" not in delivered["alertmanager"], delivered)

    ops.approve(name)
    done = ops.wait_phase("remediations", name, *FINAL, timeout=60)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    wait_for(lambda: not alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the alert to resolve")
    wait_for(lambda: messages(webhook_sink, name, "resolved"), 20, "the resolved message")
    holds_for(lambda: len(messages(webhook_sink, name)) == 2, 4, "exactly one message per state")
    firing_alerts = {a["fingerprint"] for a in alertmanager.notified(alertname=PENDING, remediation=name)}
    check(len(firing_alerts) == 1, f"one alert (one fingerprint) per incident: {firing_alerts}")


def test_only_the_acting_replica_notifies_and_a_paused_one_reposts_nothing(
    run_operator: OperatorFactory,
    ops: Ops,
    namespace: str,
    alertmanager: AlertmanagerServer,
    webhook_sink: WebhookReceiver,
) -> None:
    """A replica that acted and is then outranked keeps kopf's index as it was when it paused: were it to go on
    sending, it would re-post the firing alert the acting replica has resolved since."""
    ops.policy(autoApplyThreshold=1.0, **FAST)
    env = sinks_env(alertmanager, webhook_sink)
    first = run_operator(namespace, peering="shared", priority=100, env=env)
    ops.deployment("hungry", 1, fail="oom", memory="64Mi")
    name = the_remediation(ops, "hungry")["metadata"]["name"]
    ops.wait_phase("remediations", name, "PendingApproval", timeout=40)
    wait_for(lambda: messages(webhook_sink, name, "firing"), 30, "the firing message")
    wait_for(lambda: alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the firing alert")

    second = run_operator(namespace, peering="shared", priority=200, env=env)
    wait_for(lambda: "Pausing operations in favour of" in first.log(), 30, "the first replica to pause")
    ops.approve(name)
    done = ops.wait_phase("remediations", name, *FINAL, timeout=90)
    check(done["status"]["phase"] == "Succeeded", done["status"])
    wait_for(lambda: messages(webhook_sink, name, "resolved"), 40, "the resolved message")
    wait_for(lambda: not alertmanager.alerts(alertname=PENDING, remediation=name), 30, "the alert to resolve")
    holds_for(
        lambda: not alertmanager.alerts(alertname=PENDING, remediation=name) and len(messages(webhook_sink, name)) == 2,
        8,
        "the resolved alert stays resolved (the paused replica re-posts nothing) and one message per state",
    )

    # The acting replica dies: the paused one takes over and notifies the next incident.
    second.kill()
    ops.deployment("thirsty", 1, fail="oom", memory="64Mi")
    other = the_remediation(ops, "thirsty")["metadata"]["name"]
    ops.wait_phase("remediations", other, "PendingApproval", timeout=60)
    wait_for(lambda: messages(webhook_sink, other, "firing"), 40, "the next incident's message after the takeover")
    holds_for(lambda: len(messages(webhook_sink, other)) == 1, 4, "one message")


def test_notify_reaches_a_webhook_only_setup_until_judged(
    run_operator: OperatorFactory, ops: Ops, namespace: str, webhook_sink: WebhookReceiver
) -> None:
    """A webhook is enough (no Alertmanager); a notify's hostile note arrives neutralised."""
    env = {
        "REMEDIATOR_WATCH_CLUSTER": "false",
        "REMEDIATOR_WEBHOOK_URLS": webhook_sink.url,
        "REMEDIATOR_NOTIFY_POLL_SECONDS": "0.5",
    }
    run_operator(namespace, env=env)
    ops.deployment("legacy", 1, memory="128Mi")
    ops.remediation(
        "tell-someone",
        "legacy",
        "notify",
        error_type="permission_denied",
        parameters={"note": "<!channel> the service account lacks get on secrets \x1b[31m"},
    )
    done = ops.wait_phase("remediations", "tell-someone", *FINAL, timeout=30)
    check(done["status"]["reason"] == "NotifiedHuman", done["status"])
    [msg] = wait_for(lambda: messages(webhook_sink, "tell-someone", "firing"), 20, "the notify message")
    check(msg["alert"] == "RemediationNotify" and msg["severity"] == "warning", msg)
    check("lacks get on secrets" in msg["text"] and "<!channel>" not in msg["text"], msg["text"])
    check("&lt;!channel&gt;" in msg["text"] and "\x1b" not in msg["text"], msg["text"])
    check(set(note(ops, "tell-someone")["sinks"]) == {"webhook-0"}, note(ops, "tell-someone"))
    ops.cluster.kubectl(
        "annotate",
        "-n",
        namespace,
        "--overwrite",
        "remediation",
        "tell-someone",
        "remediator.dev/feedback=correct",
        f"remediator.dev/feedback-by={ops.me}",
    )
    wait_for(lambda: messages(webhook_sink, "tell-someone", "resolved"), 20, "resolved once judged")
    holds_for(lambda: len(messages(webhook_sink, "tell-someone")) == 2, 3, "one message per state")
