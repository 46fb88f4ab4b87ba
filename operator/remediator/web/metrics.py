"""Prometheus metrics of the HTTP API (its own names; the operator's are in remediator.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "remediator_api_requests_total",
    "HTTP API requests by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "remediator_api_request_duration_seconds",
    "HTTP API request latency by route template and method",
    ["route", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUTH_SECONDS = Histogram(
    "remediator_api_auth_seconds",
    "Time spent asking the API server who a caller is and what they may do",
    ["step"],  # tokenreview | subjectaccessreview
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
TOKEN_CACHE = Counter("remediator_api_token_cache_total", "TokenReview cache lookups", ["result"])  # hit | miss
RATE_LIMITED = Counter("remediator_api_rate_limited_total", "Requests refused with 429")
ALERTS = Counter(
    "remediator_api_alerts_total",
    "Alertmanager alerts received, by outcome (created, deduplicated, resolved, ignored_<reason>)",
    ["outcome"],
)
