"""Model registry in S3.

    <prefix>/<version>/<file>...          every file of an artifact directory
    <prefix>/<version>/MANIFEST.json      {version, published_at, files: {path: {sha256, size}}}, written last
    <prefix>/CURRENT                      {version, published_at, previous, history}: the served model

A version is immutable once its manifest exists. Moving ``CURRENT`` is the only mutable step (one PUT), so
readers see either the old or the new pointer, never half of one. ``download`` verifies every checksum and
refuses the artifact (nothing left in ``dest_dir``) on any mismatch. Single writer assumed (the retrain job);
concurrent promotes are last-writer-wins.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from remediator.domain import clock

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.json"
POINTER = "CURRENT"
HISTORY_MAX = 20
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RegistryError(RuntimeError):
    pass


class ChecksumMismatch(RegistryError):
    pass


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", "")) if hasattr(err, "response") else ""


def _safe_relpath(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts):
        raise RegistryError(f"unsafe path in manifest: {name!r}")
    return rel


class ModelRegistry:
    def __init__(self, s3: Any, bucket: str, prefix: str = "models") -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/")

    def _key(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts])

    # -- reading ------------------------------------------------------------------------------------------
    def _get_json(self, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as err:
            if _code(err) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        try:
            return json.loads(obj["Body"].read()), str(obj.get("ETag", "")).strip('"')
        except json.JSONDecodeError as err:
            raise RegistryError(f"s3://{self.bucket}/{key} is not valid JSON: {err}") from err

    def pointer(self) -> tuple[dict[str, Any], str] | None:
        """The CURRENT pointer document and its ETag; None when nothing was published yet."""
        return self._get_json(self._key(POINTER))

    def current(self) -> tuple[str, str] | None:
        """(version, etag) of the served model; None when nothing was published yet."""
        got = self.pointer()
        if got is None:
            return None
        doc, etag = got
        return str(doc["version"]), etag

    def manifest(self, version: str) -> dict[str, Any] | None:
        got = self._get_json(self._key(version, MANIFEST))
        return got[0] if got else None

    def versions(self) -> list[str]:
        """Published versions (those with a manifest), in key order."""
        out = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "/"):
            for obj in page.get("Contents") or []:
                parts = obj["Key"][len(self.prefix) + 1 :].split("/")
                if len(parts) == 2 and parts[1] == MANIFEST:
                    out.append(parts[0])
        return out

    # -- writing ------------------------------------------------------------------------------------------
    def publish(self, artifact_dir: str | Path, version: str, *, make_current: bool = True) -> dict[str, Any]:
        """Upload every file of ``artifact_dir`` under ``<prefix>/<version>/``, then its manifest, then (by
        default) point CURRENT at it. Refuses a version that is already published. Returns the manifest."""
        if not _VERSION.match(version) or version == POINTER:
            raise RegistryError(f"invalid version {version!r}: letters, digits, '.', '_', '-' (max 128)")
        root = Path(artifact_dir)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        if not files:
            raise RegistryError(f"no files in artifact directory {root}")
        if self.manifest(version) is not None:
            raise RegistryError(f"version {version} is already published; versions are immutable")
        entries: dict[str, dict[str, Any]] = {}
        for path in files:
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            entries[rel] = {"sha256": _sha256(data), "size": len(data)}
            self.s3.put_object(Bucket=self.bucket, Key=self._key(version, rel), Body=data)
        manifest = {"version": version, "published_at": clock.format_time(clock.now()), "files": entries}
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._key(version, MANIFEST),
            Body=json.dumps(manifest, indent=1, sort_keys=True).encode(),
            ContentType="application/json",
        )
        log.info("model %s published to s3://%s/%s/ (%d files)", version, self.bucket, self._key(version), len(files))
        if make_current:
            self.promote(version)
        return manifest

    def _write_pointer(self, doc: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._key(POINTER),
            Body=json.dumps(doc, sort_keys=True).encode(),
            ContentType="application/json",
        )

    def promote(self, version: str) -> dict[str, Any]:
        """Point CURRENT at a published ``version`` (its previous target becomes ``previous``)."""
        if self.manifest(version) is None:
            raise RegistryError(f"version {version} is not published (no {MANIFEST})")
        got = self.pointer()
        old = got[0] if got else {}
        if old.get("version") == version:
            return old
        history = ([old["version"]] if old.get("version") else []) + list(old.get("history") or [])
        history = [v for v in history if v != version][:HISTORY_MAX]
        doc = {
            "version": version,
            "published_at": clock.format_time(clock.now()),
            "previous": history[0] if history else None,
            "history": history,
        }
        self._write_pointer(doc)
        log.info("model registry: CURRENT %s -> %s", old.get("version"), version)
        return doc

    def rollback(self) -> dict[str, Any]:
        """Point CURRENT back at ``previous``; raises RegistryError when there is none."""
        got = self.pointer()
        if got is None or not got[0].get("previous"):
            raise RegistryError("nothing to roll back to: CURRENT has no previous version")
        old = got[0]
        history = list(old.get("history") or [old["previous"]])
        target, rest = history[0], history[1:]
        if self.manifest(target) is None:
            raise RegistryError(f"previous version {target} is not published any more")
        doc = {
            "version": target,
            "published_at": clock.format_time(clock.now()),
            "previous": rest[0] if rest else None,
            "history": rest,
        }
        self._write_pointer(doc)
        log.warning("model registry: rolled back CURRENT %s -> %s", old["version"], target)
        return doc

    def download(self, version: str, dest_dir: str | Path) -> Path:
        """Download ``version`` into ``dest_dir`` (replaced if it exists), verifying size and sha256 of every
        file against the manifest. On any mismatch nothing is left at ``dest_dir`` and ChecksumMismatch is
        raised. Files go to a sibling temporary directory first and are renamed into place."""
        manifest = self.manifest(version)
        if manifest is None:
            raise RegistryError(f"version {version} is not published (no {MANIFEST})")
        if manifest.get("version") != version:
            raise RegistryError(f"manifest of {version} names version {manifest.get('version')!r}")
        dest = Path(dest_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
        try:
            for name, entry in sorted((manifest.get("files") or {}).items()):
                rel = _safe_relpath(name)
                data = self.s3.get_object(Bucket=self.bucket, Key=self._key(version, name))["Body"].read()
                if len(data) != entry.get("size") or _sha256(data) != entry.get("sha256"):
                    raise ChecksumMismatch(
                        f"model {version}: {name} does not match its manifest checksum; download refused"
                    )
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            if not (manifest.get("files") or {}):
                raise RegistryError(f"model {version}: empty manifest")
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return dest
