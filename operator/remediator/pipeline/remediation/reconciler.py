"""One reconcile pass of a Remediation: lock -> re-read -> STEPS[phase] -> StatusWriter, until it waits.

decision -> approval or expiry -> dry run -> apply -> verify -> (undo) -> feedback. Every step returns a
Transition that is written to status before the next step acts, so a restarted operator reads the phase
and continues where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube
from remediator.adapters.kubeapi import ApiException
from remediator.domain import clock, inflight
from remediator.domain.actions.base import Refusal
from remediator.domain.policy import self_approval_allowed
from remediator.locks import KeyedLocks
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.apply import Applier, api_message
from remediator.pipeline.remediation.approval import approval, approval_voided, inputs_for
from remediator.pipeline.remediation.decision import Decider
from remediator.pipeline.remediation.status import StatusWriter, TransitionObserver
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.verify import Verifier

log = logging.getLogger(__name__)

Step = Callable[[dict[str, Any]], Transition | None]
# Phases whose next step follows at once; the others wait for an annotation, a deadline or the workload.
_RUN_ON = frozenset({api.Phase.APPROVED, api.Phase.APPLYING, api.Phase.UNDOING})
_PERMANENT = {400, 403, 404, 405, 410, 422}
# An in-flight step (Approved, Applying, Undoing) that keeps failing transiently ends after this long instead
# of being retried forever: no Remediation stays non-final past its TTL or verify window plus this margin.
STEP_DEADLINE = inflight.STEP_WINDOW  # the stuck alert's window for a step (domain/inflight) is this one


class Reconciler:
    def __init__(
        self,
        kube: Kube,
        policies: PolicySource,
        locks: KeyedLocks | None = None,
        on_final: Callable[[dict[str, Any]], object] | None = None,
        observers: Sequence[TransitionObserver] = (),
    ) -> None:
        self.kube, self.policies = kube, policies
        self.locks = locks if locks is not None else KeyedLocks()  # not `or`: an empty KeyedLocks is falsy
        self.on_final = on_final
        self.writer = StatusWriter(kube, observers)
        self.decider = Decider(kube, policies)
        self.applier = Applier(kube, policies)
        self.verifier = Verifier(kube, policies)
        self.steps: dict[str | None, Step] = {
            None: self.decider.initialise,
            api.Phase.PENDING_APPROVAL: self._pending,
            api.Phase.APPROVED: self._approved,
            api.Phase.APPLYING: self.applier.send,
            api.Phase.VERIFYING: self._verify,
            api.Phase.UNDOING: self._undo,
        }
        self._guard_checked = 0.0
        self._guard_installed = False

    def reconcile(self, rem: dict[str, Any]) -> str | None:
        """One pass; returns the phase it left (None when the object is gone).

        kopf's change handlers and the wake-up scheduler may start passes of one object concurrently, each
        with its own (possibly stale) body: so passes of one Remediation run one at a time, and each starts
        from the object as the API server has it now. Otherwise a pass holding the pre-decision body decides
        and applies twice."""
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
        overdue = self._overdue(rem)
        if overdue is not None:
            rem = self.writer.write(rem, overdue)
            phase = overdue.phase
        while (step := self.steps.get(phase)) is not None:
            try:
                transition = step(rem)
            except ApiException as err:
                if err.status not in _PERMANENT:
                    raise  # transient: the handler retries with a delay
                # A 4xx that no retry can cure ends the Remediation with the reason, not an endless retry.
                transition = Transition(
                    api.Phase.FAILED,
                    "PermanentAPIError",
                    f"the API server refused with {err.status}: {api_message(err)}",
                    warning=True,
                    fields={"completedAt": clock.format_time(clock.now())},
                )
            if transition is None or self._unchanged(rem, transition):
                break
            rem = self.writer.write(rem, transition)
            phase = transition.phase
            if phase == api.Phase.PENDING_APPROVAL and transition.reason == "SpecChangedAfterApproval":
                self._drop_approval(rem)
            if phase not in _RUN_ON:
                break
        if api.is_final(phase) and self.on_final is not None:
            self.on_final(rem)
        return phase

    @staticmethod
    def _overdue(rem: dict[str, Any]) -> Transition | None:
        """Failed (StepTimedOut) for an in-flight step that began more than STEP_DEADLINE ago."""
        status = rem.get("status") or {}
        phase = status.get("phase")
        if phase not in (api.Phase.APPROVED, api.Phase.APPLYING, api.Phase.UNDOING):
            return None
        began = clock.parse_time(status.get("completedAt" if phase == api.Phase.UNDOING else "approvedAt"))
        if began is None or clock.now() - began < STEP_DEADLINE:
            return None
        left = {
            api.Phase.APPROVED: "nothing was changed",
            api.Phase.APPLYING: "status.change lists the requests, some of which may have been sent",
            api.Phase.UNDOING: "the change was not undone; status.change shows what to reverse by hand",
        }[phase]
        return Transition(
            api.Phase.FAILED,
            "StepTimedOut",
            f"{phase} did not finish within {int(STEP_DEADLINE.total_seconds())} s (the API server kept "
            f"failing): {left}",
            warning=True,
            fields={"completedAt": status.get("completedAt") or clock.format_time(clock.now())},
        )

    @staticmethod
    def _unchanged(rem: dict[str, Any], t: Transition) -> bool:
        """A step that repeats the status as it is (an invalid annotation seen again) writes nothing."""
        status = rem.get("status") or {}
        return t.phase == status.get("phase") and t.reason == status.get("reason") and t.event and not t.fields

    def guard_installed(self) -> bool:
        """The approval admission policy is there (re-checked at most every 30 s)."""
        if time.monotonic() - self._guard_checked > 30:
            self._guard_installed = self.kube.approval_guard_installed()
            self._guard_checked = time.monotonic()
        return self._guard_installed

    def _pending(self, rem: dict[str, Any]) -> Transition | None:
        allow_self = self_approval_allowed(
            rem["metadata"]["namespace"], self.policies.for_namespace(rem["metadata"]["namespace"])
        )
        return approval(inputs_for(rem, clock.now(), guard_installed=self.guard_installed(), allow_self=allow_self))

    def _approved(self, rem: dict[str, Any]) -> Transition:
        """Right before the change: an approval of an older spec is void; a hard stop (opt-out, excluded
        namespace, another active Remediation, ...) ends it as Skipped; otherwise plan, dry-run, record."""
        voided = approval_voided(rem)
        if voided is not None:
            return voided
        if rem["spec"]["action"] == "notify":
            # Changes nothing, so nothing that appeared since (an HPA, an opt-out, a limit) can make it unsafe:
            # no second decision and none of its reads (a storm's notifications would pay them per incident).
            return self.applier.prepare(rem, "notify")
        # Decided again now, once: what initialise announced ("apply means notify") is what happens, and an
        # HPA or opt-out that appeared since is respected.
        decided = self.decider.decide(rem, clock.now())
        if decided.mode == "skip":
            return Transition(
                api.Phase.SKIPPED,
                decided.reason.code,
                f"not applied: {decided.message()}",
                warning=True,
                fields={"completedAt": clock.format_time(clock.now())},
            )
        return self.applier.prepare(rem, decided.action)

    def _verify(self, rem: dict[str, Any]) -> Transition | None:
        """Verification's verdict; a failure whose change can be undone goes through Undoing, written first, so
        a restart between the verdict and the undo still undoes it."""
        verdict = self.verifier.check(rem)
        if verdict is None or verdict.phase != api.Phase.FAILED or not self.applier.undoable(rem):
            return verdict
        return Transition(
            api.Phase.UNDOING,
            verdict.reason,
            f"{verdict.message}; undoing the change",
            warning=True,
            fields=verdict.fields,
        )

    def _undo(self, rem: dict[str, Any]) -> Transition:
        result = self.applier.undo(rem)
        status = rem.get("status") or {}
        if isinstance(result, Transition):
            return result
        message = result.message if isinstance(result, Refusal) else "nothing to undo"
        return Transition(
            api.Phase.FAILED,
            result.code if isinstance(result, Refusal) else "NotUndone",
            f"{status.get('message') or 'verification failed'}; {message}",
            warning=True,
            fields={"completedAt": status.get("completedAt") or clock.format_time(clock.now())},
        )

    def _drop_approval(self, rem: dict[str, Any]) -> None:
        meta = rem["metadata"]
        keys = [api.APPROVE, api.REJECT, api.APPROVER, api.APPROVED_GENERATION, api.REJECT_REASON]
        if any(k in (meta.get("annotations") or {}) for k in keys):
            self.kube.remove_annotations(api.REMEDIATIONS, meta["namespace"], meta["name"], keys)
