"""The notification sender against a fake API server (a dict) and real HTTP receivers on 127.0.0.1:
recorded first, delivered once per state, a sink that is down stays pending with backoff, firing alerts
re-posted, URLs refused or kept secret, settings parsed."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from remediator.adapters.notify_http import Alertmanager, SinkError, Webhook, check_url
from remediator.domain import notification as dn
from remediator.locks import KeyedLocks
from remediator.notifications.sender import Notifier
from remediator.settings import Settings, load


def merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if v is None:
            into.pop(k, None)
        elif isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = copy.deepcopy(v)


class FakeKube:
    def __init__(self, *objs: dict[str, Any]) -> None:
        self.objs = {(o["metadata"]["namespace"], o["metadata"]["name"]): copy.deepcopy(o) for o in objs}
        self.patches: list[dict[str, Any]] = []

    def get_cr(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        obj = self.objs.get((ns, name))
        return copy.deepcopy(obj) if obj else None

    def patch_status(self, plural: str, ns: str, name: str, status: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.patches.append(copy.deepcopy(status))
        obj = self.objs[(ns, name)]
        merge(obj.setdefault("status", {}), status)
        return copy.deepcopy(obj)

    def status(self, name: str = "grow") -> dict[str, Any]:
        return self.objs[("shop", name)]["status"]


class Receiver:
    """A tiny HTTP server recording every POST body; `down` makes it answer 503."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                code = 503 if outer.down else 200
                if not outer.down:
                    outer.bodies.append((self.path, body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def remediation(phase: str = "PendingApproval", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "grow", "namespace": "shop", "uid": "uid-1"},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "increase_memory", "errorType": "oom"},
        "status": {"phase": phase, "reason": "BelowThreshold", **status},
    }


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def notifier(kube: FakeKube, receiver: Receiver, clock: Clock, **opts: Any) -> Notifier:
    settings = Settings(notify_resend_seconds=60, notify_retry_max_seconds=30, **opts)
    return Notifier(
        kube,  # type: ignore[arg-type]
        KeyedLocks(),
        settings,
        Alertmanager([receiver.url + "/am"], timeout=2),
        [Webhook("webhook-0", receiver.url + "/hook", timeout=2)],
        monotonic=clock,
    )


def amounts(receiver: Receiver) -> tuple[int, int]:
    am = sum(1 for p, _ in receiver.bodies if p == "/am/api/v2/alerts")
    hook = sum(1 for p, _ in receiver.bodies if p == "/hook")
    return am, hook


def test_records_first_then_delivers_once_to_each_sink(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    rem = kube.get_cr("remediations", "shop", "grow")
    assert rem is not None and n.wanted(rem)
    n.run_pass([rem])
    # The desired state was recorded before anything was sent.
    assert kube.patches[0] == {"notification": {**kube.patches[0]["notification"]}}
    assert set(kube.patches[0]["notification"]) == {"alert", "state", "changedAt"}
    status = kube.status()["notification"]
    token = "RemediationPendingApproval:firing"
    assert status["sinks"]["alertmanager"]["sent"] == token and status["sinks"]["webhook-0"]["sent"] == token
    assert amounts(receiver) == (1, 1)
    [(_, alerts)] = [b for b in receiver.bodies if b[0].startswith("/am")]
    assert alerts[0]["labels"]["alertname"] == dn.PENDING_APPROVAL
    # More passes within the resend interval send nothing more.
    for _ in range(3):
        n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (1, 1)


def test_firing_alerts_are_reposted_but_webhooks_are_not(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    writes = len(kube.patches)
    clock.t += 61
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (2, 1)
    assert len(kube.patches) == writes  # a re-post writes no status


def test_state_change_resolves_and_sends_one_message(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    kube.status()["phase"] = "Succeeded"
    rem = kube.get_cr("remediations", "shop", "grow")
    assert rem is not None and n.wanted(rem)
    n.run_pass([rem])
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (2, 2)
    _, last_am = [b for b in receiver.bodies if b[0].startswith("/am")][-1]
    assert last_am[0]["labels"]["alertname"] == dn.PENDING_APPROVAL and last_am[0]["annotations"]["summary"].startswith(
        "resolved"
    )
    _, last_hook = [b for b in receiver.bodies if b[0] == "/hook"][-1]
    assert last_hook["state"] == "resolved"
    assert not n.wanted(kube.get_cr("remediations", "shop", "grow"))  # type: ignore[arg-type]


def test_sink_down_stays_pending_with_backoff_then_delivers_once(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    receiver.down = True
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    sinks = kube.status()["notification"]["sinks"]
    assert sinks["alertmanager"]["attempts"] == 1 and "503" in sinks["alertmanager"]["lastError"]
    assert "sent" not in sinks["alertmanager"] and "sent" not in sinks["webhook-0"]
    assert receiver.url not in json.dumps(sinks)  # no URL in status
    # Within the backoff nothing is attempted again.
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert kube.status()["notification"]["sinks"]["alertmanager"]["attempts"] == 1
    receiver.down = False
    clock.t += 31
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (1, 1)
    entry = kube.status()["notification"]["sinks"]["alertmanager"]
    assert entry["sent"] == "RemediationPendingApproval:firing" and entry["attempts"] == 0 and "lastError" not in entry


def test_a_restart_sends_what_status_says_is_unsent(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    receiver.down = True
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    receiver.down = False
    fresh = notifier(kube, receiver, Clock())  # a new process: no memory of the first
    fresh.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (1, 1)


def test_a_stale_index_body_is_reread_before_sending(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    stale = kube.get_cr("remediations", "shop", "grow")
    n.run_pass([stale])  # type: ignore[list-item]
    n.run_pass([stale])  # type: ignore[list-item]  # the watch has not caught up: the fresh read says sent
    assert amounts(receiver) == (1, 1)


def test_a_deleted_remediation_is_not_sent(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    rem = kube.get_cr("remediations", "shop", "grow")
    kube.objs.clear()
    n.run_pass([rem])  # type: ignore[list-item]
    assert amounts(receiver) == (0, 0)


def test_urls_must_be_http_and_are_not_in_errors() -> None:
    for bad in ("file:///etc/passwd", "gopher://x", "http://", "http://a b", "http://host/\r\nX: y"):
        with pytest.raises(ValueError):
            check_url(bad)
    with pytest.raises(ValueError) as info:
        check_url("http://user:hunter2@host/x y")
    assert "hunter2" not in str(info.value)
    with pytest.raises(SinkError) as err:
        Webhook("webhook-0", "http://127.0.0.1:1/secret-token-path", timeout=1).post({"text": "x"})
    assert "secret-token-path" not in str(err.value) and "webhook-0" in str(err.value)


def test_no_redirects_are_followed(receiver: Receiver) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", receiver.url + "/hook")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(SinkError):
            Webhook("webhook-0", f"http://127.0.0.1:{server.server_address[1]}/", timeout=2).post({"text": "x"})
        assert receiver.bodies == []
    finally:
        server.shutdown()


def test_settings_parse_url_lists_and_bounds() -> None:
    s = load(environ={"REMEDIATOR_ALERTMANAGER_URLS": "http://a:9093, http://b:9093", "REMEDIATOR_WEBHOOK_URLS": ""})
    assert s.alertmanager_urls == ["http://a:9093", "http://b:9093"] and s.webhook_urls == []
    with pytest.raises(ValidationError):
        load(environ={"REMEDIATOR_WEBHOOK_URLS": ",".join(f"http://h{i}" for i in range(9))})
    with pytest.raises(ValidationError):
        load(environ={"REMEDIATOR_NOTIFY_TIMEOUT_SECONDS": "0"})


def test_no_sink_no_notifier() -> None:
    assert Notifier.configure(Settings(), FakeKube(), KeyedLocks()) is None  # type: ignore[arg-type]


def test_bad_sink_url_refused_at_start() -> None:
    with pytest.raises(ValueError):
        Notifier.configure(Settings(webhook_urls=["ftp://x"]), FakeKube(), KeyedLocks())  # type: ignore[arg-type]


def test_a_standby_replica_sends_nothing(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    n.active = lambda: False
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (0, 0) and kube.patches == []
    n.active = lambda: True
    clock.t += 6  # the peering answer is cached for a few seconds
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    assert amounts(receiver) == (1, 1)


def test_outranked_follows_kopf_peering() -> None:
    from datetime import UTC, datetime, timedelta

    from remediator.notifications.sender import outranked

    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    fresh = (now - timedelta(seconds=3)).isoformat()
    stale = (now - timedelta(seconds=30)).isoformat()
    assert not outranked({"me": {"priority": 50, "lastseen": fresh, "lifetime": 10}}, 50, now)
    assert outranked({"other": {"priority": 80, "lastseen": fresh, "lifetime": 10}}, 50, now)
    assert not outranked({"dead": {"priority": 80, "lastseen": stale, "lifetime": 10}}, 50, now)
    assert not outranked({"low": {"priority": 10, "lastseen": fresh, "lifetime": 10}}, 50, now)
    assert outranked(None, 50, now)  # unreadable: do not risk a second sender


def test_webhook_urls_may_come_from_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    class FakeSSM:
        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
            asked.append(Name)
            assert WithDecryption
            return {"Parameter": {"Value": "https://hooks.example/T000/B000/secret"}}

    from remediator.notifications import sender

    monkeypatch.setattr(sender.aws, "clients", lambda endpoint, region: (None, FakeSSM))
    n = Notifier.configure(
        Settings(webhook_urls=["ssm:///kube-remediator/slack-webhook"], alertmanager_urls=["http://am:9093"]),
        FakeKube(),  # type: ignore[arg-type]
        KeyedLocks(),
    )
    assert n is not None and asked == ["/kube-remediator/slack-webhook"]
    assert n.webhooks[0].url == "https://hooks.example/T000/B000/secret" and n.sinks == ["alertmanager", "webhook-0"]


def test_no_api_reads_while_every_sink_backs_off(receiver: Receiver) -> None:
    kube, clock = FakeKube(remediation()), Clock()
    n = notifier(kube, receiver, clock)
    receiver.down = True
    n.run_pass([kube.get_cr("remediations", "shop", "grow")])  # type: ignore[list-item]
    reads = 0
    original = kube.get_cr

    def counting(*args: Any) -> dict[str, Any] | None:
        nonlocal reads
        reads += 1
        return original(*args)

    kube.get_cr = counting  # type: ignore[method-assign]
    body = original("remediations", "shop", "grow")
    for _ in range(5):
        n.run_pass([body])  # type: ignore[list-item]
    assert reads == 0
    clock.t += 31
    n.run_pass([body])  # type: ignore[list-item]
    assert reads == 1
