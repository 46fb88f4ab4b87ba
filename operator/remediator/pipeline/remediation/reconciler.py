"""One reconcile pass of a Remediation: lock -> re-read -> STEPS[phase] -> StatusWriter, until it waits.

decision -> approval or expiry -> dry run -> apply -> verify -> (undo) -> feedback. Every step returns a
Transition that is written to status before the next step acts, so a restarted operator reads the phase
and continues where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube
from remediator.domain import clock
from remediator.domain.actions.base import Refusal
from remediator.locks import KeyedLocks
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.apply import Applier
from remediator.pipeline.remediation.approval import approval
from remediator.pipeline.remediation.decision import Decider
from remediator.pipeline.remediation.status import StatusWriter
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.verify import Verifier

log = logging.getLogger(__name__)

Step = Callable[[dict[str, Any]], Transition | None]
# Phases whose next step follows at once; the others wait for an annotation, a deadline or the workload.
_RUN_ON = frozenset({api.Phase.APPROVED, api.Phase.APPLYING})


class Reconciler:
    def __init__(
        self,
        kube: Kube,
        policies: PolicySource,
        locks: KeyedLocks | None = None,
        on_final: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        self.kube = kube
        self.locks = locks or KeyedLocks()
        self.on_final = on_final
        self.writer = StatusWriter(kube)
        self.decider = Decider(kube, policies)
        self.applier = Applier(kube, policies, self.decider)
        self.verifier = Verifier(kube, policies)
        self.steps: dict[str | None, Step] = {
            None: self.decider.initialise,
            api.Phase.PENDING_APPROVAL: self._pending,
            api.Phase.APPROVED: self.applier.prepare,
            api.Phase.APPLYING: self.applier.send,
            api.Phase.VERIFYING: self.verifier.check,
        }

    def reconcile(self, rem: dict[str, Any]) -> str | None:
        """One pass; returns the phase it left (None when the object is gone).

        kopf runs the change handlers and the timer of one object concurrently, each with its own (possibly
        stale) body: so passes of one Remediation run one at a time, and each starts from the object as the
        API server has it now. Otherwise a timer holding the pre-decision body decides and applies twice."""
        meta = rem["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        with self.locks(key):
            fresh = self.kube.get_cr(api.REMEDIATIONS, *key)
            if fresh is None or fresh["metadata"].get("uid") != meta.get("uid"):
                self.locks.forget(key)
                return None
            return self._run(fresh)

    def _run(self, rem: dict[str, Any]) -> str | None:
        phase = (rem.get("status") or {}).get("phase")
        while (step := self.steps.get(phase)) is not None:
            transition = step(rem)
            if transition is None or self._unchanged(rem, transition):
                break
            rem = self.writer.write(rem, transition)
            previous, phase = phase, transition.phase
            if phase == api.Phase.FAILED and previous == api.Phase.VERIFYING:
                self._undo(rem)
            if phase not in _RUN_ON:
                break
        if api.is_final(phase) and self.on_final is not None:
            self.on_final(rem)
        return phase

    @staticmethod
    def _unchanged(rem: dict[str, Any], t: Transition) -> bool:
        """A step that repeats the status as it is (an invalid annotation seen again) writes nothing."""
        status = rem.get("status") or {}
        return t.phase == status.get("phase") and t.reason == status.get("reason") and t.event and not t.fields

    def _pending(self, rem: dict[str, Any]) -> Transition | None:
        expires = clock.parse_time((rem.get("status") or {}).get("expiresAt"))
        return approval(rem["metadata"].get("annotations"), expires, clock.now())

    def _undo(self, rem: dict[str, Any]) -> None:
        result = self.applier.undo(rem)
        if isinstance(result, Refusal):
            self.writer.events(rem, result.code, result.message, warning=True)
        elif result is not None:
            self.writer.write(rem, result)
