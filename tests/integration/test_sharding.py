"""Two shards on the local control plane: every failing workload is remediated by the one process of its
namespace's shard, never by the other shard, and when the acting replica of a shard dies, that shard's standby
takes over while the other shard's replica, acting all along in a peering of its own, never touches it.

Which process acted is read from each operator's log: kopf writes one "Handler '...' succeeded." line, with the
object's namespace, for every handler it runs (pods, events, ErrorEvents, Remediations)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from remediator.domain.shard import shard_of
from tests.fixtures.cluster import Cluster
from tests.fixtures.helm import helm_template
from tests.fixtures.operator import Operator, OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

FAST = {"verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
SHARDS = 2


@pytest.fixture
def shard_namespaces(cluster: Cluster, namespace: str) -> Iterator[dict[int, list[str]]]:
    """Two fresh namespaces in each shard (names drawn until the hash puts two in each), deleted afterwards."""
    chosen: dict[int, list[str]] = {i: [] for i in range(SHARDS)}
    while any(len(names) < 2 for names in chosen.values()):
        name = f"{namespace}-{uuid.uuid4().hex[:6]}"
        if len(chosen[shard_of(name, SHARDS)]) < 2:
            chosen[shard_of(name, SHARDS)].append(name)
    core = client.CoreV1Api(cluster.api)
    created = [n for names in chosen.values() for n in names]
    for name in created:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield chosen
    finally:
        for name in created:
            core.delete_namespace(name)


def acted_in(op: Operator, namespaces: list[str], about: str = "") -> set[str]:
    """The namespaces among `namespaces` in which `op` ran a handler (from its JSON log), on an object whose
    name contains `about` (Pods, ErrorEvents and Remediations of a workload all carry its name)."""
    seen = set()
    for line in op.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        ref = record.get("object") if isinstance(record, dict) else None
        if (
            isinstance(ref, dict)
            and ref.get("namespace") in namespaces
            and about in str(ref.get("name"))
            and "succeeded" in str(record.get("message"))
        ):
            seen.add(ref["namespace"])
    return seen


def remediated(ops: Ops, name: str) -> dict[str, object]:
    """Wait for the OOMing Deployment `name` to get its one Remediation and for that to succeed."""
    rem = wait_for(
        lambda: next((r for r in ops.items("remediations") if r["spec"]["target"]["name"] == name), None),
        60,
        f"a Remediation for {ops.namespace}/{name}",
    )
    done = ops.wait_phase("remediations", rem["metadata"]["name"], "Succeeded", "Failed", "Skipped", timeout=60)
    check(done["status"]["phase"] == "Succeeded", f"{ops.namespace}/{name} ended {done['status']}")
    return done


def test_each_shard_remediates_its_own_namespaces_and_a_dead_replica_is_replaced_by_its_shards_standby(
    cluster: Cluster, shard_namespaces: dict[int, list[str]], run_operator: OperatorFactory, namespace: str
) -> None:
    ops = Ops(cluster, namespace)
    ops.policy(autoApplyThreshold=0.0, **FAST)  # the cluster default, read by both shards
    mine, theirs = shard_namespaces[0], shard_namespaces[1]
    served = [namespace, *mine, *theirs]
    peering = f"t-{uuid.uuid4().hex[:10]}"

    def shard(index: int, priority: int) -> Operator:
        env = {"REMEDIATOR_SHARD_INDEX": str(index), "REMEDIATOR_SHARD_COUNT": str(SHARDS)}
        return run_operator(*served, peering=peering, priority=priority, env=env, timeout=60)

    # Priorities cross the shards: were the peering shared, shard 1 (200) would stand by behind shard 0's 300.
    zero_acting, zero_standby, one = shard(0, 300), shard(0, 100), shard(1, 200)
    for ns in mine + theirs:
        Ops(cluster, ns).deployment("hungry", 1, fail="oom", memory="64Mi")
    for ns in mine + theirs:
        remediated(Ops(cluster, ns), "hungry")
        check(Ops(cluster, ns).memory_limit("hungry") == "96Mi", f"{ns}: raised once, to 96Mi")
    for ns in mine + theirs:
        each = Ops(cluster, ns)
        holds_for(
            lambda each=each: len(each.items("remediations")) == 1 and len(each.items("errorevents")) == 1,
            1,
            f"one ErrorEvent and one Remediation in {ns}",
        )

    everything = mine + theirs
    check(acted_in(zero_acting, everything) == set(mine), f"shard 0 acted in {acted_in(zero_acting, everything)}")
    check(acted_in(one, everything) == set(theirs), f"shard 1 acted in {acted_in(one, everything)}")
    check(acted_in(zero_standby, everything) == set(), "shard 0's standby acted while its leader lived")

    # Each shard has its own peering: shard 0's lists its two replicas, shard 1's its one.
    custom = client.CustomObjectsApi(cluster.api)
    for index, replicas in ((0, 2), (1, 1)):
        obj = custom.get_namespaced_custom_object(
            "kopf.dev", "v1", mine[0], "kopfpeerings", f"{peering}-shard-{index}-of-{SHARDS}"
        )
        check(len(obj.get("status") or {}) == replicas, f"peering of shard {index}: {obj.get('status')}")

    # A Remediation deleted with the finalizers of shard layouts that no longer run (unsharded, 3 shards) is
    # released by its owner; another controller's finalizer stays.
    leftover = ["kopf.zalando.org/KopfFinalizerMarker", "kopf.zalando.org/KopfFinalizerMarker-shard-1-of-3"]
    custom.create_namespaced_custom_object(
        "remediator.dev",
        "v1alpha1",
        mine[0],
        "remediations",
        {
            "apiVersion": "remediator.dev/v1alpha1",
            "kind": "Remediation",
            "metadata": {"name": "resharded", "finalizers": [*leftover, "example.com/keep"]},
            "spec": {
                "target": {"kind": "Deployment", "name": "ghost"},
                "action": "notify",
                "errorType": "app_crash",
                "confidence": 0.5,
            },
        },
    )
    first = Ops(cluster, mine[0])
    wait_for(lambda: first.phase("remediations", "resharded"), 30, "the resharded Remediation handled")
    custom.delete_namespaced_custom_object("remediator.dev", "v1alpha1", mine[0], "remediations", "resharded")

    def released() -> bool:
        obj = first.get("remediations", "resharded")
        return obj is not None and obj["metadata"].get("finalizers") == ["example.com/keep"]

    wait_for(released, 30, "the stale kopf finalizers released, the foreign one kept")
    holds_for(released, 2, "the foreign finalizer stays")
    first.custom.patch_namespaced_custom_object(
        "remediator.dev", "v1alpha1", mine[0], "remediations", "resharded", {"metadata": {"finalizers": None}}
    )
    wait_for(lambda: first.get("remediations", "resharded") is None, 30, "the Remediation gone")

    # Shard 0's acting replica dies the way a node does; its standby takes its namespaces over.
    zero_acting.kill()
    for ns in mine:
        Ops(cluster, ns).deployment("late", 1, fail="oom", memory="64Mi")
    for ns in mine:
        remediated(Ops(cluster, ns), "late")
        check(Ops(cluster, ns).memory_limit("late") == "96Mi", f"{ns}: late raised once, to 96Mi")
    took_over = acted_in(zero_standby, mine, "late")
    check(took_over == set(mine), f"shard 0's standby handled the late workloads in {took_over}")
    check(acted_in(one, mine) == set(), f"shard 1 acted in shard 0's namespaces {acted_in(one, mine)}")


def test_the_sharded_chart_is_accepted_by_the_api_server(cluster: Cluster, namespace: str) -> None:
    """Three shards rendered by helm and applied as a server-side dry run: every object is valid for real."""
    rendered = helm_template("sharding.shards=3", f"operator.namespaces={{{namespace}}}", namespace=namespace)
    applied = cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", "-", input=rendered.stdout, check=False
    )
    assert applied.returncode == 0, applied.stderr
    deployments = [line for line in applied.stdout.splitlines() if line.startswith("deployment.apps/")]
    assert sorted(deployments) == [
        f"deployment.apps/kr-kube-remediator-shard-{i} serverside-applied (server dry run)" for i in range(3)
    ]
