"""Failpoints: die by SIGKILL right after a named durable step, so tests prove every step survives a crash.

Off unless the process starts with REMEDIATOR_FAILPOINTS naming them (comma-separated), for example
``after-status:Undoing`` (the status write that records the intent to undo). Nothing a user writes in the
cluster can arm one, and the chart never sets the variable. The process kills itself with SIGKILL, as a
lost node or the OOM killer would: no handler, finaliser or flush runs after the step.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)
_ARMED = frozenset(p.strip() for p in os.environ.get("REMEDIATOR_FAILPOINTS", "").split(",") if p.strip())


def reached(name: str) -> None:
    """SIGKILL this process if the failpoint `name` is armed."""
    if name in _ARMED:
        log.warning("failpoint %s reached: SIGKILL", name)
        os.kill(os.getpid(), signal.SIGKILL)
