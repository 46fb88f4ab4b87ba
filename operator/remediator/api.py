"""The custom resources' contract: group/version, kinds, phases, label and annotation keys, condition types.

Every protocol string the operator reads or writes is named here once (as cert-manager keeps its keys in its
API package), so a reader finds the whole contract on one page and a typo is a NameError, not a silent miss.
"""

from __future__ import annotations

from enum import StrEnum

GROUP = "remediator.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

ERROREVENTS = "errorevents"
REMEDIATIONS = "remediations"
POLICIES = "remediationpolicies"


class Phase(StrEnum):
    """A Remediation's lifecycle (`status.phase`), a summary of its conditions for `kubectl get`."""

    PROPOSED = "Proposed"  # created, not decided yet (no status)
    PENDING_APPROVAL = "PendingApproval"
    APPROVED = "Approved"
    APPLYING = "Applying"
    VERIFYING = "Verifying"
    UNDOING = "Undoing"  # verification failed; the recorded undo is being applied
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    REJECTED = "Rejected"
    SKIPPED = "Skipped"
    EXPIRED = "Expired"


# A Remediation in one of these still owns its workload (one active per workload).
ACTIVE_PHASES = frozenset(
    {Phase.PROPOSED, Phase.PENDING_APPROVAL, Phase.APPROVED, Phase.APPLYING, Phase.VERIFYING, Phase.UNDOING}
)
# ... and in these it is changing or watching the workload (counted by maxInFlightPerNamespace).
IN_FLIGHT_PHASES = frozenset({Phase.APPROVED, Phase.APPLYING, Phase.VERIFYING, Phase.UNDOING})
# Nothing more happens to a Remediation in these (feedback annotations still count).
FINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.REJECTED, Phase.SKIPPED, Phase.EXPIRED})


class EEPhase(StrEnum):
    """An ErrorEvent's `status.phase`."""

    PENDING = "Pending"
    REMEDIATING = "Remediating"
    RESOLVED = "Resolved"
    IGNORED = "Ignored"
    INVALID = "Invalid"


# ErrorEvent phases after which a stale event may be replaced by a fresh one for a new occurrence.
EE_SETTLED_PHASES = frozenset({EEPhase.RESOLVED, EEPhase.IGNORED, EEPhase.INVALID})

# -- labels (set by the operator on what it creates) ---------------------------------------------------------
LABEL_TARGET_KIND = f"{GROUP}/target-kind"
LABEL_TARGET_NAME = f"{GROUP}/target-name"
LABEL_FINGERPRINT = f"{GROUP}/fingerprint"

# -- annotations (written by humans; inputs, never the operator's memory) ------------------------------------
APPROVE = f"{GROUP}/approve"
REJECT = f"{GROUP}/reject"
FEEDBACK = f"{GROUP}/feedback"
CORRECT_ACTION = f"{GROUP}/correct-action"
CORRECT_TYPE = f"{GROUP}/correct-type"
# Who judged: the API server's user name of the request that set the feedback annotations, checked by the
# admission policy (manifests/admission/remediator-approval.yaml, rule 4); one judgment per person is kept.
FEEDBACK_BY = f"{GROUP}/feedback-by"
# A free comment with the verdict (the HTTP API's POST /feedback sets it; at most 1024 characters). Not read by
# the operator: for the people who review judgments.
FEEDBACK_COMMENT = f"{GROUP}/feedback-comment"
IGNORE = f"{GROUP}/ignore"
# kopf keeps its progress and diff-base under this prefix, apart from ours, so changes of our annotations
# reach the handlers (kopf ignores changes under its own prefix).
KOPF_PREFIX = f"kopf.{GROUP}"


class Condition(StrEnum):
    """The closed set of Remediation condition types (`status.conditions[].type`).

    - Approved: True once a human approved or the policy allows auto-apply; False when rejected or expired;
      Unknown while it waits.
    - Processing: True while the operator applies or verifies a change; False with the final reason after.
    - Succeeded: Unknown until final; True when verified, False when failed, skipped, rejected or expired.
    - Stable: while verifying, whether all replicas are ready right now.
    - AnnotationsValid, FeedbackValid: whether the approval and feedback annotations could be read.
    - JudgmentsAgree: whether the people who judged the Remediation (``status.judgments``) agree; False
      (``JudgmentsDisagree``) names each person's verdict, for a human to review.
    """

    APPROVED = "Approved"
    PROCESSING = "Processing"
    SUCCEEDED = "Succeeded"
    STABLE = "Stable"
    ANNOTATIONS_VALID = "AnnotationsValid"
    FEEDBACK_VALID = "FeedbackValid"
    JUDGMENTS_AGREE = "JudgmentsAgree"


class EECondition(StrEnum):
    """ErrorEvent condition types."""

    VALID = "Valid"
    CLASSIFIED = "Classified"
    REMEDIATED = "Remediated"


class PolicyCondition(StrEnum):
    """RemediationPolicy condition types."""

    VALID = "Valid"


class Origin(StrEnum):
    """Who a Remediation comes from (status.origin), decided from what only the operator writes."""

    OPERATOR = "operator"
    USER = "user"


def is_final(phase: str | None) -> bool:
    return phase in FINAL_PHASES


# -- the approval contract that manifests/admission/remediator-approval.yaml enforces (docs/security.md) ------
# Who approved or rejected: the API server's user name of that request, checked by the admission policy.
APPROVER = f"{GROUP}/approver"
# Optional: the metadata.generation the approver reviewed; the policy refuses it unless it is the current one.
APPROVED_GENERATION = f"{GROUP}/approved-generation"
# Optional, with reject: why, in one line; the operator quotes it (bounded, made inert) in status.message. The
# policy guards it like the decision itself, so nobody but an approver can put words in a rejection.
REJECT_REASON = f"{GROUP}/reject-reason"
REJECT_REASON_MAX = 512
# Who created an ErrorEvent or a Remediation (absent on the operator's own); set at creation, then immutable.
REQUESTED_BY = f"{GROUP}/requested-by"
# The admission policy and its binding carry this label; the operator trusts approvals only while it sees one.
LABEL_GUARD = f"{GROUP}/guard"
GUARD_APPROVAL = "approval"
# ... and trusts remediator.dev/feedback-by only while it sees a binding with this value (else: unverified).
GUARD_FEEDBACK = "feedback"
