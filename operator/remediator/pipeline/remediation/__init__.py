"""A Remediation's life, one small unit per step; `Reconciler` dispatches to them by phase."""

from remediator.pipeline.remediation.reconciler import Reconciler

__all__ = ["Reconciler"]
