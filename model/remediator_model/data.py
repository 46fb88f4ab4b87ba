"""Reading and validating input event records (JSONL), shared by training, prediction and evaluation."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from remediator_model.taxonomy import SOURCES


class DataError(ValueError):
    """A training/evaluation/prediction input line is malformed. Carries the 1-based line number."""

    def __init__(self, message: str, line: int | None = None, path: str | None = None) -> None:
        where = f"{path}:" if path else ""
        super().__init__(f"{where}line {line}: {message}" if line is not None else message)
        self.line = line


def _opt_str(rec: dict[str, Any], key: str, line: int, path: str | None) -> str:
    v = rec.get(key, "")
    if v is None:
        return ""
    if not isinstance(v, str):
        raise DataError(f"field {key!r} must be a string, got {type(v).__name__}", line, path)
    return v


def parse_event_fields(rec: Any, line: int, path: str | None = None) -> dict[str, Any]:
    """Validate the event part of an input record (shared by train, predict and evaluate)."""
    if not isinstance(rec, dict):
        raise DataError("expected a JSON object", line, path)
    ec = rec.get("exit_code")
    if ec is not None and (isinstance(ec, bool) or not isinstance(ec, int)):
        if isinstance(ec, str) and ec.strip().lstrip("-").isdigit():
            ec = int(ec)
        else:
            raise DataError(f"field 'exit_code' must be an integer or null, got {ec!r}", line, path)
    out: dict[str, Any] = {k: _opt_str(rec, k, line, path) for k in ("reason", "message", "logs", "source")}
    out["exit_code"] = ec
    if out["source"].strip().lower() not in SOURCES:  # e.g. a URL where a labelled set records provenance
        out["source"] = ""
    else:
        out["source"] = out["source"].strip().lower()
    if not any(out[k].strip() for k in ("reason", "message", "logs")) and ec is None:
        raise DataError("event has no reason, message, logs or exit_code", line, path)
    return out


STDIO = "-"  # where a file is taken, "-" means standard input (or output)


def read_jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path` ("-": standard input); malformed JSON raises
    DataError naming the line."""
    if str(path) == STDIO:
        return _parse_jsonl(sys.stdin, "<stdin>")
    with open(path, encoding="utf-8") as f:
        return _parse_jsonl(f, str(path))


def _parse_jsonl(lines: Iterable[str], name: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})", i, name) from None
        if not isinstance(obj, dict):
            raise DataError("expected a JSON object", i, name)
        rows.append((i, obj))
    return rows
