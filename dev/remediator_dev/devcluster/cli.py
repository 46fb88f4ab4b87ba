"""`remediator-dev cluster up|down|status`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from remediator_dev.devcluster.cluster import DevCluster
from remediator_dev.devcluster.errors import DevClusterError


def run(args: argparse.Namespace) -> int:
    cluster = DevCluster(Path(args.dir) if args.dir else None, nodes=args.nodes)
    try:
        if args.action == "up":
            kubeconfig = cluster.up()
            print(f"local control plane is up; use it with:\n  export KUBECONFIG={kubeconfig}", file=sys.stderr)
            print(kubeconfig)
        elif args.action == "down":
            from remediator_dev.demo import DemoOperator

            # The demo's operator would only retry against a stopped API server: it goes first.
            if DemoOperator(cluster.dir).stop():
                print("demo operator stopped", file=sys.stderr)
            cluster.down()
            print("local control plane stopped (state kept in " + str(cluster.dir) + ")", file=sys.stderr)
        else:
            from remediator_dev.demo import DemoOperator

            report = cluster.status()
            demo_pid = DemoOperator(cluster.dir).pid()
            report["demo-operator"] = f"running (pid {demo_pid})" if demo_pid else "not running"
            width = max(map(len, report))
            for key, value in report.items():
                print(f"{key:<{width}}  {value}")
            return 0 if report["apiserver-ready"] == "yes" else 1
    except DevClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
