"""detect.py: Pods and Events in, Failures out; fingerprints and ErrorEvent names."""

from __future__ import annotations

import re

from remediator.domain.detect import (
    errorevent_name,
    errorevent_spec,
    event_failure,
    fingerprint,
    pod_failures,
    workload_ref,
)
from remediator.domain.types import WorkloadRef
from tests.unit.domain.builders import (
    NS,
    T0,
    crashloop_status,
    event,
    pod,
    running_status,
    waiting_status,
)

WEB = WorkloadRef("Deployment", "web", NS)
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_crashloop_container_is_a_crash_failure_with_exit_code() -> None:
    p = pod("web-7d9f8c6b5-x2k4q", [crashloop_status(exit_code=2, message="panic: nil map")], ready=False)
    [f] = pod_failures(p)
    assert (f.kind_family, f.reason, f.exit_code, f.restart_count) == ("crash", "CrashLoopBackOff", 2, 5)
    assert f.container_name == "app"
    assert f.pod_owner == ("ReplicaSet", "web-7d9f8c6b5")
    assert "panic: nil map" in f.message


def test_oomkilled_crashloop_is_an_oom_failure() -> None:
    p = pod("web-a", [crashloop_status(exit_code=137, reason="OOMKilled")], ready=False)
    [f] = pod_failures(p)
    assert (f.kind_family, f.reason, f.exit_code) == ("oom", "OOMKilled", 137)


def test_image_and_config_waiting_reasons_map_to_their_families() -> None:
    cases = {
        "ImagePullBackOff": "image",
        "ErrImagePull": "image",
        "InvalidImageName": "image",
        "CreateContainerConfigError": "config",
        "CreateContainerError": "config",
        "RunContainerError": "crash",
    }
    for reason, family in cases.items():
        p = pod("web-b", [waiting_status(reason, "boom")], ready=False, phase="Pending")
        [f] = pod_failures(p)
        assert (f.reason, f.kind_family) == (reason, family)


def test_terminated_signal_is_kept() -> None:
    status = running_status(restarts=1)
    status["lastState"] = {
        "terminated": {"exitCode": 139, "signal": 11, "reason": "Error", "finishedAt": "2024-05-01T11:59:40Z"}
    }
    [f] = pod_failures(pod("web-c", [status]))
    assert (f.exit_code, f.signal, f.kind_family) == (139, 11, "crash")
    assert f.observed_at.isoformat() == "2024-05-01T11:59:40+00:00"


def test_old_termination_before_since_is_ignored() -> None:
    status = running_status(restarts=1)
    status["lastState"] = {
        "terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2024-05-01T10:00:00Z"}
    }
    assert pod_failures(pod("web-c", [status]), since=T0) == []
    assert [f.kind_family for f in pod_failures(pod("web-c", [status]))] == ["oom"]


def test_completed_init_container_is_not_a_failure_but_failing_one_is() -> None:
    ok = {
        "name": "migrate",
        "ready": True,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    assert pod_failures(pod("web-d", init_statuses=[ok])) == []
    bad = {
        "name": "migrate",
        "ready": False,
        "restartCount": 3,
        "state": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-01T11:59:00Z"}},
    }
    [f] = pod_failures(pod("web-d", init_statuses=[bad]))
    assert f.init_container and f.container_name == "migrate" and f.exit_code == 1


def test_not_ready_running_container_without_restarts_is_not_a_failure() -> None:
    assert pod_failures(pod("web-e", [running_status(ready=False)], ready=False)) == []


def test_evicted_pod_is_one_evicted_failure() -> None:
    p = pod(
        "web-f",
        [],
        phase="Failed",
        extra_status={"reason": "Evicted", "message": "The node was low on resource: memory."},
    )
    [f] = pod_failures(p)
    assert (f.kind_family, f.reason, f.container_name) == ("evicted", "Evicted", None)
    assert "low on resource" in f.message


def test_unschedulable_pod_is_detected() -> None:
    p = pod("web-g", [], ready=False, phase="Pending")
    p["status"]["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient memory.",
            "lastTransitionTime": "2024-05-01T11:30:00Z",
        }
    ]
    [f] = pod_failures(p)
    assert f.kind_family == "unschedulable" and "Insufficient memory" in f.message


def test_probe_event_is_a_probe_failure_with_container() -> None:
    f = event_failure(event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"))
    assert f is not None
    assert (f.kind_family, f.container_name, f.pod_name) == ("probe", "app", "web-7d9f8c6b5-x2k4q")
    assert f.observed_at == T0


def test_event_reasons_map_to_families() -> None:
    cases = [
        ("FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", "unschedulable"),
        ("BackOff", "Back-off restarting failed container app in pod web-1", "crash"),
        ("BackOff", 'Back-off pulling image "registry.example.com/shop/web:9.9"', "image"),
        ("Failed", "Error: ImagePullBackOff", "image"),
        ("Failed", "Error: couldn't find key DATABASE_URL in ConfigMap shop/app-config", "config"),
        ("Evicted", "The node was low on resource: ephemeral-storage.", "evicted"),
        ("OOMKilling", "Memory cgroup out of memory: Killed process 4242 (java)", "oom"),
    ]
    for reason, message, family in cases:
        f = event_failure(event(reason, message))
        assert f is not None and f.kind_family == family, (reason, message)


def test_normal_events_non_pod_objects_and_other_reasons_are_ignored() -> None:
    assert event_failure(event("Pulled", "Successfully pulled image", type_="Normal")) is None
    assert event_failure(event("BackOff", "Back-off restarting failed container", kind="Node")) is None
    assert event_failure(event("FailedMount", "MountVolume.SetUp failed")) is None


def test_fifty_pods_of_one_deployment_share_a_fingerprint() -> None:
    prints = set()
    for i in range(50):
        p = pod(
            f"web-7d9f8c6b5-{i:05d}", [crashloop_status(restarts=i + 1, exit_code=1 + i % 3)], ready=False
        )
        [f] = pod_failures(p)
        ref = workload_ref(f.namespace, f.pod_name, f.pod_owner, pod_template_hash="7d9f8c6b5")
        assert ref == WEB
        prints.add(fingerprint(f, ref))
    assert len(prints) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", prints.pop())


def test_fingerprint_differs_by_family_container_and_workload() -> None:
    [crash] = pod_failures(pod("web-1", [crashloop_status()], ready=False))
    [oom] = pod_failures(pod("web-1", [crashloop_status(exit_code=137, reason="OOMKilled")], ready=False))
    [side] = pod_failures(pod("web-1", [crashloop_status(name="sidecar")], ready=False))
    other = WorkloadRef("Deployment", "api", NS)
    prints = {
        fingerprint(crash, WEB),
        fingerprint(oom, WEB),
        fingerprint(side, WEB),
        fingerprint(crash, other),
    }
    assert len(prints) == 4


def test_replicaset_owner_reference_resolves_the_deployment() -> None:
    rs = {
        "metadata": {
            "name": "checkout-5f6d",
            "ownerReferences": [{"kind": "Deployment", "name": "checkout", "controller": True}],
        }
    }
    assert workload_ref(NS, "p", ("ReplicaSet", "checkout-5f6d"), rs) == WorkloadRef(
        "Deployment", "checkout", NS
    )
    assert workload_ref(NS, "p", ("StatefulSet", "db")) == WorkloadRef("StatefulSet", "db", NS)
    assert workload_ref(NS, "job-x", ("Job", "nightly")) == WorkloadRef("Pod", "job-x", NS)
    assert workload_ref(NS, "bare", None) == WorkloadRef("Pod", "bare", NS)


def test_errorevent_name_is_deterministic_dns1123_and_short() -> None:
    long_ref = WorkloadRef("Deployment", "a" * 60 + ".payments.v2", NS)
    name = errorevent_name(long_ref, "crash", "0123456789abcdef")
    assert name == errorevent_name(long_ref, "crash", "0123456789abcdef")
    assert len(name) <= 63 and DNS1123.match(name)
    assert name.endswith("-crash-01234567")
    assert errorevent_name(WEB, "oom", "fedcba9876543210") == "deployment-web-oom-fedcba98"


def test_errorevent_spec_matches_the_crd_shape() -> None:
    [f] = pod_failures(pod("web-7d9f8c6b5-x2k4q", [crashloop_status(exit_code=3)], ready=False), now=T0)
    spec = errorevent_spec(f, WEB, count=4)
    assert spec["target"] == {
        "kind": "Deployment",
        "name": "web",
        "podName": "web-7d9f8c6b5-x2k4q",
        "containerName": "app",
    }
    assert spec["exitCode"] == 3 and spec["count"] == 4 and spec["source"] == "cluster"
    assert spec["firstSeen"] == "2024-05-01T12:00:00Z"
    assert all(isinstance(v, str) for v in spec["context"].values())
