"""The decision step: what a new Remediation may do (auto-apply, wait for approval, or skip), and why.

Two ways in, one way out. Triage decides for the Remediations the operator creates from its own
classification and writes that decision to status at once (``initial_status``). A Remediation whose status
is still empty when its handler runs was written by someone else (or its creator crashed before writing
status): ``Decider.initialise`` treats it as a user's proposal, whose own spec.confidence and flags count
for nothing, and which never auto-applies. No annotation is ever read as a decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube
from remediator.domain import clock, incident_trace
from remediator.domain import decide as decisions
from remediator.domain.policy import Policy
from remediator.domain.types import Classification, Reason
from remediator.pipeline.facts import decide_on_history, facts_and_history
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.view import target_ref

USER_PROPOSAL = Reason(
    "UserProposal",
    "written by a user, not by the operator from a failure it observed: applied only after an approval",
)


def requesters(rem: dict[str, Any], errorevent: dict[str, Any] | None) -> list[str]:
    """Who asked for this change (the admission policy guarantees these annotations name their creators)."""
    names = [
        ((obj or {}).get("metadata") or {}).get("annotations", {}).get(api.REQUESTED_BY) for obj in (errorevent, rem)
    ]
    return sorted({str(n)[:253] for n in names if n})


# How far before its ErrorEvent a failure may claim to have been first seen (spec.firstSeen is the writer's
# word): an older or a future claim is replaced by the ErrorEvent's creation, so no writer skews the latency.
FIRST_SEEN_LOOKBACK = dt.timedelta(hours=24)
CLOCK_SKEW = dt.timedelta(seconds=60)


def failure_seen_at(errorevent: dict[str, Any] | None) -> dt.datetime | None:
    """When the failure this Remediation answers was first seen: the ErrorEvent's spec.firstSeen, within
    FIRST_SEEN_LOOKBACK before the ErrorEvent's creation; otherwise its creation (None without an ErrorEvent)."""
    if not errorevent:
        return None
    meta = errorevent.get("metadata") or {}
    try:
        created = clock.parse_time(meta.get("creationTimestamp"))
        claimed = clock.parse_time((errorevent.get("spec") or {}).get("firstSeen"))
    except (TypeError, ValueError):
        return None
    if created is None:
        return claimed
    if claimed is None or not created - FIRST_SEEN_LOOKBACK <= claimed <= created + CLOCK_SKEW:
        return created
    return claimed


def initial_status(
    decision: decisions.Decision,
    origin: api.Origin,
    generation: int | None,
    requested_by: list[str],
    now: dt.datetime,
    policy: Policy,
    failure_seen: dt.datetime | None = None,
    trace: Mapping[str, Any] | None = None,
) -> Transition:
    """The first status of a Remediation: its decision, where it comes from, who asked for it, when the
    failure it answers was first seen (for the failure-to-fix latencies), and its incident's trace."""
    if origin == api.Origin.USER and decision.mode != "skip" and decision.action != "notify":
        # Whatever else holds it back, the first reason a user's proposal waits is that it is one.
        decision = decisions.downgrade_to_approval(decision, USER_PROPOSAL, now, policy)
    fields: dict[str, Any] = {
        "proposedAt": clock.format_time(now),
        "origin": str(origin),
        "proposedGeneration": generation,
        "requestedBy": requested_by,
        "evidence": list(decision.evidence)[:16],
        "reasons": decision.codes()[:16],
    }
    if failure_seen is not None:
        fields["failureSeenAt"] = clock.format_time(failure_seen)
    if trace:
        fields["trace"] = dict(trace)
    if decision.phase == api.Phase.PENDING_APPROVAL:
        expires = decision.expires_at or now + dt.timedelta(seconds=policy.approval_ttl_seconds)
        fields["expiresAt"] = clock.format_time(expires)
    if decision.phase == api.Phase.APPROVED:
        fields["approvedAt"] = clock.format_time(now)
        fields["approvedBy"] = "policy"
    return Transition(
        decision.phase, decision.reason.code, decision.message(), warning=decision.mode == "skip", fields=fields
    )


class Decider:
    def __init__(self, kube: Kube, policies: PolicySource) -> None:
        self.kube, self.policies = kube, policies

    def decide(self, rem: dict[str, Any], now: dt.datetime) -> decisions.Decision:
        """The decision for a Remediation as written (a user's proposal, or any one right before its change):
        the evidence rules gate its action and never replace it."""
        spec = rem["spec"]
        ref = target_ref(rem)
        name = rem["metadata"]["name"]
        facts, _, past = facts_and_history(self.kube, ref, exclude=name)
        classification = Classification(
            error_type=spec["errorType"],
            action=spec["action"],
            confidence=float(spec["confidence"]),
            model_version=spec.get("modelVersion", ""),
        )
        return decide_on_history(
            self.kube,
            decisions.DecisionInputs(
                classification=classification,
                policy=self.policies.for_namespace(ref.namespace),
                workload=facts,
                now=now,
                parameters=spec.get("parameters") or {},
                choose_action=False,  # a user's proposal, or the proposed action at apply time
            ),
            exclude=name,
            local=past,
        )

    def initialise(self, rem: dict[str, Any]) -> Transition:
        """A Remediation with no status: a user's proposal (see the module docstring)."""
        now = clock.now()
        ee_name = (rem["spec"].get("errorEventRef") or {}).get("name")
        errorevent = self.kube.get_cr(api.ERROREVENTS, rem["metadata"]["namespace"], ee_name) if ee_name else None
        policy = self.policies.for_namespace(rem["metadata"]["namespace"])
        return initial_status(
            self.decide(rem, now),
            api.Origin.USER,
            rem["metadata"].get("generation"),
            requesters(rem, errorevent),
            now,
            policy,
            failure_seen_at(errorevent),
            incident_trace.for_remediation(rem, errorevent).to_status(),
        )
