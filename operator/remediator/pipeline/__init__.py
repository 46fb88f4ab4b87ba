"""The operator pipeline: failures in (intake), classified and proposed (triage), carried out (remediation)."""
