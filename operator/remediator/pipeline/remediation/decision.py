"""The decision step: what a new Remediation may do (auto-apply, wait for approval, or skip), and why."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from remediator import api
from remediator.adapters.kube import Kube
from remediator.domain import clock
from remediator.domain import decide as decisions
from remediator.domain.types import Classification
from remediator.pipeline.facts import history, workload_facts
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.remediation.transition import Transition
from remediator.pipeline.remediation.view import target_ref
from remediator.pipeline.triage import DECISION_ANNOTATION


class Decider:
    def __init__(self, kube: Kube, policies: PolicySource) -> None:
        self.kube, self.policies = kube, policies

    def decide(self, rem: dict[str, Any], now: dt.datetime) -> decisions.Decision:
        spec = rem["spec"]
        ref = target_ref(rem)
        facts, _ = workload_facts(self.kube, ref)
        classification = Classification(
            error_type=spec["errorType"],
            action=spec["action"],
            confidence=float(spec["confidence"]),
            model_version=spec.get("modelVersion", ""),
        )
        return decisions.decide(
            decisions.DecisionInputs(
                classification=classification,
                policy=self.policies.for_namespace(ref.namespace),
                workload=facts,
                now=now,
                history=history(self.kube, ref, now, exclude=rem["metadata"]["name"]),
                parameters=spec.get("parameters") or {},
            )
        )

    def initialise(self, rem: dict[str, Any]) -> Transition:
        """The decision made at creation (by triage) or, for a Remediation a human wrote, decided now."""
        spec, meta = rem["spec"], rem["metadata"]
        raw = (meta.get("annotations") or {}).get(DECISION_ANNOTATION)
        now = clock.now()
        fields: dict[str, Any] = {"proposedAt": clock.format_time(now)}
        if raw:
            record = json.loads(raw)
            phase, reason, message = record["phase"], record["reason"], record["message"]
            if record.get("expiresAt"):
                fields["expiresAt"] = record["expiresAt"]
        else:
            decision = self.decide(rem, now)
            phase, reason, message = decision.phase, decision.reason.code, decision.message()
            if decision.expires_at:
                fields["expiresAt"] = clock.format_time(decision.expires_at)
            if decision.action != spec["action"]:
                message = (
                    f"{message} (the proposed action {spec['action']} stands in spec; apply means {decision.action})"
                )
        if phase == api.Phase.PENDING_APPROVAL and "expiresAt" not in fields:
            ttl = self.policies.for_namespace(meta["namespace"]).approval_ttl_seconds
            fields["expiresAt"] = clock.format_time(now + dt.timedelta(seconds=ttl))
        return Transition(phase, reason, message, warning=phase == api.Phase.SKIPPED, fields=fields)

    def effective_action(self, rem: dict[str, Any]) -> str:
        """The action to apply: spec.action after the decision's downgrades (HPAOwnsReplicas,
        EscalatedAfterFailures, ActionNotSupported turn it into notify), decided again now, so what
        initialise announced ("apply means notify") is what happens, and a later HPA is respected too."""
        decided = self.decide(rem, clock.now())
        return decided.action if decided.mode != "skip" else str(rem["spec"]["action"])
