"""Error templates per type, written from real error formats (kubelet/scheduler/controller event strings,
container runtime messages, language runtimes and client libraries). Each template returns a Draft; the
generator adds log noise, truncation and context around it.

Templates live in one module per error type; every template draws names, numbers and paths at random so the
model learns the signal words, not the template. This module holds the Draft, the registry and shared helpers.
The generator draws `rng.choice(TEMPLATES[type])`, so the order of templates within a type module is part of
the seeded corpus: add new templates at the end.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from remediator_model.corpus import vocab as V
from remediator_model.taxonomy import ERROR_TYPES


@dataclass
class Draft:
    error_type: str
    reason: str = ""
    exit_code: int | None = None
    message: str = ""
    log_lines: list[str] = field(default_factory=list)
    actions: tuple[str, ...] = ()
    template: str = ""


Template = Callable[[random.Random, str], Draft]
# Keyed in taxonomy order whatever order the type modules are imported in.
TEMPLATES: dict[str, list[Template]] = {t: [] for t in ERROR_TYPES}


def template(error_type: str) -> Callable[[Template], Template]:
    def deco(fn: Template) -> Template:
        TEMPLATES.setdefault(error_type, []).append(fn)
        return fn

    return deco


def c(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def backoff(rng: random.Random, svc: str) -> str:
    pod = V.pod_name(rng, svc)
    return (
        f"back-off {c(rng, '10s', '20s', '40s', '1m20s', '2m40s', '5m0s')} restarting failed "
        f"container={svc} pod={pod}_{rng.choice(V.NAMESPACES)}({V.uuid(rng)})"
    )


def crash_reason(rng: random.Random) -> str:
    return c(rng, "CrashLoopBackOff", "Error", "BackOff", "CrashLoopBackOff", "")


# Importing the type modules registers their templates. They import the names above, so this comes last.
from remediator_model.corpus.templates import (  # noqa: E402, F401
    app_crash,
    config_issue,
    dependency_error,
    image_pull,
    oom,
    permission_denied,
    probe_failure,
    resource_exhaustion,
    timeout,
)
