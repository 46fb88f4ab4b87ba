# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `oom`: the container ran out of memory (OOMKilled, heap or allocator exhaustion)."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, backoff, c, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
