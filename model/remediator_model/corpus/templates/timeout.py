# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `timeout`: deadlines exceeded and slowness."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, template


@template("timeout")
def to_http(rng: random.Random, svc: str) -> Draft:
    h = rng.choice(V.HOSTS_SVC)
    s = rng.choice([5, 10, 15, 30, 60])
    opt = rng.randint(0, 11)
    lines = [
        [f'Get "http://{h}/api/v1/{svc}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'],
        [f'Post "https://{h}/v1/{svc}": net/http: request canceled (Client.Timeout exceeded while awaiting headers)'],
        [
            f"requests.exceptions.ReadTimeout: HTTPConnectionPool(host='{h}', port=8080): Read timed out. (read timeout={s})"
        ],
        [
            "java.net.SocketTimeoutException: Read timed out",
            "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)",
            f'org.springframework.web.client.ResourceAccessException: I/O error on GET request for "http://{h}/api": Read timed out',
        ],
        [f"feign.RetryableException: Read timed out executing GET http://{h}/api/{svc}"],
        [f"TimeoutError: Navigation timeout of {s * 1000} ms exceeded"],
        [
            f"Error: timeout of {s * 1000}ms exceeded",
            "    at createError (/app/node_modules/axios/lib/core/createError.js:16:15)",
            "  code: 'ECONNABORTED',",
        ],
        [
            f"System.Threading.Tasks.TaskCanceledException: The request was canceled due to the configured HttpClient.Timeout of {s} seconds elapsing.",
            " ---> System.TimeoutException: The operation was canceled.",
        ],
        ["Net::ReadTimeout with #<TCPSocket:(closed)>"],
        ["httpx.ReadTimeout: timed out", "asyncio.exceptions.TimeoutError"],
        [
            f"io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: deadline exceeded after {s}.{V.rint(rng, 0, 999)}s. [remote_addr={h}/{V.ip(rng)}:50051]"
        ],
        ["rpc error: code = DeadlineExceeded desc = context deadline exceeded"],
    ][opt]
    return Draft(
        "timeout",
        reason=c(rng, "", "", "Error", "CrashLoopBackOff"),
        exit_code=rng.choice([1, None, None]),
        log_lines=lines,
    )


@template("timeout")
def to_gateway(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        f'[error] {V.rint(rng, 1, 99)}#{V.rint(rng, 1, 99)}: *{V.rint(rng, 1, 99999)} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {V.ip(rng)}, server: _, request: "GET /api/{svc} HTTP/1.1", upstream: "http://{V.ip(rng)}:8080/api/{svc}"',
        f'{V.ip(rng)} - - [{V.rint(rng, 1, 28)}/Mar/2024:10:{V.rint(rng, 10, 59)}:01 +0000] "POST /{svc} HTTP/1.1" 504 {V.rint(rng, 100, 600)} "-" "curl/8.0" {V.rint(rng, 30, 61)}.00{V.rint(rng, 1, 9)}',
        "upstream request timeout",
        f"HTTP/1.1 504 Gateway Time-out (upstream {rng.choice(V.HOSTS_SVC)} took longer than {rng.choice([30, 60])}s)",
        f"Execution timeout: request to /{svc} exceeded {rng.choice([30, 60, 120])}s",
        f"[CRITICAL] WORKER TIMEOUT (pid:{V.rint(rng, 7, 999)})",
        f"[{V.rint(rng, 1, 999)}] [CRITICAL] WORKER TIMEOUT (pid:{V.rint(rng, 7, 999)})\n[INFO] Worker exiting (pid: {V.rint(rng, 7, 999)})",
        f"Rack::Timeout::RequestTimeoutException: Request ran for longer than {rng.choice([15, 25, 30])}000ms",
        f"PHP Fatal error:  Maximum execution time of {rng.choice([30, 60, 120])} seconds exceeded in /var/www/html/app/Http/Controllers/{svc.title()}Controller.php on line {V.rint(rng, 10, 300)}",
        "ERROR: canceling statement due to statement timeout",
        "Lock wait timeout exceeded; try restarting transaction",
        "org.hibernate.exception.GenericJDBCException: could not execute query; nested exception is java.sql.SQLTimeoutException: Query execution was interrupted, maximum statement execution time exceeded",
        "redis.exceptions.TimeoutError: Timeout reading from socket",
        f"org.apache.kafka.common.errors.TimeoutException: Expiring {V.rint(rng, 1, 200)} record(s) for {svc}-events-0:{V.rint(rng, 30000, 120000)} ms has passed since batch creation",
        f"context deadline exceeded while waiting for {svc} job to finish ({rng.choice([300, 600])}s)",
        f"p99 latency {V.rint(rng, 2, 30)}.{V.rint(rng, 0, 9)}s exceeds SLO of 500ms for {svc}",
    )
    return Draft("timeout", reason="", exit_code=None, log_lines=[lines])


@template("timeout")
def to_probe(rng: random.Random, svc: str) -> Draft:
    kind = c(rng, "Liveness", "Readiness", "Startup")
    url = f"http://{V.ip(rng)}:{rng.choice([8080, 3000, 80, 9090, 8000])}{c(rng, '/healthz', '/health', '/ready', '/actuator/health', '/livez', '/ping', '/')}"
    msg = c(
        rng,
        f'{kind} probe failed: Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        f"{kind} probe failed: Get {url}: net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
        f"{kind} probe errored: rpc error: code = DeadlineExceeded desc = context deadline exceeded",
        f"{kind} probe failed: command timed out",
        f'{kind} probe failed: command "{c(rng, "/bin/sh -c pg_isready", "curl -f localhost:8080/health", "redis-cli ping")}" timed out',
        f'{kind} probe failed: Get "{url}": context deadline exceeded (Client.Timeout or context cancellation while reading body)',
        f'{kind} probe failed: timeout: failed to connect service ":{rng.choice([50051, 9090])}" within 1s',
    )
    if rng.random() < 0.3:
        msg += f"\nContainer {svc} failed liveness probe, will be restarted"
    return Draft(
        "timeout",
        reason=c(rng, "Unhealthy", "Unhealthy", "ProbeWarning"),
        exit_code=rng.choice([None, None, 137]),
        message=msg,
        actions=("scale_up", "restart_pod", "notify"),
    )


@template("timeout")
def to_alert_slow(rng: random.Random, svc: str) -> Draft:
    msg = c(
        rng,
        f"High request latency on {svc}: p99 {V.rint(rng, 2, 40)}s over the last 10m",
        f"[FIRING:1] {c(rng, 'HighLatency', 'APIHighLatency', 'SlowRequests', 'KubeAPILatencyHigh')} {svc} ({rng.choice(V.NAMESPACES)}) - 95th percentile latency is {V.rint(rng, 1, 30)}.{V.rint(rng, 0, 9)}s",
        f"Requests to /{svc} are timing out (timeouts: {V.rint(rng, 5, 60)}% of requests)",
        f"job {svc}-batch exceeded its activeDeadlineSeconds ({rng.choice([600, 1800, 3600])})",
        "Job was active longer than specified deadline",
    )
    reason = c(rng, "", "DeadlineExceeded", "")
    return Draft("timeout", reason=reason, message=msg)


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
@template("timeout")
def to_more(rng: random.Random, svc: str) -> Draft:
    s = rng.choice([5, 10, 30, 60, 120])
    lines = c(
        rng,
        f"curl: (28) Operation timed out after {s * 1000 + 1} milliseconds with 0 bytes received",
        f"Error: ESOCKETTIMEDOUT\n    at ClientRequest.<anonymous> ({rng.choice(V.PATHS)}/node_modules/request/request.js:816:19)",
        "celery.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()",
        f"TimeoutError: Timed out after {s * 1000} ms while waiting for the WS endpoint URL to appear in stdout!",
        f"elasticsearch.exceptions.ConnectionTimeout: ConnectionTimeout caused by - ReadTimeoutError(HTTPConnectionPool(host='{rng.choice(['elasticsearch', 'es'])}', port=9200): Read timed out. (read timeout={s}))",
        f"urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='{rng.choice(V.HOSTS_SVC)}', port=443): Read timed out. (read timeout={s})",
        f"sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout {s}.00",
        f"java.util.concurrent.TimeoutException: Did not observe any item or terminal signal within {s * 1000}ms in 'flatMap'",
        "The operation has timed out.",
        f"Request timed out after {s}s: GET /api/{svc}",
        f"Gateway Timeout: the upstream server {rng.choice(V.HOSTS_SVC)} did not respond in time",
        f"WARNING: request to {rng.choice(V.HOSTS_SVC)} took {s + V.rint(rng, 1, 30)}s (slow response)",
        "pq: canceling statement due to statement timeout",
        "context deadline exceeded",
    )
    return Draft(
        "timeout",
        reason=c(rng, "", "", "Error"),
        exit_code=rng.choice([1, None, None, None]),
        log_lines=lines.split("\n"),
    )
