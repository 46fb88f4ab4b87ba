"""realdata.py: the real corpus loads, and no split ever puts one source thread on two sides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator_model.data import DataError
from remediator_model.realdata import is_thread, load_real, source_folds, split


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _row(i: int, source: str, **extra: object) -> dict:
    return {"id": f"x-{i}", "source": source, "family": "redis", "reason": "", "exit_code": None,
            "message": f"dial tcp 10.0.0.{i}:6379: connect: connection refused", "logs": "",
            "error_class": "dependency_error", "actions": ["notify"], "fix": "redis restarted", **extra}


def test_the_shipped_corpus_loads_and_is_large_enough() -> None:
    items = load_real()
    graded = [i for i in items if not i.fit_only]
    assert len(items) >= 1000 and len({i.source for i in graded}) >= 500


def test_no_thread_is_on_two_sides_of_any_split() -> None:
    items = load_real()
    parts = split(items)
    sides = [{i.source for i in part} for part in (parts.fit, parts.calibrate, parts.test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert not any(i.fit_only for i in parts.calibrate + parts.test)
    folds = source_folds(items, 5)
    by_source: dict[str, set[int]] = {}
    for item, fold in zip(items, folds, strict=True):
        by_source.setdefault(item.source, set()).add(int(fold))
    assert all(len(f) == 1 for f in by_source.values())


def test_guides_and_threads_are_told_apart() -> None:
    assert is_thread("https://github.com/redis/redis/issues/123")
    assert is_thread("https://stackoverflow.com/questions/1/why")
    assert not is_thread("https://fixes.example/redis-connection-refused")


def test_exact_duplicates_are_dropped_and_bad_rows_named(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [_row(1, "https://github.com/o/r/issues/1"),
                                      _row(1, "https://github.com/o/r/issues/2")])
    assert len(load_real([a], include_shaped=False)) == 1
    bad = _write(tmp_path / "b.jsonl", [_row(2, "https://github.com/o/r/issues/3", actions=[])])
    with pytest.raises(DataError, match="actions"):
        load_real([bad], include_shaped=False)
