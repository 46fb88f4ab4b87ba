# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `dependency_error`: a database, cache, queue, DNS name or upstream API is unreachable or failing."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, crash_reason, template


def _db_refused(rng: random.Random, host: str) -> list[str]:
    port = {0: 5432, 1: 3306, 2: 27017, 3: 6379}
    opt = rng.randint(0, 11)
    return [
        [
            f'psycopg2.OperationalError: could not connect to server: Connection refused\n\tIs the server running on host "{host}" ({V.ip(rng)}) and accepting\n\tTCP/IP connections on port 5432?'
        ],
        [
            f'psycopg2.OperationalError: connection to server at "{host}" ({V.ip(rng)}), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?'
        ],
        [
            f"org.postgresql.util.PSQLException: Connection to {host}:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
            "Caused by: java.net.ConnectException: Connection refused",
        ],
        [
            "com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure",
            "The last packet sent successfully to the server was 0 milliseconds ago. The driver has not received any packets from the server.",
        ],
        [f"(2003, \"Can't connect to MySQL server on '{host}' ([Errno 111] Connection refused)\")"],
        [
            f"MongoServerSelectionError: connect ECONNREFUSED {V.ip(rng)}:27017",
            "    at Timeout._onTimeout (/app/node_modules/mongodb/lib/sdam/topology.js:278:38)",
        ],
        [
            f"pymongo.errors.ServerSelectionTimeoutError: {host}:27017: [Errno 111] Connection refused, Timeout: 30s, Topology Description: <TopologyDescription id: {V.hexs(rng, 24)}, topology_type: Unknown>"
        ],
        [
            f"Error: connect ECONNREFUSED {V.ip(rng)}:{port[rng.randint(0, 3)]}",
            "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {",
            "  errno: -111,",
            "  code: 'ECONNREFUSED',",
            "  syscall: 'connect',",
        ],
        [
            f"dial tcp {V.ip(rng)}:{port[rng.randint(0, 3)]}: connect: connection refused",
            f"failed to connect to `host={host} user=app database=app`: dial error (dial tcp {V.ip(rng)}:5432: connect: connection refused)",
        ][rng.randint(0, 1) :],
        [
            f"SQLSTATE[HY000] [2002] Connection refused (SQL: select * from `users` where `id` = {V.rint(rng, 1, 9999)} limit 1)"
        ],
        [
            f"Npgsql.NpgsqlException (0x80004005): Failed to connect to {V.ip(rng)}:5432",
            " ---> System.Net.Sockets.SocketException (111): Connection refused",
        ],
        [
            f'PG::ConnectionBad: could not connect to server: Connection refused\n\tIs the server running on host "{host}" and accepting TCP/IP connections on port 5432?'
        ],
    ][opt]


@template("dependency_error")
def dep_db(rng: random.Random, svc: str) -> Draft:
    return Draft(
        "dependency_error",
        reason=crash_reason(rng),
        exit_code=rng.choice([1, None, None]),
        log_lines=_db_refused(rng, rng.choice(V.HOSTS_DB)),
    )


@template("dependency_error")
def dep_cache_queue(rng: random.Random, svc: str) -> Draft:
    rh, qh = rng.choice(V.HOSTS_CACHE), rng.choice(V.HOSTS_QUEUE)
    opt = rng.randint(0, 11)
    lines = [
        [f"redis.exceptions.ConnectionError: Error 111 connecting to {rh}:6379. Connection refused."],
        [f"[ioredis] Unhandled error event: Error: connect ECONNREFUSED {V.ip(rng)}:6379"],
        [f"Error: Redis connection to {rh}:6379 failed - connect ECONNREFUSED {V.ip(rng)}:6379"],
        [
            f"io.lettuce.core.RedisConnectionException: Unable to connect to {rh}:6379",
            f"Caused by: io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: {rh}/{V.ip(rng)}:6379",
        ],
        [
            f"[Consumer clientId=consumer-{svc}-1, groupId={svc}] Connection to node -1 ({qh}/{V.ip(rng)}:9092) could not be established. Broker may not be available.",
            f"Bootstrap broker {qh}:9092 (id: -1 rack: null) disconnected",
        ],
        [
            f"%3|{V.rint(rng, 1600000000, 1800000000)}.{V.rint(rng, 100, 999)}|FAIL|rdkafka#producer-1| [thrd:{qh}:9092/bootstrap]: {qh}:9092/bootstrap: Connect to ipv4#{V.ip(rng)}:9092 failed: Connection refused",
            'KafkaError{code=_ALL_BROKERS_DOWN,val=-187,str="1/1 brokers are down"}',
        ],
        [
            f"kafka: client has run out of available brokers to talk to: dial tcp {V.ip(rng)}:9092: connect: connection refused"
        ],
        [f"pika.exceptions.AMQPConnectionError: Connection to {V.ip(rng)}:5672 failed: [Errno 111] Connection refused"],
        [
            "java.net.ConnectException: Connection refused",
            "\tat com.rabbitmq.client.impl.SocketFrameHandlerFactory.create(SocketFrameHandlerFactory.java:60)",
            "org.springframework.amqp.AmqpConnectException: java.net.ConnectException: Connection refused",
        ],
        [
            f"Error: connect ECONNREFUSED {V.ip(rng)}:5672",
            "    at TCPConnectWrap.afterConnect [as oncomplete] (net.js:1141:16)",
            "amqplib connection failed",
        ],
        ["nats: no servers available for connection"],
        ["Bunny::TCPConnectionFailedForAllHosts: Could not establish TCP connection to any of the configured hosts"],
    ][opt]
    return Draft("dependency_error", reason=crash_reason(rng), exit_code=rng.choice([1, None, None]), log_lines=lines)


@template("dependency_error")
def dep_dns(rng: random.Random, svc: str) -> Draft:
    h = rng.choice(V.HOSTS_SVC + V.HOSTS_DB[:8] + V.HOSTS_CACHE[:4] + V.HOSTS_QUEUE[:4])
    opt = rng.randint(0, 8)
    lines = [
        [
            f"Error: getaddrinfo ENOTFOUND {h}",
            "    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26) {",
            "  errno: -3008,",
            "  code: 'ENOTFOUND',",
            "  syscall: 'getaddrinfo',",
            f"  hostname: '{h}'",
        ],
        [f"Error: getaddrinfo EAI_AGAIN {h}", "    at GetAddrInfoReqWrap.onlookup [as oncomplete] (dns.js:66:26)"],
        [f"dial tcp: lookup {h} on 10.96.0.10:53: no such host"],
        [f"dial tcp: lookup {h} on 10.96.0.10:53: server misbehaving"],
        [
            f"requests.exceptions.ConnectionError: HTTPConnectionPool(host='{h}', port={rng.choice([80, 8080, 443])}): Max retries exceeded with url: /api/v1/{svc} "
            f"(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x{V.hexs(rng, 12)}>: Failed to establish a new connection: [Errno -2] Name or service not known'))"
        ],
        [
            f"java.net.UnknownHostException: {h}: Name or service not known",
            "\tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)",
        ],
        [
            f'psycopg2.OperationalError: could not translate host name "{h}" to address: Temporary failure in name resolution'
        ],
        ["socket.gaierror: [Errno -3] Temporary failure in name resolution"],
        [f"System.Net.Http.HttpRequestException: No such host is known. ({h}:443)"],
    ][opt]
    return Draft("dependency_error", reason=crash_reason(rng), exit_code=rng.choice([1, None, None]), log_lines=lines)


@template("dependency_error")
def dep_http_upstream(rng: random.Random, svc: str) -> Draft:
    h = rng.choice(V.HOSTS_SVC)
    code = rng.choice([500, 502, 503, 504])
    opt = rng.randint(0, 10)
    lines = [
        [
            f"requests.exceptions.HTTPError: {code} Server Error: {c(rng, 'Service Unavailable', 'Bad Gateway', 'Internal Server Error')} for url: https://{h}/v1/{svc}"
        ],
        [
            'org.springframework.web.client.HttpServerErrorException$ServiceUnavailable: 503 Service Unavailable: "no healthy upstream"'
        ],
        [
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111"
        ],
        [f'{{"level":"error","msg":"call to {h} failed","status":{code},"error":"no healthy upstream"}}'],
        [
            f'grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = "failed to connect to all addresses; last error: UNKNOWN: ipv4:{V.ip(rng)}:50051: Failed to connect to remote host: Connection refused"'
        ],
        [
            f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial tcp {V.ip(rng)}:{rng.choice([9090, 50051, 8081])}: connect: connection refused"'
        ],
        [
            "io.grpc.StatusRuntimeException: UNAVAILABLE: io exception",
            f"Caused by: io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: {h}/{V.ip(rng)}:{rng.choice([9090, 50051])}",
        ],
        [
            "Error: 14 UNAVAILABLE: No connection established",
            "    at callErrorFromStatus (/app/node_modules/@grpc/grpc-js/build/src/call.js:31:19)",
        ],
        [
            f'[error] 29#29: *{V.rint(rng, 1, 99999)} connect() failed (111: Connection refused) while connecting to upstream, client: {V.ip(rng)}, server: _, request: "GET /api/{svc} HTTP/1.1", upstream: "http://{V.ip(rng)}:{rng.choice([8080, 3000, 9000])}/api/{svc}"'
        ],
        [
            f'[error] {V.rint(rng, 1, 99)}#0: *{V.rint(rng, 1, 9999)} no live upstreams while connecting to upstream, client: {V.ip(rng)}, request: "POST /{svc} HTTP/1.1", upstream: "http://backend/{svc}"'
        ],
        [
            f"elasticsearch.exceptions.ConnectionError: ConnectionError(<urllib3.connection.HTTPConnection object at 0x{V.hexs(rng, 12)}>: Failed to establish a new connection: [Errno 111] Connection refused) caused by: NewConnectionError",
            f"org.elasticsearch.client.ResponseException: method [GET], host [http://{rng.choice(['elasticsearch', 'es-master'])}:9200], URI [/_cluster/health], status line [HTTP/1.1 503 Service Unavailable]",
        ][rng.randint(0, 1) :],
    ][opt]
    return Draft(
        "dependency_error",
        reason=c(rng, "", "", "Error", "CrashLoopBackOff"),
        exit_code=rng.choice([1, None, None, None]),
        log_lines=lines,
    )


@template("dependency_error")
def dep_external_api(rng: random.Random, svc: str) -> Draft:
    h = c(
        rng,
        "api.stripe.com",
        "api.github.com",
        "hooks.slack.com",
        "api.twilio.com",
        "sts.amazonaws.com",
        "oauth2.googleapis.com",
        "login.microsoftonline.com",
        "api.sendgrid.com",
        "partner-api.example.com",
    )
    lines = c(
        rng,
        f"HTTPSConnectionPool(host='{h}', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))",
        f"Error: connect ECONNREFUSED {V.ip(rng)}:443 (request to https://{h}/ failed)",
        f"FetchError: request to https://{h}/v2/messages failed, reason: connect ECONNRESET {V.ip(rng)}:443",
        f"javax.net.ssl.SSLHandshakeException: Remote host terminated the handshake (https://{h})",
        f'Post "https://{h}/oauth/token": dial tcp {V.ip(rng)}:443: connect: connection refused',
        f'Net::OpenTimeout / Errno::ECONNREFUSED: Failed to open TCP connection to {h}:443 (Connection refused - connect(2) for "{h}" port 443)',
        f"GuzzleHttp\\Exception\\ConnectException: cURL error 7: Failed to connect to {h} port 443: Connection refused",
        f"external dependency {h} returned 503 Service Unavailable; circuit breaker OPEN",
    )
    return Draft("dependency_error", reason="", exit_code=None, log_lines=[lines])


@template("dependency_error")
def dep_db_server_side(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        "psycopg2.OperationalError: server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.",
        "FATAL:  the database system is starting up",
        "FATAL:  the database system is in recovery mode",
        "pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query')",
        "redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory",
        "MongoNetworkError: connection 5 to 10.4.2.17:27017 closed",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) SSL SYSCALL error: EOF detected",
        "org.apache.kafka.common.errors.NotLeaderOrFollowerException: For requests intended only for the leader, this error indicates that the broker is not the current leader.",
        "Connection reset by peer (Errno::ECONNRESET) while talking to " + rng.choice(V.HOSTS_DB),
        "cassandra.cluster.NoHostAvailable: ('Unable to connect to any servers', {'10.0.0.5:9042': ConnectionRefusedError(111, \"Tried connecting to [('10.0.0.5', 9042)]. Last error: Connection refused\")})",
    )
    return Draft(
        "dependency_error",
        reason=c(rng, "", "CrashLoopBackOff", "Error"),
        exit_code=rng.choice([1, None]),
        log_lines=[lines],
    )


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
@template("dependency_error")
def dep_more(rng: random.Random, svc: str) -> Draft:
    h = rng.choice(V.HOSTS_DB + V.HOSTS_CACHE + V.HOSTS_SVC)
    ipx = V.ip(rng)
    lines = c(
        rng,
        "java.net.NoRouteToHostException: No route to host (Host unreachable)",
        f"Error: connect EHOSTUNREACH {ipx}:{rng.choice([5432, 6379, 443, 8080])}",
        f"Error: connect ETIMEDOUT {ipx}:{rng.choice([5432, 3306, 27017, 443])}",
        f"dial tcp {ipx}:{rng.choice([5432, 6379, 9092, 443])}: i/o timeout",
        f"dial tcp {ipx}:{rng.choice([5432, 6379])}: connect: no route to host",
        f"consumer: Cannot connect to redis://{h}:6379/0: Error 111 connecting to {h}:6379. Connection refused..\nTrying again in 2.00 seconds... (1/100)",
        f"consumer: Cannot connect to amqp://guest:**@{rng.choice(V.HOSTS_QUEUE)}:5672//: [Errno 111] Connection refused.",
        f"Redis::CannotConnectError: Error connecting to Redis on {h}:6379 (Errno::ECONNREFUSED)",
        "SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo failed: Name or service not known",
        "amqp091.Connection: CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
        f"MongoNetworkError: failed to connect to server [{h}:27017] on first connect [Error: connect ECONNREFUSED {ipx}:27017",
        f"org.springframework.data.redis.RedisConnectionFailureException: Unable to connect to Redis; nested exception is io.lettuce.core.RedisConnectionException: Unable to connect to {h}:6379",
        "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection; nested exception is java.net.ConnectException: Connection refused",
        "HikariPool-1 - Exception during pool initialization.\ncom.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure",
        f"could not connect to {h}: dial tcp {ipx}:443: connect: connection refused",
        f"ERROR: upstream service {h} is unavailable (HTTP 503), retrying",
        "Elasticsearch::Transport::Transport::Errors::ServiceUnavailable: [503] no available connection",
        f"NoNodeAvailableException[None of the configured nodes are available: [{{#transport#-1}}{{{ipx}}}{{{ipx}:9300}}]]",
    )
    return Draft(
        "dependency_error",
        reason=c(rng, "", "", "CrashLoopBackOff", "Error"),
        exit_code=rng.choice([1, None, None]),
        log_lines=lines.split("\n"),
    )


@template("dependency_error")
def dep_broker_unavailable(rng: random.Random, svc: str) -> Draft:
    qh = rng.choice(V.HOSTS_QUEUE)
    ipx = V.ip(rng)
    warn = (
        f"[{rng.choice(['AdminClient', 'Producer', 'Consumer'])} clientId={svc}-1] Connection to node "
        f"{rng.choice([-1, -1, 0, 1, 1001, 2])} ({qh}/{ipx}:{rng.choice([9092, 9093, 29092])}) could not be established. "
        f"{c(rng, 'Broker', 'Node')} may not be available."
    )
    tail = c(
        rng,
        "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listTopics",
        f"org.apache.kafka.common.errors.TimeoutException: Topic {svc}-events not present in metadata after 60000 ms.",
        "org.apache.kafka.common.errors.TimeoutException: Timed out waiting to send the call. Call: fetchMetadata",
        f"Bootstrap broker {qh}:9092 (id: -1 rack: null) disconnected",
        "KafkaJSNonRetriableError: Connection timeout",
        f"KafkaJSConnectionError: Connection error: connect ECONNREFUSED {ipx}:9092",
        "",
    )
    lines = [warn] * rng.randint(1, 3) + ([tail] if tail else [])
    return Draft(
        "dependency_error",
        reason=c(rng, "", "", "CrashLoopBackOff"),
        exit_code=rng.choice([1, None, None]),
        log_lines=lines,
    )
