"""The local API server's audit log: the policy DevCluster starts kube-apiserver with, and a pure reader that
turns its JSON lines into requests (who, verb, resource, status code, the server's own timestamps), counts
and per-window timelines, so a benchmark can say which requests a failure cost and how long each took.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Metadata level (no bodies) and only the ResponseComplete stage: one line per request, with the time the
# server received it and the time it answered. Not logged: watches (long-running, ResponseComplete only when
# they end), the node and peering Leases kwok and the controllers renew, and the health endpoints.
POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: None
  verbs: [watch]
- level: None
  resources:
  - group: coordination.k8s.io
    resources: [leases]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi/*", "/api", "/apis", "/apis/*"]
- level: Metadata
"""


@dataclass(frozen=True)
class Request:
    """One request as the API server audited it; `resource` includes the subresource (`pods/log`)."""

    user: str
    user_agent: str
    verb: str
    resource: str
    namespace: str
    name: str
    code: int
    received: datetime
    completed: datetime
    uri: str

    @property
    def seconds(self) -> float:
        """The server's time for the request: received -> response complete."""
        return (self.completed - self.received).total_seconds()

    @property
    def key(self) -> str:
        """`verb resource`, the way the benchmarks tabulate requests (e.g. `get pods/log`)."""
        return f"{self.verb} {self.resource}"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_event(event: dict[str, Any]) -> Request | None:
    """A Request from one audit event, or None for other stages and events without timestamps."""
    if event.get("kind") != "Event" or event.get("stage", "ResponseComplete") != "ResponseComplete":
        return None
    received, completed = event.get("requestReceivedTimestamp"), event.get("stageTimestamp")
    if not received or not completed:
        return None
    ref = event.get("objectRef") or {}
    resource = ref.get("resource") or ""
    if ref.get("subresource"):
        resource = f"{resource}/{ref['subresource']}"
    if not resource:  # a non-resource URL
        resource = str(event.get("requestURI", "")).split("?", 1)[0]
    return Request(
        user=str((event.get("user") or {}).get("username", "")),
        user_agent=str(event.get("userAgent", "")),
        verb=str(event.get("verb", "")),
        resource=resource,
        namespace=str(ref.get("namespace", "")),
        name=str(ref.get("name", "")),
        code=int((event.get("responseStatus") or {}).get("code", 0)),
        received=_time(received),
        completed=_time(completed),
        uri=str(event.get("requestURI", "")),
    )


def parse_lines(lines: Iterable[str]) -> Iterator[Request]:
    """Requests from JSON lines; blank and truncated lines (the server may be writing the last one) are skipped."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and (request := parse_event(event)) is not None:
            yield request


def read(path: Path) -> list[Request]:
    """Every request in an audit log file, in the order the server wrote them."""
    with path.open(errors="replace") as lines:
        return list(parse_lines(lines))


def by_user(requests: Iterable[Request], user: str) -> list[Request]:
    return [r for r in requests if r.user == user]


def between(requests: Iterable[Request], start: datetime, end: datetime) -> list[Request]:
    """Requests received in [start, end], sorted by the time the server received them."""
    return sorted((r for r in requests if start <= r.received <= end), key=lambda r: r.received)


def counts(requests: Iterable[Request]) -> Counter[str]:
    """How many requests of each `verb resource`."""
    return Counter(r.key for r in requests)


def error_counts(requests: Iterable[Request]) -> Counter[str]:
    """How many answers of each `verb resource code` were 4xx or 5xx."""
    return Counter(f"{r.key} {r.code}" for r in requests if r.code >= 400)


def busy_seconds(requests: Iterable[Request]) -> float:
    """Wall time during which at least one of `requests` was in the server (overlapping requests count once)."""
    spans = sorted((r.received, r.completed) for r in requests)
    total, current_start, current_end = 0.0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


@dataclass(frozen=True)
class Step:
    """One request of a timeline: its offsets from the window's start, on the server's clock."""

    key: str
    code: int
    start_ms: float
    took_ms: float


def timeline(requests: Iterable[Request], start: datetime) -> list[Step]:
    """The requests as steps relative to `start` (in the order received)."""
    return [
        Step(r.key, r.code, (r.received - start).total_seconds() * 1000, r.seconds * 1000)
        for r in sorted(requests, key=lambda r: r.received)
    ]
