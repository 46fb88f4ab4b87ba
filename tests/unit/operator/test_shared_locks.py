"""The Runtime shares one KeyedLocks between the reconciler, triage, the feedback recorder and the notification
sender: an empty KeyedLocks is falsy (it has __len__), and `locks or KeyedLocks()` silently made private ones,
so a status write of the sender or the recorder could land in the middle of a reconcile pass (409 Conflict
on the pass's next write, e.g. after an undo had been applied)."""

from __future__ import annotations

from remediator.locks import KeyedLocks
from remediator.pipeline.remediation.reconciler import Reconciler
from remediator.pipeline.triage import Triage


def test_an_empty_shared_lock_set_is_used_not_replaced() -> None:
    locks = KeyedLocks()
    assert not locks  # the trap: empty is falsy
    reconciler = Reconciler(kube=None, policies=None, locks=locks)  # type: ignore[arg-type]
    assert reconciler.locks is locks
    triage = Triage(None, None, None, locks, None)  # type: ignore[arg-type]
    assert triage.rem_locks is locks
