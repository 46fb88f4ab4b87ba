"""The real-world corpus (data/real/*.jsonl, docs/labeling.md): loading, de-duplication, and splits that never
put one source thread on both sides.

Three roles, never mixed: a *fit* part (trained on, together with the synthetic seed corpus), a *calibration*
part (temperatures and the isotonic map are fitted on it, nothing else), and a *test* part (only reported).
The older hand-labeled set (data/validation_realworld.jsonl) shaped the templates and the calibration margin,
so it may only ever be fitted on, never calibrate or test.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from remediator_model.data import DataError, parse_event_fields, read_jsonl
from remediator_model.predict import ErrorInput
from remediator_model.taxonomy import ACTIONS, ERROR_TYPES

HERE = Path(__file__).parent
REAL_DIR = HERE / "data" / "real"
SHAPED = HERE / "data" / "validation_realworld.jsonl"  # used for selection before: fit only


@dataclass(frozen=True)
class RealItem:
    event: ErrorInput
    error_class: str
    actions: tuple[str, ...]  # the fixes the thread confirmed, the one that worked first
    source: str  # the thread; the unit of every split
    family: str
    id: str
    shaped: bool = False  # from the set that shaped the model before: never calibrate or test on it
    guide: bool = False  # a how-to page whose example output and advice no reporter confirmed: fit only

    @property
    def fit_only(self) -> bool:
        """Never calibrate or test on it (see `shaped` and `guide`)."""
        return self.shaped or self.guide

    @property
    def fix_changes_workload(self) -> bool:
        """Whether the thread's fix is something the operator itself could change (not notify)."""
        return self.actions[0] != "notify"


# Where people post their own errors and say what fixed them; any other page is a guide.
_THREADS = re.compile(
    r"^https?://(github\.com/[^/]+/[^/]+/(issues|pull|discussions)/|gitlab\.com/.+/-/(issues|merge_requests)/|"
    r"([a-z]+\.)?stackoverflow\.com/|serverfault\.com/|superuser\.com/|askubuntu\.com/|[a-z.]+\.stackexchange\.com/|"
    r"discuss\.|forum|community\.|www\.reddit\.com/)"
)


def is_thread(source: str) -> bool:
    """Whether a source is an issue/Q&A thread (the error as a user posted it, the fix they confirmed)."""
    return bool(_THREADS.match(source))


def _item(rec: dict[str, object], line: int, path: Path, shaped: bool) -> RealItem:
    ev = parse_event_fields(rec, line, str(path))
    et = rec.get("error_class")
    acts = rec.get("actions")
    if et not in ERROR_TYPES:
        raise DataError(f"'error_class' must be one of {', '.join(ERROR_TYPES)}, got {et!r}", line, str(path))
    if not isinstance(acts, list) or not acts or any(a not in ACTIONS for a in acts):
        raise DataError(f"'actions' must be a non-empty list of {', '.join(ACTIONS)}", line, str(path))
    source = str(rec.get("source") or "")
    if not source:
        raise DataError("'source' (the thread) is required", line, str(path))
    if not (ev["message"] or ev["logs"] or ev["reason"] or ev["exit_code"] is not None):
        raise DataError("an item needs a message, logs, a reason or an exit code", line, str(path))
    return RealItem(
        ErrorInput(ev["reason"], ev["exit_code"], ev["message"], ev["logs"], "api"),
        str(et),
        tuple(str(a) for a in acts),
        source,
        str(rec.get("family") or "unknown"),
        str(rec.get("id") or f"{path.stem}-{line}"),
        shaped,
        guide=not shaped and not is_thread(source),
    )


def _text_key(item: RealItem) -> str:
    e = item.event
    return hashlib.sha256(f"{e.reason}\x00{e.exit_code}\x00{e.message}\x00{e.logs}".encode()).hexdigest()


def load_real(paths: Iterable[Path] | None = None, *, include_shaped: bool = True) -> list[RealItem]:
    """Every real item (data/real/*.jsonl, plus the shaped set unless excluded), exact duplicates dropped."""
    files = sorted(paths) if paths is not None else sorted(REAL_DIR.glob("*.jsonl"))
    out: list[RealItem] = []
    seen: set[str] = set()
    sources = [(f, False) for f in files] + ([(SHAPED, True)] if include_shaped and SHAPED.exists() else [])
    for path, shaped in sources:
        for line, rec in read_jsonl(path):
            item = _item(rec, line, path, shaped)
            key = _text_key(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def source_folds(items: Sequence[RealItem], k: int, seed: int = 0) -> np.ndarray:
    """A fold in 0..k-1 per item, the same for every item of one source thread; -1 (fit only) for the threads
    of the shaped set and for guides."""
    # A thread with any fit-only item is fit-only as a whole, so no thread is ever on two sides.
    fit_only = {i.source for i in items if i.fit_only}
    sources = sorted({i.source for i in items} - fit_only)
    order = np.random.default_rng(seed).permutation(len(sources))
    fold_of = {s: int(order[j] % k) for j, s in enumerate(sources)}
    return np.array([fold_of.get(i.source, -1) for i in items])


@dataclass(frozen=True)
class RealSplit:
    fit: list[RealItem]
    calibrate: list[RealItem]
    test: list[RealItem]


def split(
    items: Sequence[RealItem], *, calibrate_share: float = 0.2, test_share: float = 0.2, seed: int = 0
) -> RealSplit:
    """Fit / calibrate / test by source thread (fit-only items always go to fit)."""
    folds = source_folds(items, 20, seed)
    n_test, n_cal = round(20 * test_share), round(20 * calibrate_share)
    test = [i for i, f in zip(items, folds, strict=True) if 0 <= f < n_test]
    cal = [i for i, f in zip(items, folds, strict=True) if n_test <= f < n_test + n_cal]
    fit = [i for i, f in zip(items, folds, strict=True) if f < 0 or f >= n_test + n_cal]
    return RealSplit(fit, cal, test)
