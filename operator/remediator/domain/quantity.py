"""Parse and format Kubernetes resource quantities (memory), without the kubernetes client."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_SUFFIXES: dict[str, int | Decimal] = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(
    r"^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$"
)
MI = 2**20
_CPU = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(n|u|m)?$")
_CPU_SCALE: dict[str | None, Decimal] = {None: Decimal(1000), "m": Decimal(1), "u": Decimal("0.001"),
                                         "n": Decimal("0.000001")}


def parse_quantity(value: str | int | float) -> int:
    """The bytes in a quantity ("64Mi", "1.5Gi", "500M", "1e9", 1024), rounded up to a whole byte."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"{value!r} is not a non-negative quantity")
        return math.ceil(value)
    match = _QUANTITY.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 512Mi, 1Gi, 500M)")
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number)
        scale = Decimal(10) ** int(exponent[1:]) if exponent else _SUFFIXES[suffix or ""]
        amount = amount * scale
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from exc
    return math.ceil(amount)


def parse_millicores(value: str | int | float) -> int:
    """CPU in millicores, rounded up: "250m" -> 250, "2" -> 2000, "1.5" -> 1500, "12345678n" -> 13."""
    match = None if isinstance(value, bool) else _CPU.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a CPU quantity (e.g. 250m, 2)")
    return math.ceil(Decimal(match.group(1)) * _CPU_SCALE[match.group(2)])


def format_mi(num_bytes: int) -> str:
    """Format bytes as whole mebibytes, rounding up: 100663296 -> "96Mi", 1 -> "1Mi"."""
    if num_bytes < 0:
        raise ValueError("a memory quantity cannot be negative")
    return f"{math.ceil(num_bytes / MI)}Mi"
