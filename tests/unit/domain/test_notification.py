"""Which notification a Remediation needs (a pure function of phase, reasons, judgments and time) and what
its alert and webhook message say, including what a hostile ErrorEvent text can and cannot do to them."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from remediator.domain import notification as dn
from remediator.domain.notification import FIRING, RESOLVED, Notice

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TS = "2024-05-01T12:00:00Z"
HOLD = timedelta(hours=1)
ROOT = pathlib.Path(__file__).resolve().parents[3]


def rem(phase: str | None = None, **status: Any) -> dict[str, Any]:
    st: dict[str, Any] = dict(status)
    if phase is not None:
        st["phase"] = phase
    return {
        "metadata": {"name": "grow-web", "namespace": "shop", "uid": "u-1"},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.82,
            "explanation": "OOMKilled 3 times",
        },
        "status": st,
    }


def want(r: dict[str, Any], now: datetime = T0) -> Notice | None:
    return dn.desired(r["spec"], r["status"], now=now, hold=HOLD)


def with_record(r: dict[str, Any], notice: Notice, **sinks: str) -> dict[str, Any]:
    r["status"]["notification"] = {
        **dn.record(notice, T0),
        "sinks": {k.replace("_", "-"): {"sent": v} for k, v in sinks.items()},
    }
    return r


# -- the desired notification ----------------------------------------------------------------------------
@pytest.mark.parametrize("phase", [None, "Proposed", "Approved", "Applying", "Verifying", "Succeeded", "Rejected"])
def test_nothing_to_tell_when_nothing_fired(phase: str | None) -> None:
    assert want(rem(phase)) is None


def test_pending_approval_fires() -> None:
    assert want(rem("PendingApproval")) == Notice(dn.PENDING_APPROVAL, FIRING)


@pytest.mark.parametrize("phase", ["Approved", "Applying", "Verifying", "Succeeded", "Rejected", "Expired"])
def test_leaving_pending_approval_resolves_its_alert(phase: str) -> None:
    r = with_record(rem(phase), Notice(dn.PENDING_APPROVAL, FIRING))
    assert want(r) == Notice(dn.PENDING_APPROVAL, RESOLVED)


@pytest.mark.parametrize("phase", ["Undoing", "Failed"])
def test_failure_and_undo_fire_the_failed_alert(phase: str) -> None:
    assert want(rem(phase, completedAt=TS)) == Notice(dn.FAILED, FIRING)


def test_notify_and_escalation_have_their_own_alerts() -> None:
    notify = rem("Skipped", reason="NotifiedHuman", reasons=["NotifyOnly"], completedAt=TS)
    escalated = rem("Skipped", reason="NotifiedHuman", reasons=["EscalatedAfterFailures"], completedAt=TS)
    assert want(notify) == Notice(dn.NOTIFY, FIRING)
    assert want(escalated) == Notice(dn.ESCALATED, FIRING)
    assert dn.SEVERITY[dn.ESCALATED] == "critical" and dn.SEVERITY[dn.NOTIFY] == "warning"


def test_other_skips_tell_nobody() -> None:
    assert want(rem("Skipped", reason="DryRun", completedAt=TS)) is None


def test_a_final_alert_fires_until_a_person_judges_it() -> None:
    r = with_record(rem("Failed", completedAt=TS), Notice(dn.FAILED, FIRING))
    assert want(r, T0 + timedelta(minutes=5)) == Notice(dn.FAILED, FIRING)
    r["status"]["judgments"] = [{"by": "alice", "label": "incorrect"}]
    assert want(r, T0 + timedelta(minutes=5)) == Notice(dn.FAILED, RESOLVED)


def test_a_final_alert_resolves_when_its_hold_passes() -> None:
    r = with_record(rem("Failed", completedAt=TS), Notice(dn.FAILED, FIRING))
    assert want(r, T0 + HOLD - timedelta(seconds=1)) == Notice(dn.FAILED, FIRING)
    assert want(r, T0 + HOLD) == Notice(dn.FAILED, RESOLVED)


def test_an_old_failure_never_notified_stays_silent() -> None:
    """A Remediation that failed before the hold (e.g. before an upgrade) is not announced late."""
    assert want(rem("Failed", completedAt=TS), T0 + HOLD * 2) is None


def test_pending_approval_then_failed_switches_alert() -> None:
    r = with_record(rem("Failed", completedAt=TS), Notice(dn.PENDING_APPROVAL, FIRING))
    assert want(r) == Notice(dn.FAILED, FIRING)


def test_judged_failure_resolves_the_alert_that_was_recorded() -> None:
    r = with_record(rem("Failed", completedAt=TS, judgments=[{"by": "bob"}]), Notice(dn.PENDING_APPROVAL, FIRING))
    assert want(r) == Notice(dn.PENDING_APPROVAL, RESOLVED)


# -- what each sink still has to take --------------------------------------------------------------------
SINKS = ["alertmanager", "webhook-0"]


def test_every_sink_takes_a_new_notice_once() -> None:
    notice = Notice(dn.PENDING_APPROVAL, FIRING)
    r = with_record(rem("PendingApproval"), notice)
    assert dn.unsent(notice, r["status"], SINKS) == SINKS
    r = with_record(rem("PendingApproval"), notice, alertmanager=notice.token)
    assert dn.unsent(notice, r["status"], SINKS) == ["webhook-0"]
    r = with_record(rem("PendingApproval"), notice, alertmanager=notice.token, webhook_0=notice.token)
    assert dn.unsent(notice, r["status"], SINKS) == []


def test_a_resolution_goes_only_where_something_fires() -> None:
    fired = Notice(dn.PENDING_APPROVAL, FIRING)
    resolved = Notice(dn.PENDING_APPROVAL, RESOLVED)
    r = with_record(rem("Succeeded"), resolved, alertmanager=fired.token)  # the webhook never had it
    assert dn.unsent(resolved, r["status"], SINKS) == ["alertmanager"]
    r = with_record(rem("Succeeded"), resolved, alertmanager=Notice(dn.FAILED, RESOLVED).token)
    assert dn.unsent(resolved, r["status"], SINKS) == []


def test_needs_attention_while_firing_or_unsent() -> None:
    notice = Notice(dn.PENDING_APPROVAL, FIRING)
    done = Notice(dn.PENDING_APPROVAL, RESOLVED)
    firing = with_record(rem("PendingApproval"), notice, alertmanager=notice.token, webhook_0=notice.token)
    settled = with_record(rem("Succeeded"), done, alertmanager=done.token, webhook_0=done.token)
    unrecorded = rem("Approved")
    assert dn.needs_attention(firing, SINKS, now=T0, hold=HOLD)
    assert not dn.needs_attention(settled, SINKS, now=T0, hold=HOLD)
    assert not dn.needs_attention(unrecorded, SINKS, now=T0, hold=HOLD)
    assert dn.needs_attention(
        with_record(rem("Succeeded"), notice, alertmanager=notice.token), SINKS, now=T0, hold=HOLD
    )


def test_recorded_patch_is_written_with_the_phase_and_only_on_change() -> None:
    r = rem("Proposed")
    patch = dn.recorded_patch(r, {"phase": "PendingApproval"}, T0)
    assert patch == {"alert": dn.PENDING_APPROVAL, "state": FIRING, "changedAt": TS}
    r["status"]["notification"] = patch
    assert dn.recorded_patch(r, {"phase": "PendingApproval", "reason": "Again"}, T0) is None
    assert dn.recorded_patch(r, {"phase": "Approved"}, T0) == {
        "alert": dn.PENDING_APPROVAL,
        "state": RESOLVED,
        "changedAt": TS,
    }


def test_notice_tokens_round_trip_and_garbage_is_none() -> None:
    n = Notice(dn.FAILED, RESOLVED)
    assert Notice.parse(n.token) == n
    for junk in (None, "", "x", "RemediationFailed:maybe", "Other:firing", 7):
        assert Notice.parse(junk) is None


# -- payloads --------------------------------------------------------------------------------------------
def test_alertmanager_alert_shape() -> None:
    r = with_record(
        rem("PendingApproval", reason="BelowThreshold", evidence=["OOMKilled x3"]), Notice(dn.PENDING_APPROVAL, FIRING)
    )
    [alert] = dn.alertmanager_batch(
        r, Notice(dn.PENDING_APPROVAL, FIRING), None, now=T0, ends_in=timedelta(minutes=3), runbook_url="https://rb"
    )
    assert alert["labels"] == {
        "alertname": "RemediationPendingApproval",
        "namespace": "shop",
        "workload": "web",
        "kind": "Deployment",
        "remediation": "grow-web",
        "action": "increase_memory",
        "error_type": "oom",
        "severity": "warning",
    }
    assert alert["endsAt"] == "2024-05-01T12:03:00Z" and alert["startsAt"] == TS
    ann = alert["annotations"]
    assert "waits for approval" in ann["summary"]
    assert "OOMKilled x3" in ann["description"] and "confidence 0.82" in ann["description"]
    assert ann["approve"].startswith("kubectl annotate -n shop remediation grow-web remediator.dev/approve=true")
    assert ann["runbook_url"] == "https://rb#remediationpendingapproval"


def test_switching_alerts_resolves_the_old_one_in_the_same_post() -> None:
    r = rem("Failed", completedAt=TS)
    batch = dn.alertmanager_batch(
        r, Notice(dn.FAILED, FIRING), Notice(dn.PENDING_APPROVAL, FIRING), now=T0, ends_in=timedelta(minutes=3)
    )
    assert [(a["labels"]["alertname"], a["endsAt"]) for a in batch] == [
        (dn.PENDING_APPROVAL, TS),
        (dn.FAILED, "2024-05-01T12:03:00Z"),
    ]
    assert batch[1]["labels"]["severity"] == "critical"


def test_resolved_alert_ends_now_with_the_same_labels() -> None:
    r = rem("Succeeded")
    firing = dn.alertmanager_alert(
        r, Notice(dn.PENDING_APPROVAL, FIRING), now=T0, ends_in=HOLD, runbook_url="", generator=""
    )
    resolved = dn.alertmanager_alert(
        r, Notice(dn.PENDING_APPROVAL, RESOLVED), now=T0, ends_in=HOLD, runbook_url="", generator=""
    )
    assert firing["labels"] == resolved["labels"] and resolved["endsAt"] == TS
    assert "approve" not in resolved["annotations"] and resolved["annotations"]["summary"].startswith(
        "resolved, now Succeeded:"
    )


def test_webhook_message_shape() -> None:
    r = rem("PendingApproval", reason="BelowThreshold")
    msg = dn.webhook_message(r, Notice(dn.PENDING_APPROVAL, FIRING), now=T0)
    assert msg["text"].startswith(":warning: *increase_memory of shop/Deployment web (oom) waits for approval*")
    assert msg["id"] == "u-1:RemediationPendingApproval:firing"
    assert msg["state"] == FIRING and msg["alert"] == dn.PENDING_APPROVAL and msg["labels"]["remediation"] == "grow-web"
    assert msg["approve"] and msg["at"] == TS
    json.dumps(msg)  # serialisable as is


# -- the attacker's view: texts from an ErrorEvent --------------------------------------------------------
HOSTILE = (
    "<!channel> <@U123> <https://evil.example|click to approve> \r\nX-Injected: 1\r\n\x00\x1b[31m"
    "\u202egnp.exe\u2028" + "A" * 20000
)


def hostile_rem() -> dict[str, Any]:
    r = rem("PendingApproval", reason="BelowThreshold", message=HOSTILE, evidence=[HOSTILE] * 50)
    r["spec"]["explanation"] = HOSTILE
    r["spec"]["parameters"] = {"note": HOSTILE}
    return r


def test_hostile_texts_are_bounded_and_neutral_in_alerts() -> None:
    r = hostile_rem()
    [alert] = dn.alertmanager_batch(r, Notice(dn.PENDING_APPROVAL, FIRING), None, now=T0, ends_in=HOLD)
    assert len(json.dumps(alert)) < 16_000
    for text in alert["annotations"].values():
        assert "\r" not in text and "\x00" not in text and "\x1b" not in text and "\u202e" not in text
        assert "\u2028" not in text
    assert len(alert["annotations"]["description"]) <= dn.DESCRIPTION_MAX
    assert set(alert["labels"]) <= set(dn.LABEL_NAMES)  # no label from user text: no label explosion


def test_hostile_labels_cannot_be_made_from_metadata() -> None:
    r = hostile_rem()
    r["spec"]["target"]["name"] = "web\nseverity=none " + "x" * 500
    labels = dn.labels(r, dn.FAILED)
    assert labels["severity"] == "critical"
    assert all(len(v) <= dn.LABEL_MAX and " " not in v and "\n" not in v for v in labels.values())


def test_hostile_texts_cannot_ping_or_link_in_slack() -> None:
    msg = dn.webhook_message(hostile_rem(), Notice(dn.PENDING_APPROVAL, FIRING), now=T0)
    text = msg["text"]
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert len(text) <= dn.WEBHOOK_TEXT_MAX and "\r" not in text and "\x00" not in text
    assert len(json.dumps(msg)) < 16_000


def test_approve_command_cannot_be_broken_out_of() -> None:
    r = rem("PendingApproval")
    r["metadata"]["name"] = "x; rm -rf / #"
    cmd = dn.approve_command(r)
    assert ";" not in cmd.split("remediation ", 1)[1].split(" ")[0] and " rm " not in cmd


def test_the_crd_knows_every_alert_name() -> None:
    doc = yaml.safe_load((ROOT / "crds" / "remediations.remediator.dev.yaml").read_text())
    status = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    note = status["notification"]["properties"]
    assert tuple(note["alert"]["enum"]) == dn.ALERTS
    assert note["state"]["enum"] == [FIRING, RESOLVED]
    assert note["sinks"]["additionalProperties"]["properties"]["lastError"]["maxLength"] >= dn.ERROR_MAX
