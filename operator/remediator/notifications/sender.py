"""The background sender of notifications: works from Remediation status, never blocks a reconcile pass.

The StatusWriter records the notification a phase needs (``status.notification.alert``/``state``) in the
same status write as the phase. This sender, a thread of its own, reads kopf's index of Remediations with
a notification to send or an alert firing (``remediations_notifying``), re-reads each one that has
something to deliver, posts it with a timeout, and only then records ``sinks.<sink>.sent`` in status. A
sink that is down keeps the notification pending (counted, retried with exponential backoff); an operator
restart re-reads status and sends what no sink took yet. Firing alerts are re-posted to Alertmanager every
``notify_resend_seconds`` with endsAt ahead (as Alertmanager expects of a client), without a status write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from remediator import api, metrics
from remediator.adapters import aws
from remediator.adapters.kube import Kube
from remediator.adapters.kubeapi import ApiException
from remediator.adapters.notify_http import Alertmanager, SinkError, Webhook
from remediator.adapters.ssm import resolve
from remediator.domain import clock
from remediator.domain import notification as dn
from remediator.locks import KeyedLocks
from remediator.settings import Settings

log = logging.getLogger(__name__)
ACTIVE_CHECK_SECONDS = 5.0


def outranked(peers: dict[str, Any] | None, priority: int, now: datetime) -> bool:
    """kopf's rule, read from its peering object's status: a live peer with a higher priority acts instead
    of us. Unknown (unreadable) counts as outranked: the acting replica sends, a doubt sends nothing twice."""
    if peers is None:
        return True
    for info in peers.values():
        if not isinstance(info, dict):
            continue
        seen = clock.parse_time(info.get("lastseen"))
        lifetime = timedelta(seconds=int(info.get("lifetime") or 60))
        if seen is not None and seen + lifetime > now and int(info.get("priority") or 0) > priority:
            return True
    return False


@dataclass
class _Backoff:
    failures: int = 0
    until: float = 0.0


@dataclass
class Notifier:
    kube: Kube
    locks: KeyedLocks
    opts: Settings
    alertmanager: Alertmanager | None = None
    webhooks: list[Webhook] = field(default_factory=list)
    monotonic: Callable[[], float] = time.monotonic
    _backoff: dict[tuple[str, str], _Backoff] = field(default_factory=dict)
    _reposted: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    active: Callable[[], bool] = lambda: True
    _active_checked: float = -1e9
    _is_active: bool = False

    @classmethod
    def configure(cls, opts: Settings, kube: Kube, locks: KeyedLocks) -> Notifier | None:
        """None when no sink is configured. ssm:///path URLs are read from SSM Parameter Store once, here."""
        urls = [*opts.alertmanager_urls, *opts.webhook_urls]
        if not urls:
            return None
        ssm_factory: Callable[[], Any] | None = None
        if any(u.startswith("ssm://") for u in urls):
            _, ssm_factory = aws.clients(opts.s3_endpoint_url, opts.aws_region)

        def value(url: str) -> str:
            return resolve(url, ssm_factory) if ssm_factory is not None else url

        am = (
            Alertmanager([value(u) for u in opts.alertmanager_urls], opts.notify_timeout_seconds)
            if opts.alertmanager_urls
            else None
        )
        hooks = [
            Webhook(f"webhook-{i}", value(u), opts.notify_timeout_seconds) for i, u in enumerate(opts.webhook_urls)
        ]
        return cls(kube, locks, opts, am, hooks)

    @property
    def hold(self) -> timedelta:
        return timedelta(seconds=self.opts.notify_hold_seconds)

    @property
    def sinks(self) -> list[str]:
        return ([self.alertmanager.name] if self.alertmanager else []) + [w.name for w in self.webhooks]

    def wanted(self, rem: dict[str, Any]) -> bool:
        return dn.needs_attention(rem, self.sinks, now=clock.now(), hold=self.hold)

    # -- the loop ------------------------------------------------------------------------------------------
    def start(self, pending: Callable[[], Iterable[dict[str, Any]]], active: Callable[[], bool] | None = None) -> None:
        """`active`: whether this replica is the one acting (kopf peering); a standby sends nothing, or its
        frozen index would re-post alerts the active replica has resolved since."""
        if active is not None:
            self.active = active
        log.info("notifications: sinks %s", ", ".join(self.sinks))
        threading.Thread(target=self._loop, args=(pending,), name="notifications", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self, pending: Callable[[], Iterable[dict[str, Any]]]) -> None:
        while not self._stop.wait(self.opts.notify_poll_seconds):
            try:
                self.run_pass(list(pending()))
            except Exception:  # the loop must outlive any one failure
                log.exception("notification pass failed; retrying")

    def acting(self) -> bool:
        """This replica acts (re-checked at most every ACTIVE_CHECK_SECONDS)."""
        if self.monotonic() - self._active_checked >= ACTIVE_CHECK_SECONDS:
            self._is_active = self.active()
            self._active_checked = self.monotonic()
        return self._is_active

    def run_pass(self, rems: list[dict[str, Any]]) -> None:
        if rems and not self.acting():
            return
        waiting = dict.fromkeys(self.sinks, 0)
        live = set()
        for rem in rems:
            uid = str(rem["metadata"].get("uid"))
            live.add(uid)
            try:
                for sink in self.handle(rem):
                    waiting[sink] += 1
            except ApiException as err:
                log.info("notification of %s: API server said %s; retrying", _name(rem), err.status)
                for sink in self.sinks:
                    waiting[sink] += 1
        for sink, count in waiting.items():
            metrics.NOTIFICATIONS_PENDING.labels(sink=sink).set(count)
        for uid in set(self._reposted) - live:
            self._reposted.pop(uid, None)

    def handle(self, rem: dict[str, Any]) -> list[str]:
        """Record, deliver and re-post what `rem` needs; returns the sinks still waiting for it."""
        status = rem.get("status") or {}
        notice = dn.desired(rem.get("spec") or {}, status, now=clock.now(), hold=self.hold)
        if notice is None:
            return []
        todo = dn.unsent(notice, status, self.sinks)
        if notice == dn.recorded(status) and todo and not any(self._due(sink, rem) for sink in todo):
            return todo  # every sink it waits for is backing off: no API call until one is due
        if notice != dn.recorded(status) or todo:
            fresh = self.kube.get_cr(api.REMEDIATIONS, rem["metadata"]["namespace"], rem["metadata"]["name"])
            if fresh is None or fresh["metadata"].get("uid") != rem["metadata"].get("uid"):
                return []
            return self._deliver(fresh)
        if notice.state == dn.FIRING and self.alertmanager is not None:
            self._repost(rem, notice)
        return []

    def _deliver(self, rem: dict[str, Any]) -> list[str]:
        status = rem.get("status") or {}
        notice = dn.desired(rem.get("spec") or {}, status, now=clock.now(), hold=self.hold)
        if notice is None:
            return []
        if notice != dn.recorded(status):  # recorded first: a restart from here still sends it
            rem = self._patch(rem, dn.record(notice, clock.now()))
            status = rem.get("status") or {}
        waiting = []
        for sink in dn.unsent(notice, status, self.sinks):
            if not self._due(sink, rem):
                waiting.append(sink)
                continue
            last = dn.sent(status, sink)
            try:
                self._post(sink, rem, notice, last)
            except SinkError as err:
                waiting.append(sink)
                self._failed(sink, rem, err)
                continue
            self._backoff.pop((sink, ""), None)
            self._backoff.pop((sink, _uid(rem)), None)
            metrics.NOTIFICATIONS.labels(sink=sink, alert=notice.alert, state=notice.state).inc()
            log.info("notification of %s: %s took %s", _name(rem), sink, notice.token)
            entry = {
                "sent": notice.token,
                "attempts": 0,
                "lastError": None,
                "lastSentAt": clock.format_time(clock.now()),
            }
            rem = self._patch(rem, {"sinks": {sink: entry}})
            if sink == "alertmanager":
                self._reposted[_uid(rem)] = self.monotonic()
        return waiting

    def _post(self, sink: str, rem: dict[str, Any], notice: dn.Notice, last: dn.Notice | None) -> None:
        now = clock.now()
        if sink == "alertmanager" and self.alertmanager is not None:
            ends_in = timedelta(seconds=3 * self.opts.notify_resend_seconds)
            batch = dn.alertmanager_batch(
                rem, notice, last, now=now, ends_in=ends_in, runbook_url=self.opts.runbook_url
            )
            self.alertmanager.post(batch)
            return
        hook = next(w for w in self.webhooks if w.name == sink)
        hook.post(dn.webhook_message(rem, notice, now=now, runbook_url=self.opts.runbook_url))

    def _repost(self, rem: dict[str, Any], notice: dn.Notice) -> None:
        """A firing alert is posted again before its endsAt passes (same labels: Alertmanager updates it)."""
        uid = _uid(rem)
        last = self._reposted.get(uid)
        if last is not None and self.monotonic() - last < self.opts.notify_resend_seconds:
            return
        if not self._due("alertmanager", rem):
            return
        assert self.alertmanager is not None
        try:
            ends_in = timedelta(seconds=3 * self.opts.notify_resend_seconds)
            self.alertmanager.post(
                [
                    dn.alertmanager_alert(
                        rem, notice, now=clock.now(), ends_in=ends_in, runbook_url=self.opts.runbook_url, generator=""
                    )
                ]
            )
        except SinkError as err:
            metrics.NOTIFICATION_FAILURES.labels(sink="alertmanager").inc()
            self._back_off("alertmanager", rem, err)
            log.info("re-post of %s to alertmanager failed: %s", _name(rem), err)
            return
        self._reposted[uid] = self.monotonic()

    # -- retries -------------------------------------------------------------------------------------------
    def _due(self, sink: str, rem: dict[str, Any]) -> bool:
        now = self.monotonic()
        return all(self._backoff.get(k, _Backoff()).until <= now for k in ((sink, ""), (sink, _uid(rem))))

    def _back_off(self, sink: str, rem: dict[str, Any], err: SinkError) -> int:
        # A sink that is down (transient) waits as a whole; a refusal of one notification waits on its own.
        key = (sink, "") if err.transient else (sink, _uid(rem))
        state = self._backoff.setdefault(key, _Backoff())
        state.failures += 1
        delay = min(self.opts.notify_retry_max_seconds, 2.0 ** min(state.failures, 12))
        state.until = self.monotonic() + delay
        return state.failures

    def _failed(self, sink: str, rem: dict[str, Any], err: SinkError) -> None:
        metrics.NOTIFICATION_FAILURES.labels(sink=sink).inc()
        self._back_off(sink, rem, err)
        entry = ((rem.get("status") or {}).get("notification") or {}).get("sinks", {}).get(sink) or {}
        attempts = min(int(entry.get("attempts") or 0) + 1, 1_000_000)
        log.info("notification of %s to %s failed (attempt %d), will retry: %s", _name(rem), sink, attempts, err)
        patch = {
            "attempts": attempts,
            "lastError": dn.neutral(err, dn.ERROR_MAX),
            "lastAttemptAt": clock.format_time(clock.now()),
        }
        try:
            self._patch(rem, {"sinks": {sink: patch}})
        except ApiException as api_err:  # the attempt count is information; the notification stays pending
            log.info("could not record the failed attempt of %s: %s", _name(rem), api_err.status)

    def _patch(self, rem: dict[str, Any], notification: dict[str, Any]) -> dict[str, Any]:
        """Merge into status.notification, under the Remediation's lock, so no reconcile pass sees a stale
        resourceVersion half-way (the reconciler re-reads under the same lock)."""
        meta = rem["metadata"]
        with self.locks((str(meta["namespace"]), str(meta["name"]))):
            updated = self.kube.patch_status(
                api.REMEDIATIONS, meta["namespace"], meta["name"], {"notification": notification}
            )
        return updated if updated.get("status") else rem


def _uid(rem: dict[str, Any]) -> str:
    return str(rem["metadata"].get("uid"))


def _name(rem: dict[str, Any]) -> str:
    return f"{rem['metadata'].get('namespace')}/{rem['metadata'].get('name')}"
