"""AWS clients for S3 and SSM (IRSA credentials in EKS, the SDK's usual chain elsewhere)."""

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
