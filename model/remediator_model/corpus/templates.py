# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Error templates per type, written from real error formats (kubelet/scheduler/controller event strings,
container runtime messages, language runtimes and client libraries). Each template returns a Draft; the
generator adds log noise, truncation and context around it.

Templates are grouped by error type; every template draws names, numbers and paths at random so the model
learns the signal words, not the template.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from remediator_model.corpus import vocab as V


@dataclass
class Draft:
    error_type: str
    reason: str = ""
    exit_code: int | None = None
    message: str = ""
    log_lines: list[str] = field(default_factory=list)
    actions: tuple[str, ...] = ()
    template: str = ""


Template = Callable[[random.Random, str], Draft]
TEMPLATES: dict[str, list[Template]] = {}


def template(error_type: str) -> Callable[[Template], Template]:
    def deco(fn: Template) -> Template:
        TEMPLATES.setdefault(error_type, []).append(fn)
        return fn

    return deco


def c(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def backoff(rng: random.Random, svc: str) -> str:
    pod = V.pod_name(rng, svc)
    return (
        f"back-off {c(rng, '10s', '20s', '40s', '1m20s', '2m40s', '5m0s')} restarting failed "
        f"container={svc} pod={pod}_{rng.choice(V.NAMESPACES)}({V.uuid(rng)})"
    )


def crash_reason(rng: random.Random) -> str:
    return c(rng, "CrashLoopBackOff", "Error", "BackOff", "CrashLoopBackOff", "")


# ----------------------------------------------------------------------------------------------- oom
@template("oom")
def oom_killed(rng: random.Random, svc: str) -> Draft:
    msg = c(
        rng,
        "",
        backoff(rng, svc),
        "Container was OOMKilled",
        f"Last State: Terminated Reason: OOMKilled Exit Code: 137 (limit {rng.choice([128, 256, 512, 1024, 2048])}Mi)",
        f"container {svc} terminated: OOMKilled",
        "The container exceeded its memory limit and was killed.",
    )
    return Draft("oom", reason="OOMKilled", exit_code=137, message=msg)


@template("oom")
def oom_java(rng: random.Random, svc: str) -> Draft:
    kind = c(
        rng,
        "Java heap space",
        "GC overhead limit exceeded",
        "Metaspace",
        "unable to create new native thread",
        "Requested array size exceeds VM limit",
        "Direct buffer memory",
    )
    th = c(rng, "main", "http-nio-8080-exec-4", "kafka-producer-network-thread", "pool-3-thread-1", "scheduler-1")
    lines = [
        f'Exception in thread "{th}" java.lang.OutOfMemoryError: {kind}',
        f"\tat java.util.Arrays.copyOf(Arrays.java:{V.rint(rng, 3000, 3800)})",
        f"\tat java.util.ArrayList.grow(ArrayList.java:{V.rint(rng, 200, 300)})",
        f"\tat {rng.choice(V.JAVA_CLASSES)}.process({rng.choice(['Service', 'Job', 'Handler'])}.java:{V.rint(rng, 10, 400)})",
    ]
    if rng.random() < 0.4:
        lines.insert(0, "java.lang.OutOfMemoryError: " + kind)
        lines.insert(1, f"Dumping heap to /tmp/java_pid{V.rint(rng, 1, 999)}.hprof ...")
    if rng.random() < 0.3:
        lines.append("Terminating due to java.lang.OutOfMemoryError: " + kind)
    return Draft(
        "oom",
        reason=c(rng, "OOMKilled", "Error", "CrashLoopBackOff", ""),
        exit_code=rng.choice([137, 1, 3, None]),
        log_lines=lines,
    )


@template("oom")
def oom_node(rng: random.Random, svc: str) -> Draft:
    lines = [
        "<--- Last few GCs --->",
        f"[{V.rint(rng, 1, 99)}:0x{V.hexs(rng, 12)}]   {V.rint(rng, 1000, 99999)} ms: Mark-Compact "
        f"{V.rint(rng, 1000, 4000)}.{V.rint(rng, 0, 9)} ({V.rint(rng, 1000, 4200)}.0) -> {V.rint(rng, 1000, 4000)}.1 MB, "
        "allocation failure; scavenge might not succeed",
        "<--- JS stacktrace --->",
        c(
            rng,
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory",
            "FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory",
        ),
        f" 1: 0x{V.hexs(rng, 6)} node::Abort() [node]",
        f" 2: 0x{V.hexs(rng, 6)} v8::internal::V8::FatalProcessOutOfMemory(v8::internal::Isolate*, char const*) [node]",
    ]
    rng.shuffle(lines[:2])
    return Draft(
        "oom",
        reason=c(rng, "Error", "CrashLoopBackOff", "OOMKilled", ""),
        exit_code=rng.choice([134, 137, 1, None]),
        log_lines=lines[rng.randint(0, 2) :],
    )


@template("oom")
def oom_go_python_other(rng: random.Random, svc: str) -> Draft:
    opt = rng.randint(0, 6)
    if opt == 0:
        lines = [
            "fatal error: runtime: out of memory",
            "",
            "runtime stack:",
            f"runtime.throw({{0x{V.hexs(rng, 6)}, 0x16}})",
            "\t/usr/local/go/src/runtime/panic.go:1047 +0x5d",
            f"runtime.sysMap(0xc{V.hexs(rng, 9)}, 0x4000000, 0x{V.hexs(rng, 6)})",
        ]
        ec = rng.choice([2, 137, None])
    elif opt == 1:
        lines = [
            "Traceback (most recent call last):",
            f'  File "{rng.choice(V.PATHS)}/worker.py", line {V.rint(rng, 10, 300)}, in run',
            "    data = np.zeros((n, m), dtype=np.float64)",
            c(
                rng,
                "MemoryError",
                "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 12.5 GiB for an array with shape (1048576, 1600) and data type float64",
                "MemoryError: Unable to allocate array",
            ),
        ]
        ec = rng.choice([1, 137, None])
    elif opt == 2:
        lines = [
            f"[{V.rint(rng, 1000, 99999)}.{V.rint(rng, 100000, 999999)}] Memory cgroup out of memory: Killed process {V.rint(rng, 100, 99999)} ({rng.choice(['java', 'node', 'python', svc])}) "
            f"total-vm:{V.rint(rng, 100000, 9000000)}kB, anon-rss:{V.rint(rng, 100000, 4000000)}kB, file-rss:0kB, shmem-rss:0kB",
            "oom-kill:constraint=CONSTRAINT_MEMCG",
        ]
        ec = 137
    elif opt == 3:
        lines = [
            f"Unhandled exception. System.OutOfMemoryError: {c(rng, 'Exception of type System.OutOfMemoryException was thrown.', 'Insufficient memory to continue the execution of the program.')}",
            f"   at {rng.choice(['Acme', 'Shop', 'Billing'])}.Services.ReportBuilder.Build() in /src/Services/ReportBuilder.cs:line {V.rint(rng, 10, 300)}",
        ]
        ec = rng.choice([134, 137, 139, None])
    elif opt == 4:
        lines = [
            f"PHP Fatal error:  Allowed memory size of {rng.choice([134217728, 268435456, 536870912])} bytes exhausted (tried to allocate {V.rint(rng, 4096, 20971520)} bytes) in {rng.choice(V.PATHS)}/vendor/laravel/framework/src/Illuminate/Database/Connection.php on line {V.rint(rng, 300, 800)}"
        ]
        ec = rng.choice([255, 1, None])
    elif opt == 5:
        lines = [
            f"{rng.choice(V.PATHS)}/app/models/report.rb:{V.rint(rng, 10, 200)}:in `each': failed to allocate memory (NoMemoryError)"
        ]
        ec = rng.choice([1, 137, None])
    else:
        lines = [
            f"Out of memory: Killed process {V.rint(rng, 100, 99999)} ({svc}) total-vm:{V.rint(rng, 100000, 9000000)}kB",
            "Killed",
        ]
        ec = 137
    return Draft(
        "oom", reason=c(rng, "OOMKilled", "Error", "CrashLoopBackOff", "", "OOMKilling"), exit_code=ec, log_lines=lines
    )


@template("oom")
def oom_event(rng: random.Random, svc: str) -> Draft:
    msg = c(
        rng,
        f"Memory cgroup out of memory: Killed process {V.rint(rng, 100, 99999)} ({svc}) total-vm:{V.rint(rng, 100000, 9000000)}kB, anon-rss:{V.rint(rng, 100000, 4000000)}kB",
        f"System OOM encountered, victim process: {svc}, pid: {V.rint(rng, 100, 99999)}",
        f"Container {svc} was OOM killed. Memory limit: {rng.choice(['256Mi', '512Mi', '1Gi', '2Gi'])}",
        f"Pod {V.pod_name(rng, svc)} container {svc} OOMKilled (memory usage {V.rint(rng, 95, 100)}% of limit)",
    )
    return Draft(
        "oom",
        reason=c(rng, "OOMKilling", "SystemOOM", "OOMKilled", "KubePodOOMKilled"),
        exit_code=rng.choice([137, None]),
        message=msg,
    )


# ---------------------------------------------------------------------------------------- config_issue
@template("config_issue")
def cfg_createcontainerconfig(rng: random.Random, svc: str) -> Draft:
    name = f"{svc}-{c(rng, 'config', 'settings', 'env', 'secrets', 'credentials', 'app-config', 'tls')}"
    msg = c(
        rng,
        f'Error: configmap "{name}" not found',
        f'Error: secret "{name}" not found',
        f"Error: couldn't find key {c(rng, *[k.lower() for k in V.ENV_VARS])} in ConfigMap {rng.choice(V.NAMESPACES)}/{name}",
        f"Error: couldn't find key {rng.choice(V.ENV_VARS)} in Secret {rng.choice(V.NAMESPACES)}/{name}",
        "Error: container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root",
        f'Error: failed to prepare subPath for volumeMount "{name}" of container "{svc}"',
    )
    return Draft(
        "config_issue", reason=c(rng, "CreateContainerConfigError", "Failed", "CreateContainerConfigError"), message=msg
    )


@template("config_issue")
def cfg_mount(rng: random.Random, svc: str) -> Draft:
    name = f"{svc}-{c(rng, 'config', 'tls', 'certs', 'settings', 'secret')}"
    msg = c(
        rng,
        f'MountVolume.SetUp failed for volume "{name}" : configmap "{name}" not found',
        f'MountVolume.SetUp failed for volume "{name}" : secret "{name}" not found',
        f'MountVolume.SetUp failed for volume "{name}" : configmap references non-existent config key: {c(rng, "app.yaml", "config.json", "nginx.conf")}',
    )
    return Draft("config_issue", reason="FailedMount", message=msg)


@template("config_issue")
def cfg_env_python(rng: random.Random, svc: str) -> Draft:
    var = rng.choice(V.ENV_VARS)
    p = rng.choice(V.PATHS)
    opt = rng.randint(0, 3)
    if opt == 0:
        lines = [
            "Traceback (most recent call last):",
            f'  File "{p}/settings.py", line {V.rint(rng, 5, 120)}, in <module>',
            f"    {var} = os.environ['{var}']",
            '  File "/usr/local/lib/python3.11/os.py", line 679, in __getitem__',
            "    raise KeyError(key) from None",
            f"KeyError: '{var}'",
        ]
    elif opt == 1:
        lines = [f"django.core.exceptions.ImproperlyConfigured: Set the {var} environment variable"]
    elif opt == 2:
        lines = [
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
            f"{var.lower()}",
            "  Field required [type=missing, input_value={...}, input_type=dict]",
        ]
    else:
        lines = [
            f"RuntimeError: missing required environment variable {var}",
            f"ValueError: invalid literal for int() with base 10: '{c(rng, 'abc', '', 'eighty', '8080/tcp')}' (env {var})",
        ][rng.randint(0, 1) :]
    return Draft("config_issue", reason=crash_reason(rng), exit_code=rng.choice([1, 1, 2, None]), log_lines=lines)


@template("config_issue")
def cfg_env_other(rng: random.Random, svc: str) -> Draft:
    var = rng.choice(V.ENV_VARS)
    key = rng.choice(V.CONFIG_KEYS)
    opt = rng.randint(0, 8)
    lines = [
        [
            f"java.lang.IllegalArgumentException: Could not resolve placeholder '{key}' in value \"${{{key}}}\"",
            "\tat org.springframework.util.PropertyPlaceholderHelper.parseStringValue(PropertyPlaceholderHelper.java:180)",
        ],
        [
            "***************************",
            "APPLICATION FAILED TO START",
            "***************************",
            "Description:",
            f"Failed to bind properties under '{key}' to java.lang.String:",
            "Action:",
            "Update your application's configuration",
        ],
        [
            f"Error: Missing required environment variable: {var}",
            f"    at Object.<anonymous> ({rng.choice(V.PATHS)}/config/index.js:{V.rint(rng, 3, 60)}:{V.rint(rng, 5, 30)})",
        ],
        [
            f'panic: required env var "{var}" is not set',
            "",
            "goroutine 1 [running]:",
            "main.mustEnv(...)",
            f"\t/src/cmd/{svc}/main.go:{V.rint(rng, 10, 90)} +0x{V.hexs(rng, 3)}",
        ],
        [
            f'{rng.choice(V.PATHS)}/config/initializers/stripe.rb:{V.rint(rng, 1, 9)}:in `fetch\': key not found: "{var}" (KeyError)'
        ],
        [
            "Unhandled exception. System.InvalidOperationException: The ConnectionString property has not been initialized.",
            f"Microsoft.Extensions.Options.OptionsValidationException: {key} is required.",
        ][rng.randint(0, 1) :],
        [
            f"flag provided but not defined: -{c(rng, 'listen-addr', 'config', 'db-dsn', 'metrics-port', 'enable-x')}",
            f"Usage of /usr/local/bin/{svc}:",
        ],
        [
            f"Error: yaml: line {V.rint(rng, 2, 80)}: mapping values are not allowed in this context",
            f"failed to load config file /etc/{svc}/config.yaml",
        ],
        [
            f"error parsing config: json: cannot unmarshal string into Go struct field Config.{c(rng, 'port', 'timeout', 'replicas')} of type int",
            f'invalid value "{c(rng, "yes", "abc", "10x")}" for flag -{c(rng, "timeout", "port", "workers")}: parse error',
        ][rng.randint(0, 1) :],
    ][opt]
    return Draft("config_issue", reason=crash_reason(rng), exit_code=rng.choice([1, 2, 78, None]), log_lines=lines)


@template("config_issue")
def cfg_bad_connection_string(rng: random.Random, svc: str) -> Draft:
    host = rng.choice(V.HOSTS_DB)
    opt = rng.randint(0, 5)
    lines = [
        [
            f"sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from string '{c(rng, 'postgres//user@' + host, 'None', '${DATABASE_URL}')}'"
        ],
        [
            f'django.db.utils.OperationalError: invalid dsn: invalid connection option "{c(rng, "sslmod", "hostname", "pass")}"'
        ],
        [
            f"Error: getaddrinfo ENOTFOUND {c(rng, 'redis', 'postgres', 'postgresql', 'mongodb', 'http', 'https', 'amqp')}://{rng.choice(V.HOSTS_DB + V.HOSTS_CACHE)}:{rng.choice([5432, 6379, 27017, 5672, 8080, 443])}",
            "    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)",
        ],
        [
            "java.lang.IllegalArgumentException: URL must start with 'jdbc'",
            "Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.",
        ][rng.randint(0, 1) :],
        [
            f'parse "{c(rng, "postgres://user:p@ss#word@db:5432/app", "mongodb://", "amqp//guest@rabbit")}": invalid URI for request',
            "invalid connection string",
        ],
        ['MongoParseError: Invalid scheme, expected connection string to start with "mongodb://" or "mongodb+srv://"'],
    ][opt]
    return Draft("config_issue", reason=crash_reason(rng), exit_code=rng.choice([1, None]), log_lines=lines)


@template("config_issue")
def cfg_missing_file(rng: random.Random, svc: str) -> Draft:
    f = c(
        rng,
        f"/etc/{svc}/config.yaml",
        "/app/config/production.json",
        "/config/application.yml",
        ".env",
        f"/etc/{svc}/{svc}.conf",
        "/app/appsettings.Production.json",
        "/etc/nginx/conf.d/default.conf",
    )
    lines = c(
        rng,
        f"Error: open {f}: no such file or directory",
        f"FileNotFoundError: [Errno 2] No such file or directory: '{f}'",
        f"Could not load config file {f}: ENOENT: no such file or directory",
        f'nginx: [emerg] unknown directive "{c(rng, "proxy_passs", "listen_", "sever_name")}" in {f}:{V.rint(rng, 1, 60)}',
        f'nginx: [emerg] host not found in upstream "{rng.choice(V.HOSTS_SVC)}" in {f}:{V.rint(rng, 1, 60)}',
        f"System.IO.FileNotFoundException: The configuration file '{f}' was not found and is not optional.",
    )
    return Draft("config_issue", reason=crash_reason(rng), exit_code=rng.choice([1, 2, None]), log_lines=[lines])


@template("config_issue")
def cfg_bad_credentials(rng: random.Random, svc: str) -> Draft:
    opt = rng.randint(0, 4)
    user = c(rng, "app", "postgres", "admin", "svc_" + svc.replace("-", "_"), "root")
    lines = [
        [f'psycopg2.OperationalError: FATAL:  password authentication failed for user "{user}"'],
        [f"java.sql.SQLException: Access denied for user '{user}'@'{V.ip(rng)}' (using password: YES)"],
        ["MongoServerError: Authentication failed.", "code: 18, codeName: 'AuthenticationFailed'"],
        [
            f"redis.exceptions.AuthenticationError: {c(rng, 'invalid username-password pair or user is disabled.', 'Authentication required.')}"
        ],
        [
            "com.rabbitmq.client.AuthenticationFailureException: ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN."
        ],
    ][opt]
    return Draft(
        "config_issue",
        reason=crash_reason(rng),
        exit_code=rng.choice([1, None]),
        log_lines=lines,
        actions=("update_config", "notify", "rollback"),
    )


# ------------------------------------------------------------------------------------- dependency_error
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


# --------------------------------------------------------------------------------------------- timeout
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


# ------------------------------------------------------------------------------------------ image_pull
@template("image_pull")
def img_not_found(rng: random.Random, svc: str) -> Draft:
    img = V.image_ref(rng)
    name, _, tag = img.rpartition(":")
    msg = c(
        rng,
        f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": {img}: not found',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: manifest for {img} not found: manifest unknown: manifest unknown',
        f'Back-off pulling image "{img}"',
        "Error: ErrImagePull",
        "Error: ImagePullBackOff",
        f'Failed to pull image "{img}": reading manifest {tag} in {name}: manifest unknown',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": unexpected status from HEAD request: 404 Not Found',
        f"Error response from daemon: manifest for {img} not found: manifest unknown: manifest unknown",
        f'Failed to pull image "{img}": {name}:{tag}: not found',
    )
    if rng.random() < 0.3:
        msg = f'Back-off pulling image "{img}"\n' + msg
    return Draft("image_pull", reason=c(rng, "ErrImagePull", "ImagePullBackOff", "Failed", "BackOff"), message=msg)


@template("image_pull")
def img_auth(rng: random.Random, svc: str) -> Draft:
    img = V.image_ref(rng)
    name = img.rpartition(":")[0]
    msg = c(
        rng,
        f"Failed to pull image \"{img}\": rpc error: code = Unknown desc = Error response from daemon: pull access denied for {name}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: Get https://{img.split("/")[0]}/v2/: unauthorized: authentication required',
        f"Error response from daemon: pull access denied for {name}, repository does not exist or may require 'docker login'",
        f"Unable to retrieve some image pull secrets ({svc}-registry); attempting to pull the image may not succeed.",
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
    )
    return Draft(
        "image_pull",
        reason=c(rng, "ErrImagePull", "ImagePullBackOff", "Failed", "FailedToRetrieveImagePullSecret"),
        message=msg,
        actions=("update_config", "notify", "rollback"),
    )


@template("image_pull")
def img_network(rng: random.Random, svc: str) -> Draft:
    img = V.image_ref(rng)
    reg = img.split("/")[0]
    msg = c(
        rng,
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: Get "https://{reg}/v2/": dial tcp: lookup {reg}: no such host',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://{reg}/v2/": x509: certificate signed by unknown authority',
        f'Failed to pull image "{img}": rpc error: code = Canceled desc = context canceled',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: Get https://{reg}/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
        f'Failed to pull image "{img}": rpc error: code = InvalidArgument desc = failed to pull and unpack image "{img}": failed to resolve reference: invalid reference format',
        f'Failed to inspect image "{img}": rpc error: code = Unknown desc = short-name "{img.split("/")[-1]}" did not resolve to an alias and no unqualified-search registries are defined in "/etc/containers/registries.conf"',
        f'InvalidImageName: Failed to apply default image tag "{img}:": couldn\'t parse image reference "{img}:": invalid reference format',
    )
    return Draft(
        "image_pull",
        reason=c(rng, "ErrImagePull", "ImagePullBackOff", "Failed", "InvalidImageName"),
        message=msg,
        actions=("notify", "rollback", "update_config"),
    )


@template("image_pull")
def img_arch(rng: random.Random, svc: str) -> Draft:
    n = rng.choice([178, 190, 211, 219, 224, 228])
    lines = c(
        rng,
        f'standard_init_linux.go:{n}: exec user process caused "exec format error"',
        f"standard_init_linux.go:{n}: exec user process caused: exec format error",
        f"exec {c(rng, '/usr/local/bin/' + svc, '/app/server', '/docker-entrypoint.sh', '/bin/sh')}: exec format error",
        f'Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "{c(rng, "/app/" + svc, "/entrypoint.sh")}": exec format error: unknown',
        f"WARNING: The requested image's platform (linux/{c(rng, 'amd64', 'arm64')}) does not match the detected host platform (linux/{c(rng, 'arm64/v8', 'amd64')}) and no specific platform was requested",
        f"no matching manifest for linux/{c(rng, 'arm64/v8', 'amd64', 'arm/v7')} in the manifest list entries",
        f"image with reference {V.image_ref(rng)} was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64",
    )
    return Draft(
        "image_pull",
        reason=c(rng, "CrashLoopBackOff", "Error", "", "ErrImagePull"),
        exit_code=rng.choice([1, 255, None]),
        log_lines=[lines],
    )


# ------------------------------------------------------------------------------------------- app_crash
@template("app_crash")
def crash_python(rng: random.Random, svc: str) -> Draft:
    p = rng.choice(V.PATHS)
    exc = c(
        rng,
        "AttributeError: 'NoneType' object has no attribute 'get'",
        "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
        "IndexError: list index out of range",
        f"KeyError: '{c(rng, 'user_id', 'items', 'data', 'id')}'",
        "ZeroDivisionError: division by zero",
        "ValueError: too many values to unpack (expected 2)",
        "RecursionError: maximum recursion depth exceeded",
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        "UnboundLocalError: local variable 'result' referenced before assignment",
        "AssertionError",
        "NotImplementedError",
        "TypeError: 'NoneType' object is not subscriptable",
    )
    lines = [
        "Traceback (most recent call last):",
        f'  File "{p}/{c(rng, "main.py", "app.py", "worker.py", "handlers/orders.py")}", line {V.rint(rng, 5, 400)}, in {c(rng, "<module>", "main", "handle", "process")}',
        f"    {c(rng, 'result = compute(payload)', 'return self.items[idx]', 'value = data[key]', 'total = price + qty')}",
        exc,
    ]
    return Draft("app_crash", reason=crash_reason(rng), exit_code=rng.choice([1, 1, None]), log_lines=lines)


@template("app_crash")
def crash_missing_module(rng: random.Random, svc: str) -> Draft:
    m = rng.choice(V.PY_MODULES)
    opt = rng.randint(0, 6)
    lines = [
        [
            "Traceback (most recent call last):",
            f'  File "{rng.choice(V.PATHS)}/main.py", line {V.rint(rng, 1, 30)}, in <module>',
            f"    import {m}",
            f"ModuleNotFoundError: No module named '{m}'",
        ],
        [
            f"ImportError: cannot import name '{c(rng, 'escape', 'soft_unicode', 'url_quote', 'BaseSettings')}' from '{c(rng, 'jinja2', 'markupsafe', 'werkzeug.urls', 'pydantic')}'"
        ],
        [
            f"Error: Cannot find module '{c(rng, 'express', 'dotenv', './dist/main', '@nestjs/core', 'pg')}'",
            "Require stack:",
            f"- {rng.choice(V.PATHS)}/index.js",
            "    at Module._resolveFilename (node:internal/modules/cjs/loader:1140:15)",
            "  code: 'MODULE_NOT_FOUND',",
        ],
        [
            f'Exception in thread "main" java.lang.NoClassDefFoundError: {c(rng, "org/slf4j/LoggerFactory", "com/fasterxml/jackson/databind/ObjectMapper", "javax/xml/bind/JAXBException")}',
            f"Caused by: java.lang.ClassNotFoundException: {c(rng, 'org.slf4j.LoggerFactory', 'javax.xml.bind.JAXBException')}",
        ],
        [
            f"Error: Could not find or load main class {rng.choice(V.JAVA_CLASSES)}",
            f"Caused by: java.lang.ClassNotFoundException: {rng.choice(V.JAVA_CLASSES)}",
        ],
        [
            f"<internal:/usr/local/lib/ruby/3.2.0/rubygems/core_ext/kernel_require.rb>:{V.rint(rng, 30, 160)}:in `require': cannot load such file -- {c(rng, 'pg', 'redis', 'nokogiri', 'bootsnap/setup')} (LoadError)"
        ],
        [
            'PHP Fatal error:  Uncaught Error: Class "'
            + c(rng, "App\\Services\\PaymentService", "Redis", "GuzzleHttp\\Client")
            + f'" not found in /var/www/html/app/Http/Kernel.php:{V.rint(rng, 10, 200)}'
        ],
    ][opt]
    return Draft("app_crash", reason=crash_reason(rng), exit_code=rng.choice([1, 1, 255, None]), log_lines=lines)


@template("app_crash")
def crash_java(rng: random.Random, svc: str) -> Draft:
    cls = rng.choice(V.JAVA_CLASSES)
    exc = c(
        rng,
        "java.lang.NullPointerException",
        f'java.lang.NullPointerException: Cannot invoke "String.length()" because "{c(rng, "name", "value", "token")}" is null',
        "java.lang.IllegalStateException: Failed to execute CommandLineRunner",
        "java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 3",
        "java.lang.ClassCastException: class java.lang.String cannot be cast to class java.lang.Integer",
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'orderService': Invocation of init method failed",
        "java.util.ConcurrentModificationException",
        'java.lang.NumberFormatException: For input string: ""',
        "java.lang.StackOverflowError",
        "kotlin.UninitializedPropertyAccessException: lateinit property repo has not been initialized",
    )
    lines = [
        f'Exception in thread "main" {exc}' if rng.random() < 0.5 else exc,
        f"\tat {cls}.{c(rng, 'process', 'handle', 'run', 'init')}({cls.rsplit('.', 1)[-1]}.java:{V.rint(rng, 10, 500)})",
        f"\tat {cls}.main({cls.rsplit('.', 1)[-1]}.java:{V.rint(rng, 10, 60)})",
    ]
    if rng.random() < 0.3:
        lines.insert(0, "APPLICATION FAILED TO START" if rng.random() < 0.3 else "Application run failed")
    return Draft("app_crash", reason=crash_reason(rng), exit_code=rng.choice([1, 1, None]), log_lines=lines)


@template("app_crash")
def crash_go_node_dotnet(rng: random.Random, svc: str) -> Draft:
    opt = rng.randint(0, 7)
    lines = [
        [
            "panic: runtime error: invalid memory address or nil pointer dereference",
            f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x{V.hexs(rng, 2)} pc=0x{V.hexs(rng, 6)}]",
            "",
            "goroutine 1 [running]:",
            f"main.(*Server).handle(0xc000{V.hexs(rng, 6)})",
            f"\t/src/internal/server/server.go:{V.rint(rng, 10, 400)} +0x{V.hexs(rng, 2)}",
        ],
        [
            f"panic: runtime error: index out of range [{V.rint(rng, 1, 9)}] with length {V.rint(rng, 0, 1)}",
            "",
            f"goroutine {V.rint(rng, 1, 200)} [running]:",
        ],
        [
            "panic: assignment to entry in nil map",
            "",
            "goroutine 1 [running]:",
            f"main.main()\n\t/app/main.go:{V.rint(rng, 5, 80)} +0x{V.hexs(rng, 2)}",
        ],
        [
            f"{rng.choice(V.PATHS)}/dist/server.js:{V.rint(rng, 10, 900)}",
            f"TypeError: Cannot read properties of undefined (reading '{c(rng, 'map', 'id', 'length', 'user')}')",
            f"    at {c(rng, 'OrderController.create', 'processTicksAndRejections', 'Object.<anonymous>')} ({rng.choice(V.PATHS)}/dist/orders.js:{V.rint(rng, 1, 500)}:{V.rint(rng, 1, 60)})",
            "",
            "Node.js v18.19.0",
        ],
        [
            f'[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "{c(rng, "Invalid state", "undefined", "boom")}".] {{',
            "  code: 'ERR_UNHANDLED_REJECTION'",
            "}",
        ],
        [
            "Unhandled exception. System.NullReferenceException: Object reference not set to an instance of an object.",
            f"   at {c(rng, 'Acme', 'Shop')}.Api.Controllers.OrdersController.Get(Int32 id) in /src/Controllers/OrdersController.cs:line {V.rint(rng, 10, 200)}",
        ],
        [
            f"{rng.choice(V.PATHS)}/app/services/order_service.rb:{V.rint(rng, 10, 200)}:in `call': undefined method `{c(rng, 'each', 'id', 'name')}' for nil:NilClass (NoMethodError)"
        ],
        [
            f"PHP Fatal error:  Uncaught TypeError: {c(rng, 'count(): Argument #1 ($value) must be of type Countable|array, null given', 'Return value must be of type string, null returned')} in /var/www/html/src/Service.php:{V.rint(rng, 10, 300)}",
            "Stack trace:",
            "#0 {main}",
            "  thrown in /var/www/html/src/Service.php",
        ],
    ][opt]
    return Draft("app_crash", reason=crash_reason(rng), exit_code=rng.choice([1, 2, 134, 255, None]), log_lines=lines)


@template("app_crash")
def crash_signal(rng: random.Random, svc: str) -> Draft:
    opt = rng.randint(0, 5)
    lines = [
        ["Segmentation fault (core dumped)"],
        [
            f"/docker-entrypoint.sh: line {V.rint(rng, 5, 40)}: {V.rint(rng, 6, 99)} Segmentation fault      (core dumped) /app/{svc}"
        ],
        [
            "Fatal Python error: Segmentation fault",
            "",
            f"Current thread 0x00007f{V.hexs(rng, 10)} (most recent call first):",
        ],
        [
            f"terminate called after throwing an instance of 'std::{c(rng, 'runtime_error', 'bad_alloc', 'out_of_range')}'",
            "  what():  " + c(rng, "vector::_M_range_check", "invalid argument", "basic_string"),
            "Aborted (core dumped)",
        ],
        ["*** stack smashing detected ***: terminated", "Aborted"],
        [
            f"[ERROR] Worker (pid:{V.rint(rng, 7, 999)}) was sent SIGSEGV!",
            f"[ERROR] Worker (pid:{V.rint(rng, 7, 999)}) was sent code 139!",
        ][rng.randint(0, 1) :],
    ][opt]
    return Draft("app_crash", reason=crash_reason(rng), exit_code=rng.choice([139, 139, 134, None]), log_lines=lines)


@template("app_crash")
def crash_exit_only(rng: random.Random, svc: str) -> Draft:
    ec = rng.choice([1, 2, 139, 134, 255, 127])
    msg = c(
        rng,
        backoff(rng, svc),
        f"Container {svc} exited with code {ec}",
        f"Back-off restarting failed container {svc} in pod {V.pod_name(rng, svc)}",
        f"Error: container {svc} terminated with exit code {ec}",
        "",
    )
    lines = []
    if ec == 127:
        lines = [
            c(
                rng,
                f"/bin/sh: 1: {c(rng, 'gunicorn', 'node', 'java', './start.sh')}: not found",
                f'exec: "{c(rng, "gunicorn", "npm", "/app/run.sh")}": executable file not found in $PATH',
                "env: 'python': No such file or directory",
            )
        ]
    return Draft(
        "app_crash", reason=c(rng, "CrashLoopBackOff", "Error", "BackOff"), exit_code=ec, message=msg, log_lines=lines
    )


# --------------------------------------------------------------------------------------- probe_failure
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


# ----------------------------------------------------------------------------------- permission_denied
@template("permission_denied")
def perm_rbac(rng: random.Random, svc: str) -> Draft:
    ns = rng.choice(V.NAMESPACES)
    res = c(
        rng,
        "pods",
        "secrets",
        "configmaps",
        "services",
        "endpoints",
        "deployments.apps",
        "leases.coordination.k8s.io",
        "nodes",
        "events",
        "ingresses.networking.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
        "jobs.batch",
    )
    verb = c(rng, "list", "get", "watch", "create", "update", "patch", "delete")
    sa = f"system:serviceaccount:{ns}:{c(rng, 'default', svc, svc + '-sa', 'controller')}"
    scope = c(rng, f'in the namespace "{ns}"', "at the cluster scope")
    grp = "" if "." not in res else res.split(".", 1)[1]
    base = f'{res.split(".")[0]} is forbidden: User "{sa}" cannot {verb} resource "{res.split(".")[0]}" in API group "{grp}" {scope}'
    lines = c(
        rng,
        base,
        f"Failed to watch *v1.{res.split('.')[0].title().rstrip('s')}: failed to list: {base}",
        f'HTTP response body: {{"kind":"Status","apiVersion":"v1","status":"Failure","message":"{base}","reason":"Forbidden","code":403}}',
        f"Error from server (Forbidden): {base}",
        f"io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: GET at: https://kubernetes.default.svc/api/v1/namespaces/{ns}/{res.split('.')[0]}. Message: Forbidden!Configured service account doesn't have access. Service account may have been revoked. {base}.",
        f"kubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden\nHTTP response body: {base}",
    )
    return Draft(
        "permission_denied",
        reason=c(rng, "", "", "Forbidden", "CrashLoopBackOff"),
        exit_code=rng.choice([1, None, None]),
        log_lines=[lines],
    )


@template("permission_denied")
def perm_cloud(rng: random.Random, svc: str) -> Draft:
    acct = V.rint(rng, 100000000000, 999999999999)
    act = c(
        rng,
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "sqs:ReceiveMessage",
        "dynamodb:PutItem",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "sts:AssumeRoleWithWebIdentity",
        "ssm:GetParameter",
        "sns:Publish",
    )
    opt = rng.randint(0, 6)
    lines = [
        [
            f"botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the {c(rng, 'GetObject', 'PutObject', 'ListObjectsV2')} operation: Access Denied"
        ],
        [
            f"An error occurred (AccessDeniedException) when calling the {c(rng, 'GetSecretValue', 'Decrypt', 'PutItem')} operation: User: arn:aws:sts::{acct}:assumed-role/{svc}-role/{V.hexs(rng, 16)} is not authorized to perform: {act} on resource: arn:aws:{act.split(':')[0]}:us-east-1:{acct}:{svc} because no identity-based policy allows the {act} action"
        ],
        [
            f"software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: {V.hexs(rng, 16).upper()})"
        ],
        [
            "WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\tstatus code: 403"
        ],
        [
            f"google.api_core.exceptions.Forbidden: 403 GET https://storage.googleapis.com/storage/v1/b/{svc}-bucket/o: {svc}@project.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket.",
            f"googleapi: Error 403: Permission '{c(rng, 'pubsub.subscriptions.consume', 'secretmanager.versions.access')}' denied on resource (or it may not exist)., forbidden",
        ][rng.randint(0, 1) :],
        [
            "Azure.RequestFailedException: This request is not authorized to perform this operation using this permission.\nStatus: 403 (This request is not authorized to perform this operation using this permission.)\nErrorCode: AuthorizationPermissionMismatch"
        ],
        [
            f"Error: 403 Forbidden: {c(rng, 'Vault: permission denied', 'permission denied', 'insufficient_scope')} (path secret/data/{svc})"
        ],
    ][opt]
    return Draft("permission_denied", reason="", exit_code=rng.choice([1, None, None]), log_lines=lines)


@template("permission_denied")
def perm_fs(rng: random.Random, svc: str) -> Draft:
    wp = rng.choice(V.WRITE_PATHS)
    opt = rng.randint(0, 10)
    lines = [
        [
            f"PermissionError: [Errno 13] Permission denied: '{wp}/{c(rng, 'app.log', 'cache.db', 'upload.tmp', 'state.json')}'"
        ],
        [f"OSError: [Errno 30] Read-only file system: '{wp}'"],
        [
            f"Error: EACCES: permission denied, open '{wp}/{c(rng, 'app.log', 'index.json')}'",
            "  errno: -13,",
            "  code: 'EACCES',",
            "  syscall: 'open',",
        ],
        [f"Error: EROFS: read-only file system, mkdir '{wp}'"],
        [f"mkdir {wp}: read-only file system"],
        [f"open {wp}/data.db: permission denied"],
        [
            f"java.nio.file.AccessDeniedException: {wp}/{c(rng, 'app.log', 'tmp')}",
            f"java.io.FileNotFoundException: {wp}/app.log (Permission denied)",
        ][rng.randint(0, 1) :],
        [
            f'nginx: [emerg] mkdir() "{c(rng, "/var/cache/nginx/client_temp", "/var/run/nginx.pid")}" failed (13: Permission denied)',
            'nginx: [emerg] open() "/var/run/nginx.pid" failed (30: Read-only file system)',
        ][rng.randint(0, 1) :],
        [
            f"chown: changing ownership of '{wp}': Operation not permitted",
            f"chmod: changing permissions of '{wp}': Read-only file system",
        ][rng.randint(0, 1) :],
        [
            'initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted'
        ],
        [
            f"touch: cannot touch '{wp}/test': {c(rng, 'Permission denied', 'Read-only file system')}",
            f"cp: cannot create regular file '{wp}/x': Permission denied",
        ][rng.randint(0, 1) :],
    ][opt]
    return Draft("permission_denied", reason=crash_reason(rng), exit_code=rng.choice([1, 1, None]), log_lines=lines)


@template("permission_denied")
def perm_admission(rng: random.Random, svc: str) -> Draft:
    msg = c(
        rng,
        f'Error creating: pods "{V.pod_name(rng, svc)}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "{svc}" must set securityContext.allowPrivilegeEscalation=false)',
        f'Error creating: pods "{V.pod_name(rng, svc)}" is forbidden: error looking up service account {rng.choice(V.NAMESPACES)}/{svc}-sa: serviceaccount "{svc}-sa" not found',
        f'Error creating: pods "{V.pod_name(rng, svc)}" is forbidden: unable to validate against any security context constraint',
        'Error: failed to start container: OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "/app/start.sh": permission denied: unknown',
        "exec /usr/local/bin/docker-entrypoint.sh: permission denied",
    )
    return Draft(
        "permission_denied",
        reason=c(rng, "FailedCreate", "Failed", "RunContainerError", "CreateContainerError"),
        message=msg,
        exit_code=rng.choice([None, 126, 128]),
    )


# --------------------------------------------------------------------------------- resource_exhaustion
@template("resource_exhaustion")
def res_unschedulable(rng: random.Random, svc: str) -> Draft:
    n = rng.randint(1, 30)
    a, b = rng.randint(1, n), rng.randint(0, n)
    parts = [f"{a} Insufficient {c(rng, 'cpu', 'memory', 'nvidia.com/gpu', 'ephemeral-storage', 'pods')}"]
    if rng.random() < 0.5:
        parts.append(f"{b} Insufficient {c(rng, 'memory', 'cpu')}")
    if rng.random() < 0.4:
        parts.append(f"{rng.randint(1, n)} node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}")
    if rng.random() < 0.3:
        parts.append(f"{rng.randint(1, n)} node(s) didn't match Pod's node affinity/selector")
    if rng.random() < 0.2:
        parts.append(f"{rng.randint(1, n)} Too many pods")
    msg = f"0/{n} nodes are available: " + ", ".join(parts) + "."
    if rng.random() < 0.4:
        msg += f" preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
    if rng.random() < 0.15:
        msg = c(
            rng,
            f"pod didn't trigger scale-up: {rng.randint(1, 4)} Insufficient memory, {rng.randint(1, 3)} max node group size reached",
            f"No nodes are available that match all of the following predicates:: Insufficient cpu ({a}), Insufficient memory ({b}).",
            f"0/{n} nodes are available: {n} node(s) had volume node affinity conflict.",
        )
    return Draft(
        "resource_exhaustion",
        reason=c(rng, "FailedScheduling", "FailedScheduling", "Unschedulable", "NotTriggerScaleUp"),
        message=msg,
        actions=("scale_up", "notify"),
    )


@template("resource_exhaustion")
def res_evicted(rng: random.Random, svc: str) -> Draft:
    res = c(rng, "ephemeral-storage", "memory", "ephemeral-storage", "nodefs", "imagefs")
    msg = c(
        rng,
        f"The node was low on resource: {res}. Container {svc} was using {V.rint(rng, 100, 9000000)}Ki, which exceeds its request of 0. ",
        f"The node was low on resource: {res}. Threshold quantity: {V.rint(rng, 100000000, 9000000000)}, available: {V.rint(rng, 1000, 9000000)}Ki. Container {svc} was using {V.rint(rng, 1000, 900000)}Ki, request is 0, has larger consumption of {res}.",
        f"Pod The node had condition: [{c(rng, 'DiskPressure', 'MemoryPressure', 'PIDPressure')}].",
        f"Pod ephemeral local storage usage exceeds the total limit of containers {rng.choice(['1Gi', '500Mi', '2Gi'])}.",
        f'Usage of EmptyDir volume "{c(rng, "tmp", "cache", "data")}" exceeds the limit "{rng.choice(["1Gi", "500Mi"])}".',
        f"Evicted pod: node {rng.choice(V.NODE_NAMES)} has DiskPressure",
    )
    return Draft(
        "resource_exhaustion",
        reason=c(rng, "Evicted", "Evicted", "EvictionThresholdMet", "NodeHasDiskPressure"),
        message=msg,
        actions=("notify", "scale_up"),
    )


@template("resource_exhaustion")
def res_disk_full(rng: random.Random, svc: str) -> Draft:
    wp = rng.choice(V.WRITE_PATHS)
    lines = c(
        rng,
        f"OSError: [Errno 28] No space left on device: '{wp}/{c(rng, 'tmp.dat', 'out.parquet', 'cache')}'",
        f"write {wp}/wal/000{V.rint(rng, 100, 999)}.log: no space left on device",
        "java.io.IOException: No space left on device",
        "Error: ENOSPC: no space left on device, write",
        f'PANIC:  could not write to file "pg_wal/xlogtemp.{V.rint(rng, 10, 999)}": No space left on device',
        f'ERROR: could not extend file "base/16384/{V.rint(rng, 10000, 99999)}": No space left on device',
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
        f"[FIRING:1] KubePersistentVolumeFillingUp {rng.choice(V.NAMESPACES)}/{svc}-data - PersistentVolume is {V.rint(rng, 95, 100)}% full",
        f"flood stage disk watermark [95%] exceeded on [{svc}-es-0][{V.ip(rng)}], all indices on this node will be marked read-only",
        f"failed to write to {wp}: disk quota exceeded",
    )
    return Draft(
        "resource_exhaustion",
        reason=c(rng, "", "", "CrashLoopBackOff", "Error"),
        exit_code=rng.choice([1, None, None]),
        log_lines=[lines],
        actions=("notify", "scale_up"),
    )


@template("resource_exhaustion")
def res_fds_pids_quota(rng: random.Random, svc: str) -> Draft:
    opt = rng.randint(0, 8)
    lines = [
        [
            f"http: Accept error: accept tcp [::]:{rng.choice([8080, 9090, 3000])}: accept4: too many open files; retrying in {rng.choice([5, 10, 20, 40])}ms"
        ],
        ["OSError: [Errno 24] Too many open files"],
        ["java.io.IOException: Too many open files", "\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)"],
        [f"Error: EMFILE: too many open files, open '{rng.choice(V.PATHS)}/{c(rng, 'views/index.html', 'data.json')}'"],
        ["socket: too many open files", f"dial tcp {V.ip(rng)}:443: socket: too many open files"][rng.randint(0, 1) :],
        [
            f"runtime: failed to create new OS thread (have {V.rint(rng, 1000, 9999)} already; errno=11)",
            "fatal error: newosproc",
        ],
        ["fork: retry: Resource temporarily unavailable", "bash: fork: Resource temporarily unavailable"][
            rng.randint(0, 1) :
        ],
        [
            "java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached"
        ],
        [
            "FATAL:  sorry, too many clients already",
            "FATAL: remaining connection slots are reserved for non-replication superuser connections",
        ][rng.randint(0, 1) :],
    ][opt]
    acts = (
        ("restart_pod", "notify", "update_config") if opt in (0, 1, 2, 3, 4) else ("notify", "scale_up", "restart_pod")
    )
    return Draft(
        "resource_exhaustion",
        reason=c(rng, "", "CrashLoopBackOff", "Error"),
        exit_code=rng.choice([1, 2, None, None]),
        log_lines=lines,
        actions=acts,
    )


@template("resource_exhaustion")
def res_quota_pvc(rng: random.Random, svc: str) -> Draft:
    ns = rng.choice(V.NAMESPACES)
    msg = c(
        rng,
        f'Error creating: pods "{V.pod_name(rng, svc)}" is forbidden: exceeded quota: {ns}-quota, requested: limits.memory={rng.choice(["1Gi", "512Mi", "2Gi"])}, used: limits.memory={rng.choice(["15Gi", "7Gi"])}, limited: limits.memory={rng.choice(["16Gi", "8Gi"])}',
        f"pod has unbound immediate PersistentVolumeClaims. preemption: 0/{V.rint(rng, 1, 9)} nodes are available",
        f"failed to provision volume with StorageClass \"{c(rng, 'gp2', 'standard', 'premium-rwo')}\": rpc error: code = ResourceExhausted desc = Quota 'SSD_TOTAL_GB' exceeded. Limit: 500.0 in region us-central1.",
        f'AttachVolume.Attach failed for volume "pvc-{V.uuid(rng)}" : rpc error: code = Internal desc = Could not attach volume: maximum number of attachable volumes exceeded',
        f"Node {rng.choice(V.NODE_NAMES)} status is now: NodeHasDiskPressure",
        f"0/{V.rint(rng, 2, 9)} nodes are available: {V.rint(rng, 1, 9)} Too many pods.",
    )
    return Draft(
        "resource_exhaustion",
        reason=c(
            rng, "FailedCreate", "FailedScheduling", "ProvisioningFailed", "FailedAttachVolume", "NodeHasDiskPressure"
        ),
        message=msg,
        actions=("notify", "scale_up"),
    )


# ------------------------------------------------------------------------- more shapes, all error types
@template("oom")
def oom_alloc(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        "OSError: [Errno 12] Cannot allocate memory",
        "fork: Cannot allocate memory",
        f"runtime: out of memory: cannot allocate {V.rint(rng, 1000, 9000000)}-byte block ({V.rint(rng, 100000000, 900000000)} in use)",
        '"OOMKilled": true, "ExitCode": 137, "Error": ""',
        f"Killed process {V.rint(rng, 10, 9999)} ({svc}) due to memory limit: usage {V.rint(rng, 500, 4000)}Mi of {rng.choice([512, 1024, 2048])}Mi",
        "java.lang.OutOfMemoryError: Java heap space\nCaused by: java.lang.OutOfMemoryError: Java heap space",
        "memory allocation of 1073741824 bytes failed\nAborted (core dumped)",
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        f"{svc} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=999",
    )
    return Draft(
        "oom",
        reason=c(rng, "OOMKilled", "Error", "CrashLoopBackOff", ""),
        exit_code=rng.choice([137, 134, 1, None]),
        log_lines=lines.split("\n"),
    )


@template("config_issue")
def cfg_framework(rng: random.Random, svc: str) -> Draft:
    var = rng.choice(V.ENV_VARS)
    flag = c(rng, "--listen", "--db-url", "--workers", "--config-file", "--enable-metrics", "--port")
    lines = c(
        rng,
        "ArgumentError: Missing `secret_key_base` for 'production' environment, set this string with `bin/rails credentials:edit`",
        'ActiveRecord::AdapterNotSpecified: \'production\' database is not configured. Available: ["development", "test"]',
        "RuntimeException: No application encryption key has been specified.",
        "System.InvalidOperationException: Unable to configure HTTPS endpoint. No server certificate was specified, and the default developer certificate could not be found or is out of date.",
        f"required key {var} missing value",
        f"Error: unknown flag: {flag}",
        f"{svc}: error: unrecognized arguments: {flag}=1",
        f"error: invalid value 'abc' for '{flag} <N>': invalid digit found in string",
        f"Invalid configuration: '{rng.choice(V.CONFIG_KEYS)}' must be one of [debug, info, warn, error], got 'verbose'",
        f"error loading config: yaml: unmarshal errors:\n  line {V.rint(rng, 2, 60)}: field {c(rng, 'listen_addres', 'dbUrl', 'time_out')} not found in type config.Config",
        f"KeyError: 'Environment variable {var} not set'",
        f"ValueError: {var} must be set",
        f"Error: ENOENT: no such file or directory, open '{rng.choice(V.PATHS)}/config/{c(rng, 'production.json', 'default.yaml', '.env')}'",
        f"pydantic.error_wrappers.ValidationError: 1 validation error for Settings\n{var.lower()}\n  field required (type=value_error.missing)",
        f"com.typesafe.config.ConfigException$Missing: No configuration setting found for key '{rng.choice(V.CONFIG_KEYS)}'",
        f'FATAL: invalid value for parameter "{c(rng, "max_connections", "shared_buffers", "listen_addresses")}": "{c(rng, "abc", "-1", "")}"',
    )
    return Draft(
        "config_issue", reason=crash_reason(rng), exit_code=rng.choice([1, 2, 64, None]), log_lines=lines.split("\n")
    )


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


@template("image_pull")
def img_more(rng: random.Random, svc: str) -> Draft:
    img = V.image_ref(rng)
    msg = c(
        rng,
        f'Container image "{img}" is not present with pull policy of Never',
        f'Failed to inspect image "{img}": rpc error: code = Unknown desc = Error response from daemon: No such image: {img}',
        f"Error: image {img.rpartition(':')[0]}:{img.rpartition(':')[2]} not found",
        f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed to pull and unpack image "{img}": failed to unpack image on snapshotter overlayfs: unexpected media type text/html for sha256:{V.hexs(rng, 64)}: not found',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Error response from daemon: manifest unknown',
        f'Failed to pull image "{img}": rpc error: code = Unknown desc = Requesting bear token: invalid status code from registry 403 (Forbidden)',
        f"Failed to pull image \"{img}\": rpc error: code = Unknown desc = Error response from daemon: repository {img.rpartition(':')[0]} not found: name unknown: The repository with name '{img.split('/')[-1].split(':')[0]}' does not exist",
    )
    return Draft(
        "image_pull",
        reason=c(rng, "ErrImageNeverPull", "ImageInspectError", "ErrImagePull", "ImagePullBackOff", "Failed"),
        message=msg,
    )


@template("app_crash")
def crash_more(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        "Job has reached the specified backoff limit",
        f'Exception in thread "main" java.lang.UnsupportedClassVersionError: {rng.choice(V.JAVA_CLASSES).replace(".", "/")} has been compiled by a more recent version of the Java Runtime (class file version 61.0), this version of the Java Runtime only recognizes class file versions up to 55.0',
        f'  File "{rng.choice(V.PATHS)}/main.py", line {V.rint(rng, 2, 300)}\n    def handler(event\n                     ^\nSyntaxError: invalid syntax',
        f"{rng.choice(V.PATHS)}/dist/index.js:{V.rint(rng, 1, 99)}\nSyntaxError: Unexpected token '?'",
        f"thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/{c(rng, 'main.rs', 'handler.rs')}:{V.rint(rng, 5, 300)}:{V.rint(rng, 5, 40)}\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        f"Unhandled exception. System.IO.FileNotFoundException: Could not load file or assembly '{c(rng, 'Newtonsoft.Json', 'Microsoft.Extensions.Hosting')}, Version=13.0.0.0, Culture=neutral'. The system cannot find the file specified.",
        "Unhandled exception. System.ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
        f"** (RuntimeError) unexpected nil\n    (my_app 0.1.0) lib/my_app/worker.ex:{V.rint(rng, 5, 200)}: MyApp.Worker.handle_info/2",
        f"npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\nnpm ERR! {svc}@1.0.0 start: `node dist/main.js`\nnpm ERR! Exit status 1",
        "Error: Process exited with status 1\nState changed from starting to crashed",
        f'django.db.utils.ProgrammingError: relation "{c(rng, "users", "orders_order", "auth_user")}" does not exist',
        f"Fatal error: Uncaught Exception: {c(rng, 'Invalid state', 'Unexpected value')} in /var/www/html/src/{svc.title()}.php:{V.rint(rng, 10, 300)}",
        "Uncaught exception 'RuntimeException' with message 'boom'",
    )
    return Draft(
        "app_crash",
        reason=c(rng, "CrashLoopBackOff", "Error", "BackoffLimitExceeded", ""),
        exit_code=rng.choice([1, 1, 101, 134, None]),
        log_lines=lines.split("\n"),
    )


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


@template("permission_denied")
def perm_more(rng: random.Random, svc: str) -> Draft:
    lines = c(
        rng,
        'User "system:anonymous" cannot get path "/"',
        "error: You must be logged in to the server (Unauthorized)",
        "open /var/run/secrets/kubernetes.io/serviceaccount/token: permission denied",
        "GF_PATHS_DATA='/var/lib/grafana' is not writable.\nmkdir: can't create directory '/var/lib/grafana/plugins': Permission denied",
        f"AuthorizationFailed: The client '{V.uuid(rng)}' with object id '{V.uuid(rng)}' does not have authorization to perform action 'Microsoft.Storage/storageAccounts/read' over scope '/subscriptions/{V.uuid(rng)}'",
        "Error: EACCES: permission denied, mkdir '/.npm'",
        f"ERROR: permission denied for table {c(rng, 'orders', 'users', 'events')}",
        "pq: permission denied for schema public",
        f"mkdir: cannot create directory '{rng.choice(V.WRITE_PATHS)}': Permission denied",
        f"sh: {rng.choice(V.PATHS)}/entrypoint.sh: Permission denied",
        f"Operation not permitted: '{rng.choice(V.WRITE_PATHS)}'",
        "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
        "403 Forbidden: The caller does not have permission",
    )
    return Draft(
        "permission_denied",
        reason=c(rng, "", "CrashLoopBackOff", "Error", "Forbidden"),
        exit_code=rng.choice([1, 126, None]),
        log_lines=lines.split("\n"),
    )


@template("resource_exhaustion")
def res_more(rng: random.Random, svc: str) -> Draft:
    n = rng.randint(1, 12)
    msg = c(
        rng,
        f"0/{n} nodes are available: {n} node(s) didn't have free ports for the requested pod ports.",
        f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{V.hexs(rng, 64)}": plugin type="aws-cni" failed (add): add cmd: failed to assign an IP address to container',
        f"Failed to create pod sandbox: failed to allocate for range 0: no IP addresses available in range set: 10.{rng.randint(0, 255)}.0.1-10.{rng.randint(0, 255)}.0.254",
        f"Pod was rejected: Node didn't have enough resource: {c(rng, 'cpu', 'memory', 'pods')}, requested: {V.rint(rng, 100, 4000)}, used: {V.rint(rng, 1000, 8000)}, capacity: {V.rint(rng, 2000, 8000)}",
        f"Error: ENOSPC: System limit for number of file watchers reached, watch '{rng.choice(V.PATHS)}'",
        f"[FIRING:1] KubeNodeNotReady {rng.choice(V.NODE_NAMES)} - node is under DiskPressure",
        f"Node {rng.choice(V.NODE_NAMES)} is out of disk space: /var/lib/containerd at {V.rint(rng, 95, 100)}%",
        f"The node was low on resource: memory. Threshold quantity: 100Mi, available: {V.rint(rng, 10000, 99000)}Ki. Container {svc} was using {V.rint(rng, 100000, 900000)}Ki, request is {rng.choice(['128Mi', '256Mi', '0'])}, has larger consumption of memory.",
    )
    reason = c(rng, "FailedScheduling", "FailedCreatePodSandBox", "OutOfcpu", "OutOfmemory", "Evicted", "")
    acts: tuple[str, ...] = (
        ("notify", "scale_up") if "sandbox" in msg or "watchers" in msg or "disk" in msg else ("scale_up", "notify")
    )
    return Draft("resource_exhaustion", reason=reason, message=msg, actions=acts)
