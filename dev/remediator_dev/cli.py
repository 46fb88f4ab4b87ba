"""`remediator-dev`: the developer's commands (local control plane, demo); not part of the operator."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_CODES = """exit codes:
  0    done (cluster status: the API server is ready; demo: every scenario led to a Remediation)
  1    cluster status: the API server is not ready; demo: a scenario led to no Remediation, or a step failed
  2    bad arguments, or the local control plane cannot start (the message says what to do)
  130  demo interrupted (its operator is stopped)"""


def _cluster(args: argparse.Namespace) -> int:
    from remediator_dev.devcluster import cli as devcluster_cli

    return devcluster_cli.run(args)


def _demo(args: argparse.Namespace) -> int:
    from remediator_dev import demo

    return demo.main([args.action, "--timeout", str(args.timeout)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="remediator-dev",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev = sub.add_parser("cluster", help="a local control plane (etcd, kube-apiserver, ..., kwok)")
    dev.add_argument("action", choices=["up", "down", "status"])
    dev.add_argument("--dir", help="state directory (default: $REMEDIATOR_DEV_CLUSTER_DIR or ~/.kube-remediator)")
    dev.add_argument("--nodes", type=int, default=3, help="simulated nodes to create (default 3)")
    dev.set_defaults(func=_cluster)
    demo = sub.add_parser(
        "demo", help="five failing workloads on the local control plane, remediated; `demo down` stops it all"
    )
    demo.add_argument(
        "action",
        nargs="?",
        choices=["up", "down"],
        default="up",
        help="up (default): run the demo and leave the control plane and operator running; down: stop both",
    )
    demo.add_argument("--timeout", type=float, default=240, help="seconds to wait for the scenarios to settle")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
