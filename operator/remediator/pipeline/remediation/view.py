"""Small readers of a Remediation body, so `rem["spec"]["target"]...` is spelled out once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.domain.types import WorkloadRef


def target_ref(rem: Mapping[str, Any]) -> WorkloadRef:
    target = rem["spec"]["target"]
    return WorkloadRef(str(target["kind"]), str(target["name"]), str(rem["metadata"]["namespace"]))
