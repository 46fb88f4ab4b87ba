"""Keyword-rule baseline, in the style of existing remediation tools: the first matching rule decides the
type, the action is the type's default. Confidence is a fixed per-rule constant (no calibration)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from remediator_model.predict import ErrorInput, Prediction
from remediator_model.taxonomy import DEFAULT_ACTIONS

RULES: list[tuple[str, str, float]] = [
    (
        "oom",
        r"oomkill|out of memory|outofmemory|heap out of memory|memoryerror|cannot allocate memory|exit code 137",
        0.95,
    ),
    (
        "image_pull",
        r"errimagepull|imagepullbackoff|manifest unknown|pull access denied|exec format error|failed to pull image",
        0.95,
    ),
    (
        "resource_exhaustion",
        r"insufficient (cpu|memory)|nodes are available|evicted|no space left|disk pressure|too many open files|"
        r"exceeded quota",
        0.9,
    ),
    (
        "permission_denied",
        r"forbidden|permission denied|access denied|accessdenied|read-only file system|unauthorized|eacces",
        0.9,
    ),
    (
        "config_issue",
        r"configmap .* not found|secret .* not found|createcontainerconfigerror|keyerror|environment variable|"
        r"placeholder|config",
        0.85,
    ),
    ("probe_failure", r"liveness probe|readiness probe|startup probe|unhealthy", 0.85),
    ("timeout", r"timeout|timed out|deadline exceeded", 0.85),
    (
        "dependency_error",
        r"connection refused|econnrefused|enotfound|could not connect|unavailable|no such host|name resolution",
        0.85,
    ),
    ("app_crash", r"exception|traceback|panic|segmentation fault|fatal|crashloopbackoff|error", 0.6),
]
_COMPILED = [(t, re.compile(p, re.I), c) for t, p, c in RULES]


class KeywordBaseline:
    version = "keyword-baseline/1"

    def predict(self, e: ErrorInput) -> Prediction:
        text = f"{e.reason}\n{e.message}\n{e.logs}"
        for t, rx, conf in _COMPILED:
            m = rx.search(text)
            if m:
                return Prediction(
                    t,
                    DEFAULT_ACTIONS[t][0],
                    conf,
                    "app_crash" if t != "app_crash" else "config_issue",
                    0.0,
                    f'keyword "{m.group(0)}"',
                    [f'"{m.group(0)}"'],
                    self.version,
                )
        return Prediction("app_crash", "notify", 0.3, "config_issue", 0.0, "no rule matched", [], self.version)

    def predict_batch(self, events: Sequence[ErrorInput]) -> list[Prediction]:
        return [self.predict(e) for e in events]
