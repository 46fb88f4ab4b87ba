"""HTTP clients of the notification sinks: Alertmanager's API v2 and a generic (Slack-compatible) webhook.

Each call has a timeout, follows no redirect (a sink is the URL it was configured with, nothing else) and
raises SinkError on anything but a 2xx. A webhook URL is a secret (Slack's carries its token): no URL is
ever put in a log line or an error message, only the sink's name and its host.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

MAX_BODY = 256 * 1024  # a notification body never exceeds this (the domain bounds every text far below)
USER_AGENT = "kube-remediator"


class SinkError(RuntimeError):
    """A sink did not take a notification; the message names the sink and host, never the URL."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def check_url(url: str) -> str:
    """An http(s) URL with a host; anything else is refused at start-up (ValueError, without the URL)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a notification sink URL must be http:// or https:// with a host")
    if any(c in url for c in "\r\n\t ") or any(ord(c) < 32 for c in url):
        raise ValueError("a notification sink URL must not contain whitespace or control characters")
    return url


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or "?"


def post_json(url: str, payload: Any, *, timeout: float, what: str) -> int:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
    if len(body) > MAX_BODY:
        raise SinkError(f"{what}: payload of {len(body)} bytes exceeds {MAX_BODY}", transient=False)
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with _opener.open(request, timeout=timeout) as resp:
            resp.read(4096)
            return int(resp.status)
    except urllib.error.HTTPError as err:
        transient = err.code >= 500 or err.code in (408, 429) or 300 <= err.code < 400
        raise SinkError(f"{what} at {host_of(url)} answered {err.code}", transient=transient) from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or type(err).__name__
        raise SinkError(f"{what} at {host_of(url)} unreachable: {str(reason)[:120]}") from None


class Alertmanager:
    """POST /api/v2/alerts to every configured Alertmanager (a HA cluster's peers each get the alert, as
    Prometheus does); the post counts as delivered when at least one peer took it."""

    name = "alertmanager"

    def __init__(self, urls: Sequence[str], timeout: float) -> None:
        self.urls = [check_url(u).rstrip("/") for u in urls]
        self.timeout = timeout

    def post(self, alerts: list[dict[str, Any]]) -> None:
        errors: list[SinkError] = []
        for url in self.urls:
            try:
                post_json(f"{url}/api/v2/alerts", alerts, timeout=self.timeout, what="alertmanager")
            except SinkError as err:
                errors.append(err)
        if len(errors) == len(self.urls):
            raise SinkError("; ".join(str(e) for e in errors)[:512], transient=any(e.transient for e in errors))


class Webhook:
    """POST a JSON message to one webhook URL (each configured URL is a sink of its own, webhook-<i>, so
    each is delivered to, and retried, on its own)."""

    def __init__(self, name: str, url: str, timeout: float) -> None:
        self.name, self.url, self.timeout = name, check_url(url), timeout

    def post(self, message: dict[str, Any]) -> None:
        post_json(self.url, message, timeout=self.timeout, what=self.name)
