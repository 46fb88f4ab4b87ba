"""`remediator model retrain|promote|rollback|versions|feedback`: the learning loop's commands.

They live in the operator package because they talk to MongoDB and S3; `remediator_model` stays a library
that knows nothing of either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from remediator import settings as settings_mod
from remediator.learning.loop import aws_clients, resolved_mongodb_uri

COMMANDS = ("retrain", "promote", "rollback", "versions", "feedback")


def _registry(opts: settings_mod.Settings) -> Any:
    from remediator.adapters.registry import ModelRegistry

    if not opts.models_bucket:
        raise SystemExit("error: --models-bucket (or REMEDIATOR_MODELS_BUCKET) is required")
    s3, _ = aws_clients(opts)
    return ModelRegistry(s3, opts.models_bucket, opts.models_prefix)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remediator model", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    retrain = sub.add_parser("retrain", help="train a challenger on feedback + history + seed; publish if not worse")
    retrain.add_argument("--out", help="where to build the challenger (default: a temporary directory)")
    retrain.add_argument("--since-days", type=int, default=None, help="only feedback of the last N days")
    promote = sub.add_parser("promote", help="point the registry at VERSION")
    promote.add_argument("version")
    sub.add_parser("rollback", help="point the registry back at the previous version")
    sub.add_parser("versions", help="list published versions and the current one")
    feedback = sub.add_parser("feedback", help="print recorded feedback as JSON lines")
    feedback.add_argument("--since-days", type=int, default=7)
    feedback.add_argument("--label", choices=["correct", "incorrect"], action="append", default=[])
    for p in (retrain, promote, feedback, *[sub.choices[n] for n in ("rollback", "versions")]):
        settings_mod.add_arguments(p)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        opts = settings_mod.load(args)
    except ValidationError as err:
        print(f"error: invalid settings:\n{err}", file=sys.stderr)
        return 2
    if args.command == "promote":
        print(json.dumps(_registry(opts).promote(args.version), indent=2, default=str))
        return 0
    if args.command == "rollback":
        print(json.dumps(_registry(opts).rollback(), indent=2, default=str))
        return 0
    if args.command == "versions":
        registry = _registry(opts)
        current = registry.current()
        for version in registry.versions():
            print(("* " if current and current[0] == version else "  ") + version)
        return 0

    from remediator.adapters.store import FeedbackStore

    uri = resolved_mongodb_uri(opts)
    if not uri:
        print("error: --mongodb-uri (or REMEDIATOR_MONGODB_URI) is required", file=sys.stderr)
        return 2
    store = FeedbackStore(uri, retention_days=opts.retention_days)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.since_days) if args.since_days else None
    if args.command == "feedback":
        for doc in store.feedback_since(since, tuple(args.label)):
            print(json.dumps(doc, default=str))
        return 0

    from remediator.adapters.archive import LogArchive
    from remediator.learning.retrain import retrain

    s3, _ = aws_clients(opts)
    archive = LogArchive(s3, opts.logs_bucket, opts.logs_prefix) if opts.logs_bucket else None
    registry = _registry(opts) if opts.models_bucket else None
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="remediator-retrain-"))
    report = retrain(store, archive, registry, out, since=since)
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0
