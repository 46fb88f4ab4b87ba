# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `config_issue`: the workload's own configuration (env, mounts, files, credentials) is missing or wrong."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, crash_reason, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
