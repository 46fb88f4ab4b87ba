# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `resource_exhaustion`: the node, quota or volume lacks resources."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
