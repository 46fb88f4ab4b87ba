"""quantity.py: Kubernetes memory quantities."""

from __future__ import annotations

import pytest

from remediator.domain.quantity import format_mi, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64Mi", 64 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("1Ti", 2**40),
        ("512Ki", 2**19),
        ("500M", 500_000_000),
        ("1G", 10**9),
        ("2k", 2000),
        ("1e3", 1000),
        ("1024", 1024),
        ("0.5Mi", 2**19),
    ],
)
def test_parse_binary_and_decimal_suffixes(text: str, expected: int) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "12Mb", "-1Gi", "1.2.3Mi", "Mi"])
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_format_rounds_up_to_whole_mebibytes() -> None:
    assert format_mi(96 * 2**20) == "96Mi"
    assert format_mi(10**9) == "954Mi"
    assert format_mi(1) == "1Mi"
