"""W3C traceparent parsing is strict: only what the spec calls a valid version-00 value is accepted."""

from __future__ import annotations

import pytest

from remediator.domain import trace_context
from remediator.domain.trace_context import InvalidTraceparent, TraceParent

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_round_trips() -> None:
    parsed = trace_context.parse(VALID)
    assert parsed == TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1)
    assert parsed.sampled
    assert parsed.format() == VALID
    assert trace_context.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").sampled is False


@pytest.mark.parametrize(
    "value",
    [
        "",
        VALID.upper(),
        VALID.replace("4bf9", "4BF9"),
        "01" + VALID[2:],  # another version
        "ff" + VALID[2:],
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01",  # all-zero parent id
        VALID[:-1],  # too short
        VALID + "0",  # too long
        VALID + "-extra",
        " " + VALID[1:],
        VALID[:-2] + " 1",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  # lengths shifted
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  # not hex
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        "٠٠-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # non-ASCII digits
        "x" * 100_000,
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(InvalidTraceparent):
        trace_context.parse(value)
    assert trace_context.parse_or_none(value) is None


@pytest.mark.parametrize("value", [None, 0, b"00-" + b"1" * 52, ["x"], {"traceparent": VALID}])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidTraceparent):
        trace_context.parse(value)


def test_the_refusal_never_echoes_the_value() -> None:
    hostile = "00-" + "<script>" * 6 + "-00f067aa0ba902b7-01"
    with pytest.raises(InvalidTraceparent) as err:
        trace_context.parse(hostile)
    assert "<script>" not in str(err.value)


def test_derived_ids_are_deterministic_valid_and_distinct() -> None:
    a = trace_context.derive_trace_id("uid-1")
    assert a == trace_context.derive_trace_id("uid-1")
    assert a != trace_context.derive_trace_id("uid-2")
    assert trace_context.valid_trace_id(a)
    s1 = trace_context.derive_span_id(a, "verify")
    assert s1 == trace_context.derive_span_id(a, "verify")
    assert s1 != trace_context.derive_span_id(a, "undo")
    assert s1 != trace_context.derive_span_id(trace_context.derive_trace_id("uid-2"), "verify")
    assert trace_context.valid_span_id(s1)


def test_child_keeps_trace_and_flags() -> None:
    parent = trace_context.parse(VALID)
    child = parent.child("1111111111111111")
    assert (child.trace_id, child.span_id, child.flags) == (parent.trace_id, "1111111111111111", 1)
    with pytest.raises(InvalidTraceparent):
        parent.child("0" * 16)
