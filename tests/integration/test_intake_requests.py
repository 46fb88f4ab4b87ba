"""Intake reads from the watch's caches: a storm of failing Pods costs at most 2 API requests per Pod.

100 failing Pods over 10 Deployments (kwok makes the Pods cheap) -> 10 ErrorEvents counting exactly 10 each,
10 Remediations and no duplicate; the operator's own remediator_kube_requests_total, scraped from its metrics
port, says how many requests it sent meanwhile. A namespace's opt-out label takes effect through the cache
(no GET of the namespace), and what the caches cannot answer is read with a GET and counted as a miss.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter

import pytest
from kubernetes import client

from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import Operator, OperatorFactory, Ops, check, holds_for, wait_for

pytestmark = pytest.mark.integration

DEPLOYMENTS, REPLICAS = 10, 10
PODS = DEPLOYMENTS * REPLICAS
PROPOSALS_ONLY = {"autoApplyThreshold": 1.0, "verifyWindowSeconds": 10, "cooldownSeconds": 0, "maxCooldownSeconds": 0}
_SAMPLE = re.compile(r"^(remediator_[a-z_]+)\{([^}]*)\} ([0-9.e+]+)$", re.M)


def _series(op: Operator, name: str) -> Counter[str]:
    """The samples of one counter by their label string (e.g. 'resource="namespaces",verb="get"')."""
    found: Counter[str] = Counter()
    for metric, labels, value in _SAMPLE.findall(op.metrics()):
        if metric == name:
            found[",".join(sorted(labels.split(",")))] += float(value)  # labels in name order
    return found


def _crashing(ops: Ops, app: str) -> int:
    return sum(
        1
        for p in ops.pods(app)
        if any((s.get("state") or {}).get("waiting") for s in p.get("status", {}).get("containerStatuses") or [])
    )


def test_a_storm_of_failing_pods_costs_at_most_two_requests_per_pod(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    ops.policy(**PROPOSALS_ONLY)
    op = run_operator(namespace)
    time.sleep(2)  # the indexes' initial lists and the policy's own handling, before counting starts
    before = _series(op, "remediator_kube_requests_total")
    started = time.monotonic()
    for i in range(DEPLOYMENTS):
        ops.deployment(f"storm-{i}", REPLICAS, fail="crashloop")

    def all_counted() -> bool:
        ees = ops.items("errorevents")
        return len(ees) == DEPLOYMENTS and all(e["spec"].get("count") == REPLICAS for e in ees)

    wait_for(lambda: sum(_crashing(ops, f"storm-{i}") for i in range(DEPLOYMENTS)) == PODS, 90, "100 crashing Pods")
    wait_for(lambda: len(ops.items("remediations")) >= DEPLOYMENTS, 60, f"{DEPLOYMENTS} Remediations")
    wait_for(all_counted, 30, f"{DEPLOYMENTS} ErrorEvents counting {REPLICAS} Pods each")
    elapsed = time.monotonic() - started
    after = _series(op, "remediator_kube_requests_total")
    sent = after - before
    total = sum(sent.values())
    print(
        f"storm: {PODS} failing Pods over {DEPLOYMENTS} Deployments in {elapsed:.1f} s: {total:.0f} requests, "
        f"{total / PODS:.2f} per failing Pod; by verb and resource: "
        + ", ".join(f"{k} {v:.0f}" for k, v in sent.most_common())
    )
    holds_for(lambda: len(ops.items("errorevents")) == DEPLOYMENTS, 2, f"{DEPLOYMENTS} ErrorEvents, no more")
    rems = ops.items("remediations")
    targets = Counter(r["spec"]["target"]["name"] for r in rems)
    check(len(rems) == DEPLOYMENTS and set(targets.values()) == {1}, f"Remediations per workload: {targets}")
    counts = {e["spec"]["target"]["name"]: e["spec"]["count"] for e in ops.items("errorevents")}
    check(set(counts.values()) == {REPLICAS}, f"counts {counts}")
    check(total / PODS <= 2, f"{total / PODS:.2f} requests per failing Pod (at most 2): {dict(sent)}")
    # Intake and triage read nothing of these: the caches answer.
    misses = _series(op, "remediator_cache_misses_total")
    check(not any(misses.values()), f"cache misses in the storm: {dict(misses)}")
    check(sent['resource="replicasets",verb="get"'] == 0, f"ReplicaSets read with a GET: {dict(sent)}")
    check(sent['resource="namespaces",verb="get"'] == 0, f"namespaces read with a GET: {dict(sent)}")
    errors = _series(op, "remediator_api_errors_total")
    check(not errors or not any(errors.values()), f"API errors counted: {dict(errors)}")


def test_a_namespace_opt_out_takes_effect_through_the_cache(
    run_operator: OperatorFactory, ops: Ops, namespace: str, cluster: Cluster
) -> None:
    ops.policy(**PROPOSALS_ONLY)
    op = run_operator(namespace)
    cluster.kubectl("label", "namespace", namespace, "remediator.dev/ignore=true")
    time.sleep(1)  # the namespace watch delivers the label to the index
    misses = _series(op, "remediator_cache_misses_total")
    gets = _series(op, "remediator_kube_requests_total")['resource="namespaces",verb="get"']
    ops.deployment("quiet", 2, fail="crashloop")
    wait_for(lambda: _crashing(ops, "quiet") == 2, 60, "2 crashing Pods")
    holds_for(lambda: not ops.items("errorevents"), 3, "no ErrorEvent in an opted-out namespace")
    now = _series(op, "remediator_kube_requests_total")['resource="namespaces",verb="get"']
    check(now == gets, f"the opt-out was read with a GET ({gets} -> {now}), not from the cache")

    cluster.kubectl("label", "namespace", namespace, "remediator.dev/ignore-")
    time.sleep(1)
    ops.deployment("loud", 1, fail="crashloop")
    ee = wait_for(lambda: ops.items("errorevents"), 30, "an ErrorEvent once the opt-out is gone")
    check(ee[0]["spec"]["target"]["name"] == "loud", ee[0]["spec"])
    after = _series(op, "remediator_cache_misses_total")
    check(after['resource="namespaces"'] == misses['resource="namespaces"'], f"namespace misses {misses} -> {after}")


def test_what_the_caches_cannot_answer_is_read_with_a_get(
    run_operator: OperatorFactory, ops: Ops, namespace: str
) -> None:
    # A Pod whose controller is a ReplicaSet no watch knows (the garbage collector cannot resolve its API
    # group, so it leaves the Pod alone): the view reads it with a GET, finds nothing, and the Pod is its own target.
    ops.policy(**PROPOSALS_ONLY)
    op = run_operator(namespace)
    misses = _series(op, "remediator_cache_misses_total")['resource="replicasets"']
    gets = _series(op, "remediator_kube_requests_total")['resource="replicasets",verb="get"']
    owner = client.V1OwnerReference(
        api_version="unknown.example/v1", kind="ReplicaSet", name="ghost-abc", uid=str(uuid.uuid4()), controller=True
    )
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(
            name="ghost-abc-1",
            owner_references=[owner],
            annotations={"sim.remediator.dev/fail": "crashloop"},
        ),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="registry.example/app:1.0")]),
    )
    ops.core.create_namespaced_pod(namespace, pod)
    ee = wait_for(lambda: ops.items("errorevents"), 30, "an ErrorEvent for the Pod")
    check(ee[0]["spec"]["target"]["kind"] == "Pod" and ee[0]["spec"]["target"]["name"] == "ghost-abc-1", ee[0]["spec"])
    check(_series(op, "remediator_cache_misses_total")['resource="replicasets"'] == misses + 1, "one miss counted")
    sent = _series(op, "remediator_kube_requests_total")['resource="replicasets",verb="get"']
    check(sent == gets + 1, f"GETs of replicasets {gets} -> {sent}")
