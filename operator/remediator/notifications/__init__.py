"""Notifications out: Alertmanager and webhooks, delivered from what Remediation status records."""
