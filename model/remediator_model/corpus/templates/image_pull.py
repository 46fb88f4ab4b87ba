# ruff: noqa: E501  (error templates: long lines are real error strings)
"""Seed templates for `image_pull`: the image cannot be pulled or cannot run on the node's architecture."""

from __future__ import annotations

import random

from remediator_model.corpus import vocab as V
from remediator_model.corpus.templates import Draft, c, template


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


# Added after the first set: kept last because the order within a type is part of the seeded corpus.
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
