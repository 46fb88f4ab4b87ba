# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `probe_failure`: liveness, readiness or startup probes fail for reasons other than slowness."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, template


@template("probe_failure")
def probe_refused(rng: random.Random, svc: str) -> Draft:
    kind = c(rng, "Liveness", "Readiness", "Startup", "Readiness", "Liveness")
    ipx = V.ip(rng)
    port = rng.choice([8080, 3000, 80, 9090, 8000, 8081, 5000])
    path = c(
        rng,
        "/healthz",
        "/health",
        "/ready",
        "/actuator/health",
        "/actuator/health/liveness",
        "/livez",
        "/readyz",
        "/ping",
        "/",
        "/status",
    )
    msg = c(
        rng,
        f'{kind} probe failed: Get "http://{ipx}:{port}{path}": dial tcp {ipx}:{port}: connect: connection refused',
        f"{kind} probe failed: Get http://{ipx}:{port}{path}: dial tcp {ipx}:{port}: getsockopt: connection refused",
        f"{kind} probe failed: HTTP probe failed with statuscode: {rng.choice([500, 503, 404, 502, 401, 403])}",
        f"{kind} probe failed: dial tcp {ipx}:{port}: connect: connection refused",
        f'{kind} probe failed: Get "https://{ipx}:{port}{path}": http: server gave HTTP response to HTTPS client',
        f"{kind} probe failed: "
        + c(
            rng,
            'OCI runtime exec failed: exec failed: unable to start container process: exec: "pg_isready": executable file not found in $PATH: unknown',
            "cat: /tmp/healthy: No such file or directory",
            "Error: Connection refused",
            "grpc health check failed: NOT_SERVING",
        ),
        f'{kind} probe failed: Get "http://{ipx}:{port}{path}": EOF',
        f'{kind} probe failed: Get "http://{ipx}:{port}{path}": read tcp {V.ip(rng)}:{V.rint(rng, 30000, 60000)}->{ipx}:{port}: read: connection reset by peer',
        f"{kind} probe failed: ",
    )
    if rng.random() < 0.35:
        msg += f"\nContainer {svc} failed {kind.lower()} probe, will be restarted"
    if rng.random() < 0.2:
        msg = f"Container {svc} failed liveness probe, will be restarted"
    return Draft(
        "probe_failure",
        reason=c(rng, "Unhealthy", "Unhealthy", "Killing", "ProbeWarning"),
        exit_code=rng.choice([None, None, 137, 143]),
        message=msg,
    )


@template("probe_failure")
def probe_kubelet_log(rng: random.Random, svc: str) -> Draft:
    pod = V.pod_name(rng, svc)
    ipx = V.ip(rng)
    line = (
        f"I{V.rint(rng, 1000, 1231)} {V.rint(rng, 10, 23)}:{V.rint(rng, 10, 59)}:{V.rint(rng, 10, 59)}.{V.rint(rng, 100000, 999999)}    {V.rint(rng, 100, 9999)} prober.go:{c(rng, '106', '107', '116')}] "
        f'{c(rng, "Readiness", "Liveness")} probe for "{pod}_{rng.choice(V.NAMESPACES)}({V.uuid(rng)}):{svc}" failed (failure): '
        + c(
            rng,
            f"Get http://{ipx}:8080/health: dial tcp {ipx}:8080: connect: connection refused",
            "HTTP probe failed with statuscode: 503",
        )
    )
    return Draft("probe_failure", reason="", log_lines=[line])


@template("probe_failure")
def probe_app_unhealthy(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        f"GET {c(rng, '/healthz', '/health', '/actuator/health')} 503 - health check failed: {c(rng, 'disk check failed', 'dependency check degraded', 'status DOWN')}",
        '{"status":"DOWN","components":{"diskSpace":{"status":"UP"},"ping":{"status":"UP"},"custom":{"status":"DOWN"}}}',
        f"health endpoint returned {rng.choice([500, 503])}",
        f"Health check {svc} failed: OUT_OF_SERVICE",
    )
    msg = f"{c(rng, 'Liveness', 'Readiness')} probe failed: HTTP probe failed with statuscode: {rng.choice([500, 503])}"
    return Draft("probe_failure", reason="Unhealthy", message=msg, log_lines=[lines])


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
@template("probe_failure")
def probe_more(rng: random.Random, svc: str) -> Draft:
    kind = c(rng, "Liveness", "Readiness", "Startup")
    ipx = V.ip(rng)
    port = rng.choice([8080, 8081, 3000, 9000])
    msg = c(
        rng,
        f'{kind} probe failed: Get "http://{ipx}:{port}/healthz": dial tcp {ipx}:{port}: connect: no route to host',
        f'{kind} probe failed: service unhealthy (responded with "NOT_SERVING")',
        f"{kind} probe failed: {c(rng, 'NOT OK', 'not ready', 'unhealthy', 'false')}",
        f"{kind} probe failed: HTTP probe failed with statuscode: {rng.choice([404, 401, 403, 409, 500, 502, 503])}",
        f'{kind} probe failed: Get "http://{ipx}:{port}/": stopped after 10 redirects',
        f"{kind} probe failed: dial tcp {ipx}:{port}: connect: connection refused",
        f"Readiness probe failed: {c(rng, 'ERROR: database is not ready', 'redis-cli: Could not connect to Redis at 127.0.0.1:6379: Connection refused', '/ready returned 0 of 3 checks passing')}",
    )
    return Draft(
        "probe_failure",
        reason=c(rng, "Unhealthy", "Unhealthy", "ProbeWarning", "Killing"),
        message=msg,
        actions=("update_config", "restart_pod", "notify") if "404" in msg or "401" in msg else (),
    )
