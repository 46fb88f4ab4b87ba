"""The `remediator` command: one entry point, a subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def without_kubernetes_client() -> None:
    """Keep the generated `kubernetes` client out of this process. The operator and the HTTP API talk to the
    API server through adapters/kubeapi.py; kopf imports the client whenever it is importable (to recognise
    its model objects, which we never pass), and loading its thousands of classes costs about 40 MB of RSS.
    Installed beside us (the kubectl plugin and the tests use it), it would be imported all the same."""
    if "kubernetes" not in sys.modules:
        sys.modules["kubernetes"] = None  # type: ignore[assignment]  # `import kubernetes` raises ImportError


def _run(args: argparse.Namespace) -> int:
    without_kubernetes_client()
    from remediator.run import run

    return run(args)


def _api(args: argparse.Namespace) -> int:
    without_kubernetes_client()
    from remediator.web.server import run

    return run(args)


def _model(argv: list[str]) -> int:
    import importlib

    # Imported on use: the classifier and its numeric stack load only for `remediator model ...`.
    model_cli = importlib.import_module("remediator_model.cli")
    return int(model_cli.main(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remediator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    operator = sub.add_parser("run", help="run the operator against the current kubeconfig or in-cluster")
    from remediator.settings import add_arguments

    add_arguments(operator)
    operator.add_argument("--verbose", action="store_true", help="log what kopf does")
    operator.set_defaults(func=_run)

    web = sub.add_parser("api", help="run the HTTP API (POST /errors, /predict, /feedback, ...; docs/api.md)")
    from remediator.web.server import add_arguments as add_api_arguments

    add_api_arguments(web)
    web.set_defaults(func=_api)

    sub.add_parser("model", help="train, evaluate and run the error classifier", add_help=False)
    sub.add_parser(
        "report", help="what the operator did and would have done (dry-run), with its evidence", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `model` owns its own argument parsing (remediator_model.cli): hand it everything after the word.
    if argv and argv[0] == "model":
        from remediator.learning.cli import COMMANDS

        if len(argv) > 1 and argv[1] in COMMANDS:  # the learning loop talks to MongoDB and S3: ours
            from remediator.learning.cli import main as learning_main

            return learning_main(argv[1:])
        return _model(argv[1:])
    if argv and argv[0] == "report":
        from remediator.report import main as report_main

        return report_main(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
