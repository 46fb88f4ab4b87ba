"""An in-memory stand-in for adapters.kube.Kube: just enough API for the reconciler's unit tests."""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

from remediator.adapters.kube import NotFound
from remediator.adapters.kubeapi import ApiException
from remediator.domain.types import WorkloadRef


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind or plural, ns, name)
        self.pods: list[dict[str, Any]] = []
        self.patches: list[tuple[WorkloadRef, dict[str, Any], str, bool]] = []
        self.evictions: list[tuple[str, str, bool]] = []
        self.events: list[tuple[str, str, bool]] = []
        self.status_writes = 0
        self.guard = True
        self.removed_annotations: list[list[str]] = []
        self._rv = itertools.count(1)
        # API calls by kind, for the tests that count requests (intake, counts)
        self.requests: Counter[str] = Counter()
        self.before_patch: Callable[[str, str, str], None] | None = None

    # -- workloads
    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        self.objects[(obj["kind"], meta["namespace"], meta["name"])] = obj
        return obj

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        self.requests[f"get {ref.kind}"] += 1
        obj = self.objects.get((ref.kind, ref.namespace, ref.name))
        if obj is None:
            raise NotFound(f"{ref.kind} {ref.name}")
        return copy.deepcopy(obj)

    def pods_of(self, workload: dict[str, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(self.pods)

    def replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        return []

    def has_hpa(self, ref: WorkloadRef) -> bool:
        return False

    def pod_usage(self, workload: dict[str, Any]) -> None:
        return None  # as without metrics.k8s.io

    def namespace_annotations(self, namespace: str) -> tuple[dict[str, str], dict[str, str]]:
        self.requests["get Namespace"] += 1
        meta = self.objects.get(("Namespace", "", namespace), {}).get("metadata", {})
        return dict(meta.get("labels") or {}), dict(meta.get("annotations") or {})

    def patch(self, ref: WorkloadRef, body: dict[str, Any], patch_type: str, *, dry_run: bool) -> dict[str, Any]:
        self.patches.append((ref, body, patch_type, dry_run))
        return self.get(ref)

    def evict(self, namespace: str, pod: str, *, dry_run: bool) -> bool:
        self.evictions.append((namespace, pod, dry_run))
        return True

    # -- custom resources
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.requests["get_cr"] += 1
        obj = self.objects.get((plural, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for (p, ns, _), o in self.objects.items() if p == plural and namespace in (None, ns)]

    def remediations_for(self, ref: WorkloadRef) -> list[dict[str, Any]]:
        return [
            r
            for r in self.list_cr("remediations", ref.namespace)
            if r["spec"]["target"]["kind"] == ref.kind and r["spec"]["target"]["name"] == ref.name
        ]

    def create_cr(self, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        self.requests["create"] += 1
        if (plural, namespace, body["metadata"]["name"]) in self.objects:
            return None
        obj = copy.deepcopy(body)
        obj["metadata"].update(namespace=namespace, resourceVersion=str(next(self._rv)))
        return copy.deepcopy(self.put_cr(plural, obj))

    def patch_cr(
        self, plural: str, namespace: str, name: str, body: dict[str, Any], *, expect_conflict: bool = False
    ) -> dict[str, Any]:
        """A JSON merge patch (two levels deep), honouring a resourceVersion precondition; `before_patch`
        runs first, as another writer changing the object at that moment would."""
        self.requests["patch"] += 1
        if self.before_patch is not None:
            self.before_patch(plural, namespace, name)
        obj = self.objects.get((plural, namespace, name))
        if obj is None:
            raise ApiException(status=404, reason="Not Found")
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != obj["metadata"].get("resourceVersion"):
            raise ApiException(status=409, reason="Conflict")
        for part, values in body.items():
            if part != "metadata":
                obj.setdefault(part, {}).update(values)
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        return copy.deepcopy(obj)

    def delete_cr(self, plural: str, namespace: str, name: str, uid: str) -> None:
        self.requests["delete"] += 1
        obj = self.objects.get((plural, namespace, name))
        if obj is not None and obj["metadata"]["uid"] == uid:
            del self.objects[(plural, namespace, name)]

    def previous_logs(self, namespace: str, pod: str, container: str | None, lines: int, max_bytes: int) -> str:
        self.requests["logs"] += 1
        return "panic: boom"

    def put_cr(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        self.objects[(plural, meta["namespace"], meta["name"])] = obj
        return obj

    def patch_status(
        self, plural: str, namespace: str, name: str, status: dict[str, Any], *, resource_version: str | None = None
    ) -> dict[str, Any]:
        obj = self.objects[(plural, namespace, name)]
        if resource_version and resource_version != obj["metadata"].get("resourceVersion"):
            raise ApiException(status=409, reason="Conflict")
        merged = dict(obj.get("status") or {})
        for key, value in status.items():  # a JSON merge patch, one level deep is enough here
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        obj["status"] = merged
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        self.status_writes += 1
        return copy.deepcopy(obj)

    def approval_guard_installed(self) -> bool:
        return self.guard

    def remove_annotations(self, plural: str, namespace: str, name: str, keys: list[str]) -> None:
        ann = self.objects[(plural, namespace, name)]["metadata"].setdefault("annotations", {})
        for key in keys:
            ann.pop(key, None)
        self.removed_annotations.append(keys)

    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        self.events.append((obj["metadata"]["name"], reason, warning))
