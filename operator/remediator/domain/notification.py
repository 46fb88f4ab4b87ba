"""Which notification a Remediation needs, and what it says: pure functions of its spec and status.

One incident is one alert, named by what a human must do:

- ``RemediationPendingApproval`` (warning): PendingApproval, a change waits for a human's approval.
- ``RemediationFailed`` (critical): verification failed (Undoing) or the Remediation Failed.
- ``RemediationEscalated`` (critical): the action was downgraded to notify after repeated failures
  (EscalatedAfterFailures).
- ``RemediationNotify`` (warning): notify, nothing was changed, a human should look.

A PendingApproval alert resolves as soon as the Remediation leaves PendingApproval; Failed, Escalated and
Notify alerts are final phases a human must look at, so they fire until a person judges the Remediation
(``status.judgments``, i.e. feedback) or ``hold`` has passed since it completed. Every other phase resolves
what fired. The desired state is recorded in ``status.notification`` (``alert``, ``state``) with the phase,
and each sink's delivered state in ``status.notification.sinks.<sink>.sent`` ("<alert>:<state>") after the
sink took it: a sink whose ``sent`` differs from the desired token has something to send.

Texts come from user-controlled fields (an ErrorEvent's message becomes the explanation and evidence):
``neutral`` removes control characters and bounds every string, label values are bounded Kubernetes names
or enum values from a fixed set of label names, and ``slack_escape`` neutralises Slack's control sequences
(``<!channel>``, ``<@user>``, ``<url|text>`` links).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from remediator.domain import clock

PENDING_APPROVAL = "RemediationPendingApproval"
FAILED = "RemediationFailed"
ESCALATED = "RemediationEscalated"
NOTIFY = "RemediationNotify"
ALERTS = (PENDING_APPROVAL, FAILED, ESCALATED, NOTIFY)
FIRING, RESOLVED = "firing", "resolved"
SEVERITY = {PENDING_APPROVAL: "warning", FAILED: "critical", ESCALATED: "critical", NOTIFY: "warning"}

# Phases (strings, so the domain needs no import of the API contract).
_FINAL = frozenset({"Succeeded", "Failed", "Rejected", "Skipped", "Expired"})

# Bounds of everything a notification carries.
LABEL_MAX = 128
SUMMARY_MAX = 256
DESCRIPTION_MAX = 4000
EVIDENCE_ITEMS = 8
EVIDENCE_ITEM_MAX = 300
ERROR_MAX = 256
WEBHOOK_TEXT_MAX = 3000
LABEL_NAMES = ("alertname", "namespace", "workload", "kind", "remediation", "action", "error_type", "severity")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_LABEL_SAFE = re.compile(r"[^A-Za-z0-9._:/@+-]")


@dataclass(frozen=True)
class Notice:
    """The notification a Remediation needs now: an alert name and firing or resolved."""

    alert: str
    state: str

    @property
    def token(self) -> str:
        return f"{self.alert}:{self.state}"

    @classmethod
    def parse(cls, token: object) -> Notice | None:
        if not isinstance(token, str) or ":" not in token:
            return None
        alert, _, state = token.partition(":")
        if alert not in ALERTS or state not in (FIRING, RESOLVED):
            return None
        return cls(alert, state)


def recorded(status: Mapping[str, Any] | None) -> Notice | None:
    """The desired notification recorded in status (None when none was)."""
    note = (status or {}).get("notification") or {}
    if note.get("alert") in ALERTS and note.get("state") in (FIRING, RESOLVED):
        return Notice(str(note["alert"]), str(note["state"]))
    return None


def desired(
    spec: Mapping[str, Any], status: Mapping[str, Any] | None, *, now: datetime, hold: timedelta
) -> Notice | None:
    """The notification a Remediation with this spec and status needs now (None: nothing, ever)."""
    status = status or {}
    phase = status.get("phase")
    before = recorded(status)
    wanted: str | None = None
    if phase == "PendingApproval":
        wanted = PENDING_APPROVAL
    elif phase in ("Undoing", "Failed"):
        wanted = FAILED
    elif phase == "Skipped" and status.get("reason") == "NotifiedHuman":
        reasons = list(status.get("reasons") or [])
        wanted = ESCALATED if "EscalatedAfterFailures" in reasons else NOTIFY
    if wanted is not None and phase in _FINAL and _settled(status, now, hold):
        # A final alert a person has judged, or that nobody judged within `hold`: resolved, not repeated.
        return Notice(before.alert, RESOLVED) if before is not None else None
    if wanted is not None:
        return Notice(wanted, FIRING)
    if before is not None:  # anything else resolves what fired
        return Notice(before.alert, RESOLVED)
    return None


def _settled(status: Mapping[str, Any], now: datetime, hold: timedelta) -> bool:
    if status.get("judgments"):
        return True
    done = clock.parse_time(status.get("completedAt"))
    return done is not None and now - done >= hold


def sent(status: Mapping[str, Any] | None, sink: str) -> Notice | None:
    """What `sink` last took for this Remediation."""
    sinks = ((status or {}).get("notification") or {}).get("sinks") or {}
    return Notice.parse((sinks.get(sink) or {}).get("sent"))


def unsent(notice: Notice | None, status: Mapping[str, Any] | None, sinks: Sequence[str]) -> list[str]:
    """The configured sinks that have not taken `notice` yet. A resolution of something a sink never took
    (it was down the whole time) is nothing to send to it: there is nothing there to resolve."""
    if notice is None:
        return []
    out = []
    for sink in sinks:
        last = sent(status, sink)
        if last == notice:
            continue
        if notice.state == RESOLVED and (last is None or last.state == RESOLVED):
            continue  # nothing fires at this sink
        out.append(sink)
    return out


def record(notice: Notice, now: datetime) -> dict[str, Any]:
    """The status.notification patch that records `notice` as desired (sinks are left as they are)."""
    return {"alert": notice.alert, "state": notice.state, "changedAt": clock.format_time(now)}


def recorded_patch(rem: Mapping[str, Any], status_update: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """For the status writer: the ``notification`` patch a new status needs (None when unchanged). A phase
    just written has only now completed, so no hold has passed yet."""
    after = {**(rem.get("status") or {}), **status_update}
    notice = desired(rem.get("spec") or {}, after, now=now, hold=timedelta.max)
    if notice is None or notice == recorded(after):
        return None
    return record(notice, now)


def needs_attention(rem: Mapping[str, Any], sinks: Sequence[str], *, now: datetime, hold: timedelta) -> bool:
    """Whether the sender must look at `rem`: something to record or send, or an alert firing (re-posted to
    Alertmanager, and resolved once its hold passes)."""
    status = rem.get("status") or {}
    notice = desired(rem.get("spec") or {}, status, now=now, hold=hold)
    if notice is None:
        return False
    return notice.state == FIRING or notice != recorded(status) or bool(unsent(notice, status, sinks))


# -- texts -----------------------------------------------------------------------------------------------
def neutral(value: object, limit: int, *, newlines: bool = False) -> str:
    """`value` as a string without control or bidi characters (newlines kept only if asked), at most
    `limit` characters (cut with an ellipsis)."""
    text = "" if value is None else str(value)
    if not newlines:
        text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL.sub("", text).strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def label_value(value: object) -> str:
    """A label value: bounded, printable, no spaces (names and enum values pass unchanged)."""
    return _LABEL_SAFE.sub("_", neutral(value, LABEL_MAX))


def slack_escape(text: str) -> str:
    """Slack's escaping: &, < and > become entities, so no <!channel>, <@U123> or <url|text> survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def labels(rem: Mapping[str, Any], alert: str) -> dict[str, str]:
    """The alert's identity: a fixed set of label names; the same labels for the whole incident."""
    meta, spec = rem.get("metadata") or {}, rem.get("spec") or {}
    target = spec.get("target") or {}
    values = {
        "alertname": alert,
        "namespace": meta.get("namespace"),
        "workload": target.get("name"),
        "kind": target.get("kind"),
        "remediation": meta.get("name"),
        "action": spec.get("action"),
        "error_type": spec.get("errorType"),
        "severity": SEVERITY[alert],
    }
    return {k: label_value(v) for k, v in values.items() if v not in (None, "")}


def approve_command(rem: Mapping[str, Any]) -> str:
    meta = rem.get("metadata") or {}
    ns, name = label_value(meta.get("namespace")), label_value(meta.get("name"))
    return (
        f"kubectl annotate -n {ns} remediation {name} remediator.dev/approve=true "
        f"remediator.dev/approver=$(kubectl auth whoami -o jsonpath='{{.status.userInfo.username}}')"
    )


def summary(rem: Mapping[str, Any], notice: Notice) -> str:
    meta, spec = rem.get("metadata") or {}, rem.get("spec") or {}
    target = spec.get("target") or {}
    where = f"{meta.get('namespace')}/{target.get('kind')} {target.get('name')}"
    action, etype = spec.get("action"), spec.get("errorType")
    what = {
        PENDING_APPROVAL: f"{action} of {where} ({etype}) waits for approval",
        FAILED: f"{action} of {where} ({etype}) failed",
        ESCALATED: f"{where} keeps failing ({etype}): escalated to a human",
        NOTIFY: f"{where} needs a human ({etype})",
    }[notice.alert]
    if notice.state == RESOLVED:
        what = f"resolved, now {(rem.get('status') or {}).get('phase')}: {what}"
    return neutral(what, SUMMARY_MAX)


def description(rem: Mapping[str, Any], notice: Notice) -> str:
    """The evidence for a human: phase and reason, the model's explanation, what the operator checked."""
    spec, status = rem.get("spec") or {}, rem.get("status") or {}
    lines = [
        f"Remediation {neutral((rem.get('metadata') or {}).get('name'), LABEL_MAX)}: "
        f"{neutral(status.get('phase'), 32)} ({neutral(status.get('reason'), 64)})",
        neutral(status.get("message"), 1024),
    ]
    confidence = spec.get("confidence")
    if isinstance(confidence, (int, float)):
        lines.append(f"classified {neutral(spec.get('errorType'), 32)} with confidence {float(confidence):.2f}")
    if spec.get("explanation"):
        lines.append(f"explanation: {neutral(spec.get('explanation'), 1024)}")
    evidence = [neutral(e, EVIDENCE_ITEM_MAX) for e in list(status.get("evidence") or [])[:EVIDENCE_ITEMS]]
    lines += [f"- {e}" for e in evidence if e]
    note = (spec.get("parameters") or {}).get("note")
    if note:
        lines.append(f"note: {neutral(note, 1024)}")
    if notice.alert == PENDING_APPROVAL and notice.state == FIRING:
        lines.append(f"approve: {approve_command(rem)}")
    return neutral("\n".join(line for line in lines if line), DESCRIPTION_MAX, newlines=True)


def runbook(base: str, alert: str) -> str:
    return f"{base}#{alert.lower()}" if base else ""


def alertmanager_alert(
    rem: Mapping[str, Any], notice: Notice, *, now: datetime, ends_in: timedelta, runbook_url: str, generator: str
) -> dict[str, Any]:
    """One postable alert of Alertmanager's API v2: firing with endsAt ahead (re-posted while it holds),
    resolved with endsAt = now."""
    ends = now if notice.state == RESOLVED else now + ends_in
    annotations = {
        "summary": summary(rem, notice),
        "description": description(rem, notice),
        "phase": neutral((rem.get("status") or {}).get("phase"), 32),
    }
    if notice.alert == PENDING_APPROVAL and notice.state == FIRING:
        annotations["approve"] = approve_command(rem)
    if runbook_url:
        annotations["runbook_url"] = neutral(runbook(runbook_url, notice.alert), 512)
    alert: dict[str, Any] = {
        "labels": labels(rem, notice.alert),
        "annotations": annotations,
        "endsAt": clock.format_time(ends),
    }
    started = clock.parse_time(((rem.get("status") or {}).get("notification") or {}).get("changedAt"))
    if started is not None and notice.state == FIRING:
        alert["startsAt"] = clock.format_time(started)
    if generator:
        alert["generatorURL"] = neutral(generator, 512)
    return alert


def alertmanager_batch(
    rem: Mapping[str, Any],
    notice: Notice,
    last: Notice | None,
    *,
    now: datetime,
    ends_in: timedelta,
    runbook_url: str = "",
    generator: str = "",
) -> list[dict[str, Any]]:
    """What to post for `notice` after `last`: a different alert that fired before is resolved with it."""
    batch = []
    if last is not None and last.state == FIRING and last.alert != notice.alert:
        batch.append(
            alertmanager_alert(
                rem, Notice(last.alert, RESOLVED), now=now, ends_in=ends_in, runbook_url=runbook_url, generator=""
            )
        )
    batch.append(
        alertmanager_alert(rem, notice, now=now, ends_in=ends_in, runbook_url=runbook_url, generator=generator)
    )
    return batch


def webhook_message(rem: Mapping[str, Any], notice: Notice, *, now: datetime, runbook_url: str = "") -> dict[str, Any]:
    """A Slack-compatible message (``text``) plus structured fields; ``id`` is the same for a redelivery of
    the same state, so a receiver can drop a duplicate."""
    meta = rem.get("metadata") or {}
    icon = {
        FIRING: ":rotating_light:" if SEVERITY[notice.alert] == "critical" else ":warning:",
        RESOLVED: ":white_check_mark:",
    }
    desc = description(rem, notice)
    text = f"{icon[notice.state]} *{slack_escape(summary(rem, notice))}*\n{slack_escape(desc)}"
    link = runbook(runbook_url, notice.alert)
    if link:
        text += f"\nrunbook: {slack_escape(neutral(link, 512))}"
    return {
        "text": neutral(text, WEBHOOK_TEXT_MAX, newlines=True),
        "id": f"{label_value(meta.get('uid'))}:{notice.token}",
        "alert": notice.alert,
        "state": notice.state,
        "severity": SEVERITY[notice.alert],
        "labels": labels(rem, notice.alert),
        "summary": summary(rem, notice),
        "description": desc,
        "phase": neutral((rem.get("status") or {}).get("phase"), 32),
        "reason": neutral((rem.get("status") or {}).get("reason"), 64),
        "approve": approve_command(rem) if notice.alert == PENDING_APPROVAL and notice.state == FIRING else None,
        "runbookURL": neutral(link, 512) or None,
        "at": clock.format_time(now),
    }
