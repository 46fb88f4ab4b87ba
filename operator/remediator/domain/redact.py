"""Secrets out of free text: everything the operator stores or archives passes ``scrub`` first."""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "[REDACTED]"


def _keep_quotes(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"


def _userinfo(match: re.Match[str]) -> str:
    user, _, password = match.group("userinfo").partition(":")
    if password:
        return f"{match.group('scheme')}{user}:{REDACTED}@"
    return f"{match.group('scheme')}{REDACTED}@"


_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|credentials?|client[_-]?secret|session[_-]?id|cookie"
)
# (pattern, replacement): applied in order. Over-scrubbing is cheap; a leaked secret is not.
_SCRUBBERS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
        "[REDACTED-PRIVATE-KEY]",
    ),
    # scheme://user:password@host and scheme://token@host (MongoDB, Postgres, Redis, AMQP, git over https)
    (re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}+://)(?P<userinfo>[^\s/@'\"<>]{1,256}+)@"), _userinfo),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{4,}+"), "[REDACTED-JWT]"),
    (re.compile(r"(?i)\b(bearer)(\s++)[A-Za-z0-9._~+/=-]{8,}+"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)\b(basic)(\s++)(?=[A-Za-z0-9+/]{0,512}[0-9+/=])[A-Za-z0-9+/]{8,}+={0,2}"), r"\1\2" + REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b"), "[REDACTED-AWS-KEY]"),
    (
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
            r"|sk-[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35})"
        ),
        REDACTED,
    ),
    # password=..., "token": "...", api_key: ..., AWS_SECRET_ACCESS_KEY=..., --password=...
    (
        re.compile(
            r"(?i)(?P<key>(?:" + _SECRET_WORDS + r")[\w.-]{0,40}+[\"']?)(?P<sep>\s*+[:=]\s*+)"
            r"(?P<value>\[REDACTED[^\]\s]*+\]|\"[^\"\n]*+\"|'[^'\n]*+'|[^\s&,;'\"}\]]++)"
        ),
        _keep_quotes,
    ),
)


def scrub(text: str | None) -> str:
    """``text`` with obvious secrets replaced by ``[REDACTED]``: key=value secrets (password, token, api key,
    secret, ...), connection-string credentials, bearer/basic tokens, JWTs, AWS access key ids, private
    keys and well-known token formats. Pure; idempotent (scrubbing twice changes nothing more)."""
    if not text:
        return ""
    out = text
    for pattern, replacement in _SCRUBBERS:
        out = pattern.sub(replacement, out)
    return out
