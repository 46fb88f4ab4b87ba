"""Builders of Remediation / ErrorEvent dicts and small fakes for the learning-loop unit tests."""

from __future__ import annotations

import copy
from typing import Any


def errorevent(name: str = "web-oom", ns: str = "shop", uid: str = "ee-uid-1", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "remediator.dev/v1alpha1",
        "kind": "ErrorEvent",
        "metadata": {"name": name, "namespace": ns, "uid": uid},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "reason": "OOMKilled",
            "exitCode": 137,
            "message": "container web was OOMKilled",
            "logs": "java.lang.OutOfMemoryError: Java heap space",
            "source": "cluster",
            "context": {"family": "oom"},
            **spec,
        },
        "status": {
            "phase": "Remediating",
            "classification": {
                "errorType": "oom",
                "action": "increase_memory",
                "confidence": 0.97,
                "modelVersion": "v1",
            },
        },
    }
    return body


def remediation(
    name: str = "web-oom",
    ns: str = "shop",
    uid: str = "rem-uid-1",
    feedback: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "remediator.dev/v1alpha1",
        "kind": "Remediation",
        "metadata": {"name": name, "namespace": ns, "uid": uid},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.97,
            "modelVersion": "v1",
            "errorEventRef": {"name": name},
            "autoApply": True,
            **spec,
        },
        "status": {
            "phase": "Succeeded",
            "outcome": {"result": "Succeeded"},
            "feedback": copy.deepcopy(feedback)
            if feedback is not None
            else {"label": "correct", "source": "verification", "recorded": False},
        },
    }


class FakeKube:
    """get_cr from a dict of objects; patch_status records its calls and can be told to fail N times."""

    def __init__(self, objects: dict[tuple[str, str, str], dict[str, Any]] | None = None) -> None:
        self.objects = objects or {}
        self.patches: list[tuple[str, str, str, dict[str, Any]]] = []
        self.fail_patches = 0
        self.fail_reads = 0

    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        if self.fail_reads:
            self.fail_reads -= 1
            raise RuntimeError("API server unavailable")
        obj = self.objects.get((plural, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        if self.fail_patches:
            self.fail_patches -= 1
            raise RuntimeError("simulated status patch failure")
        self.patches.append((plural, namespace, name, copy.deepcopy(status)))
        obj = self.objects.get((plural, namespace, name))
        if obj is None:
            return {}
        merged = obj.setdefault("status", {})
        for key, value in status.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return copy.deepcopy(obj)
