"""300 ErrorEvents at once, all claims the Pods corroborate: no limit is exceeded, at any moment.

Limits under test: clusterPerMinute 10 (cluster default), maxInFlightPerNamespace 3 in one namespace (its own
RemediationPolicy tightens the cluster default's 20), and one active Remediation per workload. A sampler
watches in-flight counts while the burst is decided; afterwards every automatic Remediation's
[approvedAt, completedAt] interval is checked as well (the sampler can miss a short peak, the record cannot).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client

from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import GROUP, VERSION, OperatorFactory, Ops, check, wait_for

pytestmark = pytest.mark.integration

IN_FLIGHT = ("Approved", "Applying", "Verifying", "Undoing")
FINAL = ("Succeeded", "Failed", "Skipped", "Rejected", "Expired")
SETTLED = ("Classified", "Remediating", "Ignored", "Invalid")
EVENTS, WORKLOADS_PER_NAMESPACE = 300, 15
CLUSTER_PER_MINUTE, TIGHT_IN_FLIGHT = 10, 3


@pytest.fixture
def two_namespaces(cluster: Cluster) -> Iterator[tuple[str, str]]:
    core = client.CoreV1Api(cluster.api)
    names = (f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}")
    for name in names:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield names
    for name in names:
        core.delete_namespace(name)


def _time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals open at once; at equal times an end comes before a start (second resolution)."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    open_, most = 0, 0
    for _, step in points:
        open_ += step
        most = max(most, open_)
    return most


def _max_per_minute(starts: list[dt.datetime]) -> int:
    starts = sorted(starts)
    return max((sum(1 for t in starts[i:] if t - s < dt.timedelta(minutes=1)) for i, s in enumerate(starts)), default=0)


def test_a_burst_of_300_errorevents_never_exceeds_any_limit(
    run_operator: OperatorFactory, ops: Ops, namespace: str, cluster: Cluster, two_namespaces: tuple[str, str]
) -> None:
    tight, loose = two_namespaces
    ops.policy(
        autoApplyThreshold=0.0,
        verifyWindowSeconds=10,
        cooldownSeconds=0,
        maxCooldownSeconds=0,
        rateLimit={"clusterPerMinute": CLUSTER_PER_MINUTE, "perWorkloadPerHour": 3},
        blastRadius={"maxInFlightPerNamespace": 20},
    )
    cluster.kubectl(
        "apply",
        "-n",
        tight,
        "-f",
        "-",
        input=(
            '{"apiVersion": "remediator.dev/v1alpha1", "kind": "RemediationPolicy", "metadata": {"name": "tight"},'
            f' "spec": {{"blastRadius": {{"maxInFlightPerNamespace": {TIGHT_IN_FLIGHT}}}}}}}'
        ),
    )
    run_operator(namespace, tight, loose, env={"REMEDIATOR_WATCH_CLUSTER": "false"})
    spaces = {ns: Ops(cluster, ns) for ns in (tight, loose)}
    for space in spaces.values():
        for i in range(WORKLOADS_PER_NAMESPACE):
            space.deployment(f"w{i}", 1, fail="oom", memory="64Mi")
    wait_for(
        lambda: all(
            sum("OOMKilled" in str(p.get("status")) for p in s.pods(f"w{i}"))
            for s in spaces.values()
            for i in range(WORKLOADS_PER_NAMESPACE)
        ),
        90,
        "every workload OOMKilled",
    )

    custom = client.CustomObjectsApi(cluster.api)

    def ours() -> list[dict[str, Any]]:
        items = custom.list_cluster_custom_object(GROUP, VERSION, "remediations")["items"]
        return [r for r in items if r["metadata"]["namespace"] in spaces]

    peaks: Counter[str] = Counter()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            now = Counter(
                r["metadata"]["namespace"] for r in ours() if (r.get("status") or {}).get("phase") in IN_FLIGHT
            )
            for ns, count in now.items():
                peaks[ns] = max(peaks[ns], count)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def create(i: int) -> None:
        ns = (tight, loose)[i % 2]
        spaces[ns].errorevent(
            f"burst-{i}",
            {
                "target": {"kind": "Deployment", "name": f"w{(i // 2) % WORKLOADS_PER_NAMESPACE}"},
                "reason": "OOMKilled",
                "exitCode": 137,
                "source": "api",
                "message": "container app was OOMKilled (exit code 137): memory limit 64Mi exceeded",
            },
        )

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(EVENTS)))

        def settled() -> bool:
            phases = [(e.get("status") or {}).get("phase") for s in spaces.values() for e in s.items("errorevents")]
            return len(phases) == EVENTS and all(p in SETTLED for p in phases)

        wait_for(settled, 300, f"all {EVENTS} ErrorEvents decided", interval=1.0)
        wait_for(
            lambda: not any((r.get("status") or {}).get("phase") in IN_FLIGHT for r in ours()),
            180,
            "every automatic Remediation finished",
            interval=1.0,
        )
    finally:
        stop.set()
        sampler.join(5)

    rems = ours()
    auto = [r for r in rems if r["status"].get("approvedBy") == "policy"]
    starts = [_time(r["status"]["approvedAt"]) for r in auto]
    per_minute = _max_per_minute([s for s in starts if s])
    overlap = {
        ns: _max_overlap(
            [
                (_time(r["status"]["approvedAt"]), _time(r["status"]["completedAt"]))
                for r in auto
                if r["metadata"]["namespace"] == ns
            ]
        )
        for ns in spaces
    }
    active_per_workload: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for r in rems:
        status = r["status"]
        if status.get("approvedAt") and status.get("completedAt"):
            key = (r["metadata"]["namespace"], r["spec"]["target"]["name"])
            active_per_workload[key].append((_time(status["approvedAt"]), _time(status["completedAt"])))
    print(
        f"burst: {len(rems)} Remediations, {len(auto)} automatic; most started in one minute {per_minute}; "
        f"peak in flight sampled {dict(peaks)}, from the record {overlap}"
    )

    check(per_minute <= CLUSTER_PER_MINUTE, f"{per_minute} automatic changes in one minute (limit 10)")
    check(
        peaks[tight] <= TIGHT_IN_FLIGHT and overlap[tight] <= TIGHT_IN_FLIGHT,
        f"in flight in {tight}: sampled {peaks[tight]}, recorded {overlap[tight]} (limit {TIGHT_IN_FLIGHT})",
    )
    check(max(overlap.values()) <= 20 and peaks[loose] <= 20, f"in flight: {overlap}")
    worst = max(_max_overlap(v) for v in active_per_workload.values())
    check(worst <= 1, f"{worst} Remediations of one workload active at once")
    messages = " ".join(r["status"].get("message", "") for r in rems)
    check("cluster-wide in the last minute" in messages, "the cluster limit never bound: the test proves nothing")
    check(
        any(
            "in flight in namespace" in r["status"].get("message", "")
            for r in rems
            if r["metadata"]["namespace"] == tight
        ),
        "the in-flight limit never bound in the tight namespace",
    )
