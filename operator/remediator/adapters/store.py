"""The learning loop's MongoDB store (written for FerretDB 1.x as much as for MongoDB).

Collections of the database named in the URI's path (``mongodb://host/<db>``), ``kube_remediator`` when the
URI names none:

- ``errorevents``: raw event texts and their classification, ``_id`` = ``<ns>/<name>/<uid>``. Kept for
  ``retention_days``: FerretDB 1.x has no TTL indexes, so every document carries ``expires_at`` and
  ``purge_expired()`` (call it periodically) deletes what is past it.
- ``remediations``: decision, action, outcome and model version of each Remediation, ``_id`` likewise.
- ``feedback``: one document per Remediation and feedback source, ``_id`` from ``feedback.feedback_id``, and
  for human verdicts one per Remediation and person (``feedback.judgment_id``, field ``judge``); written with
  an upsert, so writing it again is a no-op and it is never duplicated.

No transactions, no ``$lookup``, no change streams: every write is a single-document upsert by ``_id``.
Free texts are scrubbed of secrets (``remediator.learning.feedback.scrub``) again here, as the last gate.
Connection problems of any call surface as one exception, ``StoreUnavailable``; callers keep what they
wanted to write (feedback waits in the Remediation's status) and try again later.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from remediator import metrics
from remediator.domain import clock
from remediator.domain.redact import scrub

if TYPE_CHECKING:
    from pymongo import MongoClient

# pymongo itself is imported when a store is made (about 6 MB of the operator's RSS, unused without MongoDB).
ASCENDING, DESCENDING = 1, -1  # pymongo's sort and index directions

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_DB = "kube_remediator"
ERROREVENTS, REMEDIATIONS, FEEDBACK = "errorevents", "remediations", "feedback"
_TEXT_FIELDS = ("reason", "message", "logs")


class StoreUnavailable(RuntimeError):
    """The store cannot be reached (down, network, timeout). Nothing was written; retry later."""


def _now() -> dt.datetime:
    # BSON dates have millisecond precision.
    now = clock.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class FeedbackStore:
    """A pymongo client and the three collections; thread-safe (pymongo's client is)."""

    def __init__(
        self,
        uri: str,
        db: str | None = None,
        timeout_ms: int = 2000,
        *,
        retention_days: float = 30.0,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        from pymongo import MongoClient

        self.retention = dt.timedelta(days=retention_days)
        self.clock = clock
        self.client: MongoClient[dict[str, Any]] = MongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 5, 10_000),
            tz_aware=True,
            appname="kube-remediator",
            retryWrites=False,  # FerretDB 1.x has no sessions to retry in; our writes are idempotent upserts
        )
        # An explicit ``db`` wins, then the URI's database, then DEFAULT_DB.
        self.db = self.client[db] if db else self.client.get_default_database(default=DEFAULT_DB)
        self.errorevents = self.db[ERROREVENTS]
        self.remediations = self.db[REMEDIATIONS]
        self.feedback = self.db[FEEDBACK]
        self._indexed = False
        self._index_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    # -- plumbing -----------------------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from pymongo.errors import ConnectionFailure

        try:
            result = fn()
        except ConnectionFailure as err:  # includes ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout
            metrics.STORE_UP.labels(store="mongodb").set(0)
            metrics.STORE_ERRORS.labels(operation=what.split(" ", 1)[0]).inc()  # "write", "read": few values
            raise StoreUnavailable(f"{what}: MongoDB unavailable: {err}") from err
        metrics.STORE_UP.labels(store="mongodb").set(1)
        return result

    def ensure_indexes(self) -> None:
        """Create the indexes training and expiry need (idempotent; done once, before the first write)."""
        if self._indexed:
            return
        with self._index_lock:
            if self._indexed:
                return

            def create() -> None:
                self.errorevents.create_index([("expires_at", ASCENDING)], name="expires_at")
                self.errorevents.create_index([("created_at", DESCENDING)], name="created_at")
                self.errorevents.create_index([("ref", ASCENDING)], name="ref")
                self.remediations.create_index([("created_at", DESCENDING)], name="created_at")
                self.remediations.create_index([("model_version", ASCENDING)], name="model_version")
                self.feedback.create_index([("created_at", DESCENDING)], name="created_at")
                self.feedback.create_index([("label", ASCENDING)], name="label")
                self.feedback.create_index([("source", ASCENDING)], name="source")
                self.feedback.create_index([("model_version", ASCENDING)], name="model_version")

            self._call("create indexes", create)
            self._indexed = True

    def ping(self) -> bool:
        """True when the server answers a ping within the timeout; never raises."""
        from pymongo.errors import PyMongoError

        try:
            return bool(self.client.admin.command("ping").get("ok") == 1)
        except PyMongoError:
            return False

    @staticmethod
    def _scrubbed(doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        for key in _TEXT_FIELDS:
            if isinstance(out.get(key), str):
                out[key] = scrub(out[key])
        return out

    def _upsert(self, collection: Any, key: str, doc: dict[str, Any], *, refresh: bool) -> bool:
        """Insert ``doc`` under ``_id`` = key; if it exists, update it (``refresh``) or leave it. True when the
        document was new. ``created_at`` is the first write's time."""
        self.ensure_indexes()
        body = {k: v for k, v in doc.items() if k not in ("_id", "created_at")}
        created = doc.get("created_at") or self.clock()
        update: dict[str, Any] = {"$setOnInsert": {"created_at": created}}
        if refresh:
            update["$set"] = {**body, "updated_at": self.clock()}
        else:
            update["$setOnInsert"].update(body)

        def write() -> bool:
            from pymongo.errors import DuplicateKeyError

            try:
                result = collection.update_one({"_id": key}, update, upsert=True)
            except DuplicateKeyError:  # two writers raced on the same _id: the other one inserted it
                return False
            return result.upserted_id is not None

        return self._call(f"write {collection.name} {key}", write)

    # -- errorevents --------------------------------------------------------------------------------------
    def record_errorevent(self, doc: dict[str, Any]) -> bool:
        """Store an ErrorEvent document (``feedback.errorevent_document``) until now + retention."""
        key = str(doc.get("_id") or doc["key"])
        body = {**self._scrubbed(doc), "expires_at": self.clock() + self.retention}
        return self._upsert(self.errorevents, key, body, refresh=True)

    def purge_expired(self, now: dt.datetime | None = None) -> int:
        """Delete ErrorEvent documents past ``expires_at`` (FerretDB has no TTL index); the number deleted."""
        cutoff = now or self.clock()
        return self._call(
            "purge errorevents",
            lambda: int(self.errorevents.delete_many({"expires_at": {"$lte": cutoff}}).deleted_count),
        )

    # -- remediations -------------------------------------------------------------------------------------
    def record_remediation(self, doc: dict[str, Any]) -> bool:
        """Store or update a Remediation document (``feedback.remediation_document``)."""
        key = str(doc.get("_id") or doc["key"])
        return self._upsert(self.remediations, key, self._scrubbed(doc), refresh=True)

    # -- feedback -----------------------------------------------------------------------------------------
    def record_feedback(self, doc: dict[str, Any]) -> bool:
        """Store one feedback document (``feedback.feedback_document``) under its ``_id``: True when it was
        new. Writing it again updates the same document (a human who changed their mind), never a second."""
        return self._upsert(self.feedback, str(doc["_id"]), self._scrubbed(doc), refresh=True)

    def feedback_since(
        self, since: dt.datetime | None = None, labels: tuple[str, ...] = ()
    ) -> Iterator[dict[str, Any]]:
        """Feedback documents for training, oldest first (materialised, so a dropped connection mid-iteration
        raises StoreUnavailable here rather than in the caller's loop)."""
        query: dict[str, Any] = {}
        if since is not None:
            query["created_at"] = {"$gte": since}
        if labels:
            query["label"] = {"$in": list(labels)}
        docs = self._call("read feedback", lambda: list(self.feedback.find(query).sort("created_at", ASCENDING)))
        return iter(docs)

    def judgments_since(self, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        """Human feedback documents (human verdicts and rejections) written or updated at or after ``since``,
        oldest first: what the serving-time corrections index reads incrementally."""
        query: dict[str, Any] = {"source": {"$in": ["human", "rejection"]}}
        if since is not None:
            query["$or"] = [{"created_at": {"$gte": since}}, {"updated_at": {"$gte": since}}]
        docs = self._call("read judgments", lambda: list(self.feedback.find(query).sort("created_at", ASCENDING)))
        return iter(docs)

    def errorevents_by_ref(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        """The newest stored ErrorEvent document per ``<ns>/<name>`` ref (texts of deleted ErrorEvents)."""
        if not refs:
            return {}
        docs = self._call(
            "read errorevents",
            lambda: list(self.errorevents.find({"ref": {"$in": refs}}).sort("created_at", ASCENDING)),
        )
        return {d["ref"]: d for d in docs}

    def count(self, collection: str, query: dict[str, Any] | None = None) -> int:
        return self._call(f"count {collection}", lambda: int(self.db[collection].count_documents(query or {})))
