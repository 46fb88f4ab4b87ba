"""The approval step, pure: a pending Remediation's annotations and deadline -> the next transition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from remediator import api
from remediator.domain import clock
from remediator.pipeline.remediation.transition import Transition

_BOOLEAN = ("true", "false")


def _invalid(reason: str, message: str) -> Transition:
    return Transition(
        api.Phase.PENDING_APPROVAL,
        reason,
        message,
        warning=True,
        conditions=((api.Condition.ANNOTATIONS_VALID, "False", reason, message),),
    )


def approval(
    annotations: Mapping[str, str] | None, expires_at: dt.datetime | None, now: dt.datetime
) -> Transition | None:
    """None while nothing changes (keep waiting); otherwise the transition the annotations ask for."""
    annotations = annotations or {}
    approve, reject = annotations.get(api.APPROVE), annotations.get(api.REJECT)
    for key, value in ((api.APPROVE, approve), (api.REJECT, reject)):
        if value is not None and value not in _BOOLEAN:
            return _invalid("InvalidAnnotation", f'{key}="{value}" is not "true" or "false"; nothing was done')
    if expires_at is not None and now >= expires_at:
        return Transition(
            api.Phase.EXPIRED,
            "ApprovalExpired",
            f"no approval before {clock.format_time(expires_at)}: the proposal is stale and will not be applied",
            fields={"completedAt": clock.format_time(now)},
        )
    if approve == "true" and reject == "true":
        return _invalid("ConflictingAnnotations", "both approve and reject are set to true; remove one")
    if reject == "true":
        return Transition(
            api.Phase.REJECTED,
            "HumanRejected",
            f"rejected by the {api.REJECT} annotation",
            fields={
                "completedAt": clock.format_time(now),
                "feedback": {"label": "incorrect", "source": "rejection", "recorded": False},
            },
        )
    if approve == "true":
        return Transition(
            api.Phase.APPROVED,
            "HumanApproved",
            f"approved by the {api.APPROVE} annotation",
            fields={"approvedAt": clock.format_time(now), "approvedBy": "annotation:" + api.APPROVE},
        )
    return None
