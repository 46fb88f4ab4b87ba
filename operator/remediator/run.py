"""`remediator run`: the operator process (kopf) with the model loaded once at start-up."""

from __future__ import annotations

import argparse
import asyncio
import sys

import kopf
from pydantic import ValidationError

from remediator import handlers  # noqa: F401  (registers the handlers)
from remediator.settings import load


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args)
    except ValidationError as err:
        print(f"error: invalid settings:\n{err}", file=sys.stderr)
        return 2
    if settings.mongodb_uri is None:
        print("note: no MongoDB configured; feedback stays in the Remediations' status", file=sys.stderr)
    kopf.configure(verbose=bool(getattr(args, "verbose", False)), log_format=kopf.LogFormat.JSON, log_refkey="object")
    asyncio.run(
        kopf.operator(
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=False,
            peering_name=settings.peering,
            memo=kopf.Memo(settings=settings),
        )
    )
    return 0
