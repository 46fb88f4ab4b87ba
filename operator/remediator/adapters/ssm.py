"""Settings values that live in AWS SSM Parameter Store: ``ssm:///path/to/param`` -> the parameter's value.

Resolved once at start-up (``GetParameter`` with ``WithDecryption=True``, so SecureStrings work); any other
value is returned unchanged. The value itself is never logged or put in an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SCHEME = "ssm://"


class SSMResolutionError(RuntimeError):
    """An ``ssm:///...`` value could not be resolved; the message names the parameter (never a value)."""


def parameter_name(value: str) -> str | None:
    """``/path/to/param`` for ``ssm:///path/to/param``; None for a value that is not an SSM reference."""
    if not value.startswith(SCHEME):
        return None
    name = value[len(SCHEME) :]
    if not name.startswith("/") or name == "/" or any(c.isspace() for c in name):
        raise SSMResolutionError(
            f"invalid SSM reference {value!r}: expected ssm:///path/to/parameter (three slashes, absolute path)"
        )
    return name


def resolve(value: str, ssm_client_factory: Callable[[], Any]) -> str:
    """The value of SSM parameter ``/path`` for ``ssm:///path``; ``value`` itself otherwise. The client is
    made only when needed. Raises SSMResolutionError naming the parameter when it is missing or unreadable."""
    name = parameter_name(value)
    if name is None:
        return value
    try:
        client = ssm_client_factory()
        response = client.get_parameter(Name=name, WithDecryption=True)
    except Exception as err:
        code = getattr(err, "response", {}).get("Error", {}).get("Code") if hasattr(err, "response") else None
        if code == "ParameterNotFound":
            raise SSMResolutionError(f"SSM parameter {name} does not exist") from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise SSMResolutionError(f"SSM parameter {name}: access denied (GetParameter, kms:Decrypt)") from None
        reason = code or type(err).__name__
        raise SSMResolutionError(f"SSM parameter {name} could not be read: {reason}") from None
    resolved = response.get("Parameter", {}).get("Value")
    if not isinstance(resolved, str) or not resolved:
        raise SSMResolutionError(f"SSM parameter {name} is empty")
    log.info("resolved %s from SSM parameter %s", "a setting", name)
    return resolved


def resolve_optional(value: str | None, ssm_client_factory: Callable[[], Any]) -> str | None:
    return None if value is None else resolve(value, ssm_client_factory)
