"""AWS clients for S3, SSM and CloudWatch Logs (IRSA credentials in EKS, the SDK's usual chain elsewhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def clients(endpoint_url: str | None, region: str | None) -> tuple[Any, Callable[[], Any]]:
    """An S3 client and a factory of SSM clients; boto3 is imported on first use only."""
    import boto3

    kwargs: dict[str, Any] = {}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if region:
        kwargs["region_name"] = region
    return boto3.client("s3", **kwargs), (lambda: boto3.client("ssm", **kwargs))


def logs_client(region: str | None, endpoint_url: str | None = None) -> Any:
    """A CloudWatch Logs client that fails fast (short timeouts, no SDK retries): the audit writer retries
    itself, and a shutdown flush must not hang on a dead endpoint. Without `endpoint_url` the SDK's own
    settings apply (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, AWS_ENDPOINT_URL, then AWS)."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1})
    kwargs: dict[str, Any] = {"config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if region:
        kwargs["region_name"] = region
    return boto3.client("logs", **kwargs)
