"""Long-term archive of ErrorEvent texts in S3, for training: gzip-compressed JSON Lines batches.

    <prefix>/dt=YYYY-MM-DD/part-<YYYYmmddTHHMMSSffffffZ>-<uuid>.jsonl.gz

``write_batch`` writes one object now. ``add`` buffers records and writes a batch when ``max_records`` are
waiting or the oldest has waited ``max_age_seconds`` (``flush_due`` lets a timer flush by age). When S3 fails
the buffer is kept and retried on the next flush; it is bounded by ``max_buffer`` records, and only when
that bound is hit are the oldest records dropped: counted in ``dropped`` and logged, never silently.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from remediator.domain.clock import now as utc_now
from remediator.domain.redact import scrub

log = logging.getLogger(__name__)

_TEXT_FIELDS = ("reason", "message", "logs")


class ArchiveUnavailable(RuntimeError):
    """S3 refused or could not be reached; the batch was not written."""


def encode_batch(records: Iterable[dict[str, Any]]) -> bytes:
    """gzip(JSON Lines) of ``records``, texts scrubbed of secrets."""
    lines = []
    for rec in records:
        clean = {k: scrub(v) if k in _TEXT_FIELDS and isinstance(v, str) else v for k, v in rec.items()}
        lines.append(json.dumps(clean, sort_keys=True, default=str, ensure_ascii=False))
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)


def decode_batch(body: bytes) -> Iterator[dict[str, Any]]:
    for line in gzip.decompress(body).decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


class LogArchive:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str = "errorevents",
        *,
        max_records: int = 500,
        max_age_seconds: float = 300.0,
        max_buffer: int = 20_000,
        clock: Callable[[], dt.datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_buffer < max_records:
            raise ValueError("max_buffer must be at least max_records")
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/")
        self.max_records, self.max_age, self.max_buffer = max_records, max_age_seconds, max_buffer
        self.clock, self.monotonic = clock, monotonic
        self._buffer: deque[dict[str, Any]] = deque()
        self._oldest: float | None = None
        self._lock = threading.Lock()  # guards the buffer
        self._flush_lock = threading.Lock()  # one flush at a time
        self.dropped = 0  # records lost because the buffer bound was hit while S3 was failing
        self.written = 0
        self.failures = 0

    # -- writing ------------------------------------------------------------------------------------------
    def key_for(self, moment: dt.datetime) -> str:
        moment = moment.astimezone(dt.UTC)
        return f"{self.prefix}/dt={moment:%Y-%m-%d}/part-{moment:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.jsonl.gz"

    def write_batch(self, records: list[dict[str, Any]]) -> str | None:
        """Write ``records`` as one object now; its key (None for no records). Raises ArchiveUnavailable."""
        if not records:
            return None
        now = self.clock()
        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = encode_batch({**r, "archived_at": r.get("archived_at") or stamp} for r in records)
        key = self.key_for(now)
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/gzip")
        except Exception as err:  # botocore ClientError, EndpointConnectionError, ...: all mean "not written"
            raise ArchiveUnavailable(f"s3://{self.bucket}/{key}: {err}") from err
        self.written += len(records)
        return key

    def add(self, record: dict[str, Any]) -> None:
        """Buffer one record; writes a batch when it is full or old enough (S3 errors are kept, not raised)."""
        with self._lock:
            self._append(record)
            due = len(self._buffer) >= self.max_records or self._age() >= self.max_age
        if due:
            self.flush()

    def _append(self, record: dict[str, Any]) -> None:
        if not self._buffer:
            self._oldest = self.monotonic()
        self._buffer.append(record)
        overflow = len(self._buffer) - self.max_buffer
        if overflow > 0:
            for _ in range(overflow):
                self._buffer.popleft()
            self.dropped += overflow
            log.error(
                "log archive: buffer bound %d reached while S3 fails: dropped %d oldest record(s) (%d in total)",
                self.max_buffer,
                overflow,
                self.dropped,
            )

    def _age(self) -> float:
        return 0.0 if self._oldest is None else self.monotonic() - self._oldest

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def flush_due(self) -> bool:
        """Flush when the oldest buffered record has waited ``max_age_seconds`` (call from a timer)."""
        with self._lock:
            due = bool(self._buffer) and self._age() >= self.max_age
        return self.flush() if due else True

    def flush(self) -> bool:
        """Write everything buffered, in batches of ``max_records``. True when the buffer is empty after it;
        False when S3 failed (the unwritten records stay buffered, in order, for the next flush)."""
        with self._flush_lock:
            while True:
                with self._lock:
                    batch = [self._buffer[i] for i in range(min(self.max_records, len(self._buffer)))]
                if not batch:
                    return True
                try:
                    self.write_batch(batch)
                except ArchiveUnavailable as err:
                    self.failures += 1
                    log.warning("log archive: %d record(s) kept for a retry: %s", self.pending(), err)
                    return False
                with self._lock:
                    # Records may have been dropped from the front meanwhile (bound hit): drop only what is
                    # still the written batch's own.
                    for rec in batch:
                        if self._buffer and self._buffer[0] is rec:
                            self._buffer.popleft()
                    self._oldest = self.monotonic() if self._buffer else None

    # -- reading ------------------------------------------------------------------------------------------
    def keys_since(self, since: dt.date) -> Iterator[str]:
        """Keys of the batches of day ``since`` and later, in key (= time) order."""
        start_after = f"{self.prefix}/dt={since:%Y-%m-%d}"
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/dt=", StartAfter=start_after):
            for obj in page.get("Contents") or []:
                if obj["Key"].endswith(".jsonl.gz"):
                    yield obj["Key"]

    def read_since(self, since: dt.date | dt.datetime) -> Iterator[dict[str, Any]]:
        """Every archived record written on day ``since`` or later (UTC), oldest batch first."""
        day = since.date() if isinstance(since, dt.datetime) else since
        for key in self.keys_since(day):
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            yield from decode_batch(body)
