"""The approval step, pure: a pending Remediation's annotations, status and deadline -> the next transition.

Who approves is established by the API server: the admission policy (manifests/admission/) lets only
holders of the `approve` verb on remediations set the approve/reject annotations, and only together with
`remediator.dev/approver` naming themselves. This step adds what admission cannot know: separation of
duties (a requester may not approve their own change), that the policy is installed at all, and that the
approval is bound to the spec that was reviewed.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from remediator import api
from remediator.domain import clock
from remediator.pipeline.remediation.transition import Transition

_BOOLEAN = ("true", "false")


@dataclass(frozen=True)
class ApprovalInputs:
    annotations: Mapping[str, str]
    generation: int | None
    proposed_generation: int | None
    requested_by: Sequence[str]
    expires_at: dt.datetime | None
    now: dt.datetime
    guard_installed: bool = True
    allow_self_approval: bool = False


def _invalid(reason: str, message: str) -> Transition:
    return Transition(
        api.Phase.PENDING_APPROVAL,
        reason,
        message,
        warning=True,
        conditions=((api.Condition.ANNOTATIONS_VALID, "False", reason, message),),
    )


def rejection_reason(annotations: Mapping[str, str]) -> str:
    """remediator.dev/reject-reason as one inert line: control characters become spaces, runs of spaces one,
    at most REJECT_REASON_MAX characters (status.message holds 1024)."""
    raw = str(annotations.get(api.REJECT_REASON) or "")
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in raw)
    return " ".join(text.split())[: api.REJECT_REASON_MAX]


def approval(i: ApprovalInputs) -> Transition | None:
    """None while nothing changes (keep waiting); otherwise the transition the annotations ask for."""
    approve, reject = i.annotations.get(api.APPROVE), i.annotations.get(api.REJECT)
    # Bounded to status.approvedBy's 253 characters, so no annotation value can make the status write fail.
    approver = (i.annotations.get(api.APPROVER) or "").strip()[:253]
    for key, value in ((api.APPROVE, approve), (api.REJECT, reject)):
        if value is not None and value not in _BOOLEAN:
            return _invalid("InvalidAnnotation", f'{key}="{value}" is not "true" or "false"; nothing was done')
    if i.expires_at is not None and i.now >= i.expires_at:
        return Transition(
            api.Phase.EXPIRED,
            "ApprovalExpired",
            f"no approval before {clock.format_time(i.expires_at)}: the proposal is stale and will not be applied",
            fields={"completedAt": clock.format_time(i.now)},
        )
    if approve != "true" and reject != "true":
        return None
    if approve == "true" and reject == "true":
        return _invalid("ConflictingAnnotations", "both approve and reject are set to true; remove one")
    if not i.guard_installed:
        return _invalid(
            "ApprovalGuardMissing",
            "the admission policy that checks approvers is not installed, so nobody's approval can be trusted; "
            "install manifests/admission (the chart does)",
        )
    if not approver:
        return _invalid(
            "ApproverMissing",
            f"set {api.APPROVER} to your user name (as `kubectl auth whoami` shows it) together with the decision",
        )
    if reject == "true":
        why = rejection_reason(i.annotations)
        return Transition(
            api.Phase.REJECTED,
            "HumanRejected",
            f"rejected by {approver}" + (f": {why}" if why else ""),
            fields={
                "completedAt": clock.format_time(i.now),
                "approval": {"by": approver, "at": clock.format_time(i.now), "generation": i.generation},
                "feedback": {"label": "incorrect", "source": "rejection", "recorded": False},
            },
        )
    if approver in i.requested_by and not i.allow_self_approval:
        return _invalid(
            "SelfApproval",
            f"{approver} asked for this change and may not approve it too; another approver must "
            "(a RemediationPolicy may allow self-approval in its namespace)",
        )
    reviewed = i.annotations.get(api.APPROVED_GENERATION)
    if reviewed is not None and reviewed.strip() != str(i.generation):
        return _invalid(
            "StaleApproval",
            f"the approval names generation {reviewed}, but the spec is now at generation {i.generation}: "
            "review the current spec and approve again",
        )
    if reviewed is None and i.proposed_generation is not None and i.generation != i.proposed_generation:
        return _invalid(
            "SpecChangedSinceProposal",
            f"the spec changed since it was proposed (generation {i.proposed_generation} -> {i.generation}); "
            f"name the generation you reviewed with {api.APPROVED_GENERATION}",
        )
    return Transition(
        api.Phase.APPROVED,
        "HumanApproved",
        f"approved by {approver} (generation {i.generation})",
        fields={
            "approvedAt": clock.format_time(i.now),
            "approvedBy": approver,
            "approval": {"by": approver, "at": clock.format_time(i.now), "generation": i.generation},
        },
    )


def inputs_for(rem: Mapping[str, Any], now: dt.datetime, *, guard_installed: bool, allow_self: bool) -> ApprovalInputs:
    meta, status = rem["metadata"], rem.get("status") or {}
    return ApprovalInputs(
        annotations=meta.get("annotations") or {},
        generation=meta.get("generation"),
        proposed_generation=status.get("proposedGeneration"),
        requested_by=tuple(status.get("requestedBy") or ()),
        expires_at=clock.parse_time(status.get("expiresAt")),
        now=now,
        guard_installed=guard_installed,
        allow_self_approval=allow_self,
    )


def approval_voided(rem: Mapping[str, Any]) -> Transition | None:
    """An approved spec that changed before it was applied goes back to waiting (a new approval is needed)."""
    meta, status = rem["metadata"], rem.get("status") or {}
    granted = status.get("approval") or {}
    if not granted or granted.get("generation") is None or granted.get("generation") == meta.get("generation"):
        return None
    return Transition(
        api.Phase.PENDING_APPROVAL,
        "SpecChangedAfterApproval",
        f"the spec changed after {granted.get('by')} approved generation {granted.get('generation')}; "
        f"it is now at {meta.get('generation')} and needs a new approval",
        warning=True,
        fields={"approval": None, "proposedGeneration": meta.get("generation")},
    )
