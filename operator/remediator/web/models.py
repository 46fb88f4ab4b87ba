"""Request and response bodies of the HTTP API. Request limits mirror the ErrorEvent CRD
(crds/errorevents.remediator.dev.yaml), so what passes here the API server accepts too, and what would not is
refused here with the field named (422), before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from remediator.domain.types import Action as ActionName
from remediator.domain.types import ErrorType as ErrorTypeName

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
MAX_LOGS = 16384
MAX_BATCH = 32

Namespace = Field(min_length=1, max_length=63, pattern=DNS_LABEL, description="Kubernetes namespace")
WorkloadKind = Literal["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]


class Strict(BaseModel):
    # Unknown fields are an error, not silently dropped: a typo (or a forged `approver`) is named in the 422.
    model_config = ConfigDict(extra="forbid")


class Target(Strict):
    kind: WorkloadKind
    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)
    podName: str | None = Field(None, min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)
    containerName: str | None = Field(None, min_length=1, max_length=63)

    @model_validator(mode="after")
    def _pod(self) -> Target:
        if self.kind == "Pod" and self.podName is not None and self.podName != self.name:
            raise ValueError("for a Pod target, podName must equal name")
        return self


ContextKey = Field(min_length=1, max_length=63)


class ErrorText(Strict):
    message: str = Field(min_length=1, max_length=4096, description="what went wrong, in one message")
    reason: str | None = Field(None, max_length=128, description="Kubernetes reason, e.g. CrashLoopBackOff")
    exitCode: int | None = Field(None, ge=-255, le=255, description="the container's last exit code")
    stackTrace: str | None = Field(None, max_length=MAX_LOGS, description="stack trace (kept in spec.logs)")
    logs: str | None = Field(None, max_length=MAX_LOGS, description="log tail (kept in spec.logs)")

    @model_validator(mode="after")
    def _text_fits(self) -> ErrorText:
        if len(self.joined_logs()) > MAX_LOGS:
            raise ValueError(f"stackTrace and logs together exceed {MAX_LOGS} characters (spec.logs)")
        return self

    def joined_logs(self) -> str:
        return "\n".join(part for part in (self.stackTrace, self.logs) if part)


class ErrorIn(ErrorText):
    """POST /errors: an error event of one workload."""

    namespace: str = Namespace
    target: Target
    context: dict[str, str] = Field(
        default_factory=dict, max_length=32, description="free labels (at most 32; keys <= 63, values <= 256)"
    )
    timestamp: datetime | None = Field(None, description="when it happened (RFC 3339); default: now")

    @model_validator(mode="after")
    def _context_fits(self) -> ErrorIn:
        for key, value in self.context.items():
            if not key or len(key) > 63:
                raise ValueError(f"context key {key[:70]!r} must be 1 to 63 characters")
            if len(value) > 256:
                raise ValueError(f"context[{key!r}] is longer than 256 characters")
        if self.timestamp is not None and self.timestamp.tzinfo is None:
            raise ValueError("timestamp needs a time zone (e.g. 2026-12-02T01:00:00Z)")
        if self.timestamp is not None and not (1970 <= self.timestamp.year <= 9999):
            raise ValueError("timestamp is out of range")
        return self


class PredictEvent(Strict):
    message: str = Field("", max_length=4096)
    reason: str = Field("", max_length=128)
    exitCode: int | None = Field(None, ge=-255, le=255)
    stackTrace: str = Field("", max_length=MAX_LOGS)
    logs: str = Field("", max_length=MAX_LOGS)

    @model_validator(mode="after")
    def _something(self) -> PredictEvent:
        if not (self.message or self.reason or self.logs or self.stackTrace or self.exitCode is not None):
            raise ValueError("give at least one of message, reason, exitCode, stackTrace, logs")
        return self


class PredictIn(Strict):
    """POST /predict: one event (its fields inline) or a batch (`events`), in a namespace the caller may
    report errors in (create errorevents)."""

    namespace: str = Namespace
    message: str | None = Field(None, max_length=4096)
    reason: str | None = Field(None, max_length=128)
    exitCode: int | None = Field(None, ge=-255, le=255)
    stackTrace: str | None = Field(None, max_length=MAX_LOGS)
    logs: str | None = Field(None, max_length=MAX_LOGS)
    events: list[PredictEvent] | None = Field(None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def _one_or_batch(self) -> PredictIn:
        inline = any(v is not None for v in (self.message, self.reason, self.exitCode, self.stackTrace, self.logs))
        if inline and self.events is not None:
            raise ValueError("give either one event's fields or events, not both")
        if not inline and self.events is None:
            raise ValueError("give one event's fields (message, reason, exitCode, stackTrace, logs) or events")
        if inline:
            PredictEvent(**self._inline())  # the same rules as a batch item
        return self

    def _inline(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "message": self.message,
                "reason": self.reason,
                "exitCode": self.exitCode,
                "stackTrace": self.stackTrace,
                "logs": self.logs,
            }.items()
            if v is not None
        }

    def items(self) -> list[PredictEvent]:
        return list(self.events) if self.events is not None else [PredictEvent(**self._inline())]


class Prediction(BaseModel):
    errorType: str
    action: str
    confidence: float = Field(ge=0, le=1, description="calibrated probability that type and action are right")
    actionProbabilities: dict[str, float] = Field(description="calibrated probability, per action, that it fixes it")
    runnerUp: str
    runnerUpConfidence: float = Field(ge=0, le=1)
    explanation: str
    evidence: list[str]
    novelty: float = Field(ge=0, le=1, description="share of the text's words no training example contained")
    modelVersion: str


class PredictOut(BaseModel):
    prediction: Prediction | None = None
    predictions: list[Prediction] | None = None


class Classification(BaseModel):
    model_config = ConfigDict(extra="allow")
    errorType: str | None = None
    action: str | None = None
    confidence: float | None = None
    runnerUp: str | None = None
    modelVersion: str | None = None
    explanation: str | None = None


class ErrorOut(BaseModel):
    namespace: str
    name: str
    phase: str | None = None
    message: str | None = None
    classification: Classification | None = None
    remediation: str | None = Field(None, description="the Remediation's name, once the operator made one")
    traceId: str | None = Field(None, description="the incident's trace id (docs/tracing.md), once the operator has it")
    location: str


class FeedbackIn(Strict):
    """POST /feedback: a person's verdict on a Remediation (the feedback annotations, as the caller)."""

    namespace: str = Namespace
    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN, description="the Remediation")
    verdict: Literal["correct", "incorrect"]
    correctAction: ActionName | None = None
    correctType: ErrorTypeName | None = None
    comment: str | None = Field(None, max_length=1024)

    @model_validator(mode="after")
    def _corrections(self) -> FeedbackIn:
        if self.verdict == "correct" and (self.correctAction or self.correctType):
            raise ValueError("correctAction and correctType go with verdict 'incorrect' only")
        return self


class FeedbackOut(BaseModel):
    namespace: str
    name: str
    by: str
    recorded: bool = Field(description="the operator recorded this verdict in status.judgments within the wait")


class DecisionIn(Strict):
    """POST .../approve or .../reject. Who decides is the caller; nothing in the body can say otherwise."""

    generation: int | None = Field(
        None, ge=1, description="the metadata.generation you reviewed (refused unless it is the current one)"
    )


class RemediationSummary(BaseModel):
    namespace: str
    name: str
    phase: str | None = None
    action: str | None = None
    errorType: str | None = None
    confidence: float | None = None
    target: dict[str, Any] | None = None
    generation: int | None = None
    approver: str | None = None
    createdAt: str | None = None
    message: str | None = None


class RemediationList(BaseModel):
    items: list[RemediationSummary]


class RemediationOut(RemediationSummary):
    spec: dict[str, Any]
    status: dict[str, Any]
    annotations: dict[str, str]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Alertmanager adds fields over versions; unknown ones are fine
    status: str = Field(max_length=16)
    labels: dict[str, str] = Field(default_factory=dict, max_length=128)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=128)
    startsAt: str = Field("", max_length=64)
    endsAt: str = Field("", max_length=64)
    generatorURL: str = Field("", max_length=4096)
    fingerprint: str = Field("", max_length=64)


class AlertmanagerIn(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: str = Field("", max_length=16)
    receiver: str = Field("", max_length=256)
    groupKey: str = Field("", max_length=4096)
    alerts: list[AlertIn] = Field(max_length=1000)
    commonLabels: dict[str, str] = Field(default_factory=dict, max_length=128)


class AlertOutcome(BaseModel):
    alertname: str
    namespace: str = ""
    name: str = ""
    reason: str = ""


class AlertmanagerOut(BaseModel):
    created: list[AlertOutcome]
    deduplicated: list[AlertOutcome]
    resolved: list[AlertOutcome]
    ignored: list[AlertOutcome]


class Problem(BaseModel):
    """Every error answer: a message for people; for 422, the fields at fault."""

    message: str
    detail: list[dict[str, Any]] | None = None
