"""Seeded generator of labelled error events.

`generate(n, seed)` is deterministic for a given (n, seed). Each example carries the error type, the list of
actions a careful SRE would accept (preferred first) and `action` (the preferred one, used as the training
label of the action model)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from remediator_model.corpus import templates as T
from remediator_model.corpus import vocab as V
from remediator_model.taxonomy import DEFAULT_ACTIONS, ERROR_TYPES

# Mild, type-neutral warnings sprinkled in logs so a single scary word does not decide the class.
DISTRACTORS = [
    "WARN slow query took {ms}ms: SELECT * FROM orders WHERE id = $1",
    "WARN retrying request (attempt 2/5)",
    "DeprecationWarning: the 'punycode' module is deprecated",
    "WARNING: connection pool at 80% capacity",
    "warn: cache miss ratio above 40%",
    "W0412 12:01:02.123456 1 reflector.go:424] watch of *v1.ConfigMap ended with: an error on the server",
    "INFO Retrying in 5 seconds...",
    "WARN  Unable to load native-hadoop library for your platform... using builtin-java classes where applicable",
    "Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75.0",
    "npm WARN config production Use `--omit=dev` instead.",
    "WARNING: Running pip as the 'root' user can result in broken permissions",
    'level=warn msg="unexpected EOF on client connection with an open transaction"',
]

WRAPPERS = ("plain", "plain", "plain", "json", "ts", "compose", "kubectl", "syslog")


@dataclass(frozen=True)
class Example:
    reason: str
    exit_code: int | None
    message: str
    logs: str
    source: str
    error_type: str
    actions: tuple[str, ...]
    action: str
    weight: float = 1.0
    template: str = ""

    def to_record(self) -> dict[str, object]:
        d = asdict(self)
        d["actions"] = list(self.actions)
        d["error_class"] = self.error_type
        return d


def _wrap(rng: random.Random, line: str, style: str, svc: str, level: str) -> str:
    if style == "json":
        return json.dumps(
            {"level": level.lower(), "ts": V.timestamp(rng) or "2024-01-01T00:00:00Z", "logger": svc, "msg": line}
        )
    if style == "ts":
        return f"{V.timestamp(rng)} {level} {line}".strip()
    if style == "compose":
        return f"{svc}-1  | {line}"
    if style == "kubectl":
        return f"[pod/{V.pod_name(rng, svc)}/{svc}] {line}"
    if style == "syslog":
        month = rng.choice(["Jan", "Mar", "Jun", "Oct"])
        clock = f"10:{rng.randint(10, 59)}:{rng.randint(10, 59)}"
        return f"{month} {rng.randint(1, 28):2d} {clock} {svc} {svc}[{rng.randint(10, 9999)}]: {line}"
    return line


def _logs(rng: random.Random, draft: T.Draft, svc: str) -> str:
    if not draft.log_lines:
        if rng.random() < 0.35:  # events often come with an unrelated, healthy-looking log tail
            return "\n".join(V.noise_line(rng, svc) for _ in range(rng.randint(1, 4)))
        return ""
    style = rng.choice(WRAPPERS)
    level = rng.choice(["ERROR", "FATAL", "error", "CRITICAL", "E", "ERROR"])
    core: list[str] = []
    for i, line in enumerate(draft.log_lines):
        wrapped = style in ("compose", "kubectl", "syslog", "ts") or (style == "json" and i == 0)
        core.append(_wrap(rng, line, style, svc, level) if wrapped else line)
    before = [V.noise_line(rng, svc) for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8]))]
    after = [V.noise_line(rng, svc) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    if rng.random() < 0.15:
        before.insert(rng.randint(0, len(before)), rng.choice(DISTRACTORS).format(ms=rng.randint(500, 9000)))
    if rng.random() < 0.1:  # repeated error lines, as crash loops produce
        core = core + core[: rng.randint(1, len(core))]
    text = "\n".join(before + core + after)
    if rng.random() < 0.12 and len(text) > 120:  # the operator keeps only a tail
        cut = rng.randint(0, max(0, len(text) - 200))
        text = text[cut:]
    return text


def _source(rng: random.Random, draft: T.Draft) -> str:
    if draft.message and draft.reason:
        return rng.choice(["cluster", "cluster", "cluster", "alert", ""])
    return rng.choice(["cluster", "user", "api", "alert", "", ""])


def _one(rng: random.Random, error_type: str) -> Example:
    tpl = rng.choice(T.TEMPLATES[error_type])
    svc = rng.choice(V.SERVICES)
    draft = tpl(rng, svc)
    actions = draft.actions or DEFAULT_ACTIONS[error_type]
    message = draft.message
    if message and rng.random() < 0.1:
        message = message.lower() if rng.random() < 0.5 else message.replace('"', "'")
    reason = draft.reason
    if rng.random() < 0.05:  # reasons are sometimes lost on the way
        reason = ""
    return Example(
        reason=reason,
        exit_code=draft.exit_code,
        message=message,
        logs=_logs(rng, draft, svc),
        source=_source(rng, draft),
        error_type=error_type,
        actions=tuple(actions),
        action=actions[0],
        template=tpl.__name__,
    )


def iter_examples(n: int, seed: int = 0) -> Iterator[Example]:
    rng = random.Random(seed)
    for i in range(n):
        yield _one(rng, ERROR_TYPES[i % len(ERROR_TYPES)])


def generate(n: int, seed: int = 0) -> list[Example]:
    """`n` balanced examples (round-robin over types), deterministic for a given seed."""
    return list(iter_examples(n, seed))


def generate_records(n: int, seed: int = 0) -> list[dict[str, object]]:
    return [e.to_record() for e in generate(n, seed)]


def template_names() -> dict[str, list[str]]:
    return {k: [f.__name__ for f in v] for k, v in T.TEMPLATES.items()}


def write_jsonl(path: str | Path, n: int, seed: int = 0) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for e in iter_examples(n, seed):
            f.write(json.dumps(e.to_record()) + "\n")
