"""W3C Trace Context `traceparent` values, pure: parse strictly, format, and derive ids deterministically.

A traceparent is `00-<trace-id: 32 lowercase hex>-<parent-id: 16 lowercase hex>-<flags: 2 lowercase hex>`
(https://www.w3.org/TR/trace-context/#traceparent-header). Anything else (another version, uppercase, an
all-zero id, extra fields, surrounding noise, more than 55 characters) is refused, because the values come
from users (an ErrorEvent annotation, an HTTP header) and are only ever allowed to name a trace to join.

Ids derived from a seed (an object's uid, a span's key) are the same in every process, so a restarted
operator gives a step of an incident the span id the previous process gave it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

VERSION = "00"
SAMPLED = 0x01
TRACEPARENT_LENGTH = 55
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
ZERO_TRACE_ID = "0" * 32
ZERO_SPAN_ID = "0" * 16


class InvalidTraceparent(ValueError):
    """Why a value is not a traceparent this operator accepts (a short sentence, never the value itself)."""


@dataclass(frozen=True)
class TraceParent:
    trace_id: str
    span_id: str
    flags: int = SAMPLED

    def __post_init__(self) -> None:
        if not valid_trace_id(self.trace_id):
            raise InvalidTraceparent("the trace id is not 32 lowercase hex digits, or is all zeros")
        if not valid_span_id(self.span_id):
            raise InvalidTraceparent("the parent id is not 16 lowercase hex digits, or is all zeros")
        if not 0 <= self.flags <= 0xFF:
            raise InvalidTraceparent("the flags are not one byte")

    @property
    def sampled(self) -> bool:
        return bool(self.flags & SAMPLED)

    def format(self) -> str:
        return f"{VERSION}-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    def child(self, span_id: str) -> TraceParent:
        """The traceparent a span `span_id` of this trace hands on (same trace, same flags)."""
        return TraceParent(self.trace_id, span_id, self.flags)


def valid_trace_id(value: object) -> bool:
    return isinstance(value, str) and bool(_TRACE_ID.match(value)) and value != ZERO_TRACE_ID


def valid_span_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SPAN_ID.match(value)) and value != ZERO_SPAN_ID


def parse(value: object) -> TraceParent:
    """The traceparent `value` names, or InvalidTraceparent. Version 00 only, lowercase only, exact length:
    a value is taken as it is, never trimmed or repaired."""
    if not isinstance(value, str):
        raise InvalidTraceparent("a traceparent is a string")
    if len(value) != TRACEPARENT_LENGTH:
        raise InvalidTraceparent(f"a traceparent has exactly {TRACEPARENT_LENGTH} characters")
    match = _TRACEPARENT.match(value)
    if match is None:
        raise InvalidTraceparent("not 00-<32 lowercase hex>-<16 lowercase hex>-<2 lowercase hex>")
    trace_id, span_id, flags = match.groups()
    return TraceParent(trace_id, span_id, int(flags, 16))


def parse_or_none(value: object) -> TraceParent | None:
    try:
        return parse(value)
    except InvalidTraceparent:
        return None


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def derive_trace_id(*seed: str) -> str:
    """A trace id that is the same wherever it is computed from the same seed (never all zeros)."""
    out = _digest("trace", *seed)[:16].hex()
    return out if out != ZERO_TRACE_ID else "0" * 31 + "1"


def derive_span_id(trace_id: str, *key: str) -> str:
    """The span id of the span named by `key` in trace `trace_id`: equal across processes and restarts."""
    out = _digest("span", trace_id, *key)[:8].hex()
    return out if out != ZERO_SPAN_ID else "0" * 15 + "1"
