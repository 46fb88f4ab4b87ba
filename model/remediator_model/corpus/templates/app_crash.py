# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `app_crash`: the application itself crashed (exception, panic, signal, missing module)."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, backoff, c, crash_reason, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
