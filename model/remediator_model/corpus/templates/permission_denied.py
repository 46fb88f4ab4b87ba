# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `permission_denied`: RBAC, cloud IAM, filesystem or admission denials."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, crash_reason, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
