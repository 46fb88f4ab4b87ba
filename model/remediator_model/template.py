"""Error templates: the shape of an error with every value that varies between its occurrences masked.

Two errors of one family ("dial tcp 10.0.3.7:5432: connect: connection refused" and "dial tcp
db.prod.svc:6379: connect: connection refused") share one template ("dial tcp <host>: connect: connection
refused") and so one key. A human correction is remembered per (namespace, reason, template) and applies to
the whole family; the model sees the key as a feature (``tpl=``), so the next one learns the family, not its
host names.

Deterministic masking rather than an online log-template miner (Drain and its kin): the same text gets the
same key in training, in serving, in every replica and after every restart, with no miner state to store,
share or lose. Values are masked from the most specific shape to the least: URLs, e-mail addresses, IPs and
host:port, quoted values, paths, dotted names, ids and hashes, numbers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_TEMPLATE_TOKENS = 24  # the head of an error carries its shape; long tails differ by their values
MAX_HEAD_CHARS = 600  # only the head is read: bounded time for any input

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_I = re.IGNORECASE
# DNS names worth masking: a port follows, or a segment says it is a host (cluster, cloud or public suffix).
# Dotted names with capitals (java.net.SocketTimeoutException, com.example.Client.call) are code and stay.
_HOSTY = r"(?:svc|cluster|local|internal|com|net|org|io|dev|cloud|amazonaws|googleapis|azure)"
_MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("<url>", re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://[^\s'\"`]+", _I)),
    ("<email>", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("<host>", re.compile(r"\[[0-9a-f:]{2,}\](?::\d+)?|\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b", _I)),
    ("<host>", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")),
    ("<value>", re.compile(r"(?<![A-Za-z])(?:\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|`[^`\n]{0,200}`)")),
    ("<value>", re.compile(r"\u201c[^\u201d\n]{0,200}\u201d")),
    ("<path>", re.compile(r"(?<![\w.])(?:[a-z]:)?(?:/[\w.@%+-]+){2,}/?|(?<![\w.])/[\w.@%+-]+\.\w+", _I)),
    ("<host>", re.compile(r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*:\d{2,5}\b")),
    ("<host>", re.compile(rf"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.{_HOSTY}(?:\.[a-z0-9-]+)*\b(?!\.[A-Z])")),
    ("<pod>", re.compile(r"\b[a-z][a-z0-9-]*?-[a-z0-9]{8,10}-[a-z0-9]{5}\b")),
    ("<id>", re.compile(r"\b[0-9a-f]{8}(?:-?[0-9a-f]{4}){3}-?[0-9a-f]{12}\b", _I)),
    ("<id>", re.compile(r"\b(?=\w*\d)(?=\w*[a-f])[0-9a-f]{7,}\b", _I)),
    ("<n>", re.compile(r"\b\d+(?:[.,]\d+)*(?:[a-z]{1,3})?\b", _I)),
)
_TOKEN = re.compile(r"<[a-z]+>|[a-z_][a-z0-9_]*|[^\sa-z0-9_]")


@dataclass(frozen=True)
class Template:
    """An error's family: ``key`` (stable, short) and ``text`` (readable, for evidence and documents)."""

    key: str
    text: str

    @property
    def empty(self) -> bool:
        """No reason and no text: no shape, so no family to share corrections with."""
        return not self.text


def mask(text: str) -> str:
    """The text with its varying values replaced by placeholders, lower-cased, whitespace collapsed."""
    out = text[:MAX_HEAD_CHARS]
    for placeholder, pattern in _MASKS:
        out = pattern.sub(placeholder, out)
    return " ".join(_CAMEL.sub(" ", out).lower().split())


def _head(message: str, logs: str) -> str:
    """The line that names the error: the message's first non-empty line, else the logs' last error line."""
    for line in (message or "").splitlines():
        if line.strip():
            return line
    lines = [s for s in (logs or "")[-4000:].splitlines() if s.strip()]
    for line in reversed(lines):
        if re.search(r"error|exception|fatal|fail|panic|refused|timeout|denied|killed", line, re.IGNORECASE):
            return line
    return lines[-1] if lines else ""


def template_of(reason: str, message: str, logs: str = "") -> Template:
    """The template of one error: its reason and the masked shape of its head line."""
    tokens = _TOKEN.findall(mask(_head(message, logs)))[:MAX_TEMPLATE_TOKENS]
    text = f"{(reason or '').strip()}: {' '.join(tokens)}".strip(": ")
    key = "t" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return Template(key, text[:240])
