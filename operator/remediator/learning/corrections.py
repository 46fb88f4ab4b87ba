"""The serving side of family corrections: human judgments per (namespace, template), read from MongoDB.

The feedback store is the record (every judgment is a stored document, written from a Remediation's
status); this index is a bounded, rebuildable view of it for triage. The learning loop refreshes it
incrementally on every pass (documents written or updated since the last one seen); a store outage leaves it
as it was, and triage says in the Remediation's evidence when it has never been read. What a decision took
from it is written to that Remediation's status, so nothing a decision depended on lives only here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from remediator.domain.corrections import Judgment
from remediator.domain.types import ACTIONS
from remediator_model.template import template_of

log = logging.getLogger(__name__)
MAX_JUDGMENTS = 50_000  # about 10 MB; the oldest are dropped first
LOOKBACK = dt.timedelta(days=180)  # older judgments were about models and workloads long gone


class _Store(Protocol):
    def judgments_since(self, since: dt.datetime | None) -> Iterable[dict[str, Any]]: ...


def _template(doc: Mapping[str, Any]) -> str:
    if doc.get("template"):
        return str(doc["template"])
    tpl = template_of(str(doc.get("reason") or ""), str(doc.get("message") or ""), str(doc.get("logs") or ""))
    return "" if tpl.empty else tpl.key


def judgment_of(doc: Mapping[str, Any]) -> tuple[str, str, Judgment] | None:
    """(namespace, template, judgment) of one stored feedback document; None when it judges nothing usable."""
    if doc.get("source") not in ("human", "rejection") or doc.get("label") not in ("correct", "incorrect"):
        return None
    proposed, namespace, template = doc.get("predicted_action"), str(doc.get("namespace") or ""), _template(doc)
    if proposed not in ACTIONS or not namespace or not template:
        return None
    correct_action = doc.get("correct_action") if doc.get("correct_action") in ACTIONS else None
    judgment = Judgment(
        remediation=str(doc.get("remediation") or doc.get("_id")),
        judge=str(doc.get("judge") or ""),
        label=str(doc["label"]),
        proposed=str(proposed),
        correct_action=correct_action,
        correct_type=str(doc["correct_type"]) if doc.get("correct_type") else None,
    )
    return namespace, template, judgment


class CorrectionIndex:
    """Judgments by (namespace, template), one per stored document id (an update replaces it)."""

    def __init__(self, max_judgments: int = MAX_JUDGMENTS) -> None:
        self.max_judgments = max_judgments
        self._by_id: OrderedDict[str, tuple[str, str, Judgment]] = OrderedDict()
        self._families: dict[tuple[str, str], dict[str, Judgment]] = {}
        self._watermark: dt.datetime | None = None
        self._lock = threading.Lock()
        self.ready = False  # True once the store has been read

    def refresh(self, store: _Store, now: dt.datetime | None = None) -> int:
        """Read what changed since the last refresh (StoreUnavailable propagates; the index stays as it was).
        The number of judgments that are new or changed (re-reading the newest instant changes nothing)."""
        now = now or dt.datetime.now(dt.UTC)
        since = self._watermark or now - LOOKBACK
        docs = list(store.judgments_since(since))
        changed = 0
        with self._lock:
            for doc in docs:
                changed += self._add(doc)
                for key in ("created_at", "updated_at"):
                    ts = doc.get(key)
                    if isinstance(ts, dt.datetime):
                        ts = ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
                        # re-read the newest second next time: a write in the same instant is not missed
                        if self._watermark is None or ts > self._watermark:
                            self._watermark = ts
            if self._watermark is None:
                self._watermark = since
            self.ready = True
        return changed

    def add(self, doc: Mapping[str, Any]) -> None:
        """Take one document as it is being stored (the same one a later refresh reads again)."""
        with self._lock:
            self._add(doc)

    def _add(self, doc: Mapping[str, Any]) -> bool:
        """Index one document; True when that changed the index."""
        doc_id = str(doc.get("_id") or "")
        found = judgment_of(doc)
        if found is not None and self._by_id.get(doc_id) == found:
            return False
        old = self._by_id.pop(doc_id, None)
        if old is not None:
            self._families.get((old[0], old[1]), {}).pop(doc_id, None)
        if found is None or not doc_id:
            return old is not None
        self._by_id[doc_id] = found
        self._families.setdefault((found[0], found[1]), {})[doc_id] = found[2]
        while len(self._by_id) > self.max_judgments:
            gone_id, (ns, tpl, _) = self._by_id.popitem(last=False)
            family = self._families.get((ns, tpl), {})
            family.pop(gone_id, None)
            if not family:
                self._families.pop((ns, tpl), None)
        return True

    def family(self, namespace: str, template: str) -> list[Judgment]:
        """The judgments of one family, in the order they were read."""
        with self._lock:
            return list(self._families.get((namespace, template), {}).values())

    def __len__(self) -> int:
        return len(self._by_id)
