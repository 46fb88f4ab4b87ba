"""Intake from caches: a failing Pod costs no read when the caches know its owner chain and its incident."""

from __future__ import annotations

from typing import Any

from remediator import api, metrics
from remediator.domain import clock
from remediator.domain import cluster_facts as facts
from remediator.pipeline.cluster_view import Caches, ClusterView
from remediator.pipeline.counts import Counts
from remediator.pipeline.intake import Intake
from remediator.pipeline.policies import PolicySource
from remediator.settings import Settings
from tests.unit.operator.pipeline.fake_kube import FakeKube

NS = "shop"
IGNORE = {"remediator.dev/ignore": "true"}


def _deployment(name: str, ns: str = NS, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": f"u-{name}", "annotations": annotations or {}},
    }


def _replicaset(name: str, deployment: str, ns: str = NS) -> dict[str, Any]:
    owner = {"kind": "Deployment", "name": deployment, "controller": True, "uid": f"u-{deployment}"}
    return {
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": ns, "uid": f"u-{name}", "ownerReferences": [owner]},
    }


def _crashing_pod(name: str, replicaset: str, ns: str = NS) -> dict[str, Any]:
    now = clock.format_time(clock.now())
    return {
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"u-{name}",
            "ownerReferences": [{"kind": "ReplicaSet", "name": replicaset, "controller": True}],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "app",
                    "restartCount": 4,
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now}},
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                }
            ],
        },
    }


class World:
    """The fake API plus kopf-like indexes filled from it (what the watch would have delivered)."""

    def __init__(self) -> None:
        self.kube = FakeKube()
        self.namespaces: dict[Any, list[Any]] = {}
        self.replicasets: dict[Any, list[Any]] = {}
        self.deployments: dict[Any, list[Any]] = {}
        self.errorevents: dict[Any, list[Any]] = {}
        caches = Caches(self.namespaces, self.replicasets, {"Deployment": self.deployments}, self.errorevents)  # type: ignore[arg-type]
        self.view = ClusterView(self.kube, caches)  # type: ignore[arg-type]
        self.counts = Counts(self.kube, self.view)  # type: ignore[arg-type]
        self.intake = Intake(self.kube, PolicySource(None, Settings()), Settings(), self.view, self.counts)  # type: ignore[arg-type]

    def namespace(self, name: str, labels: dict[str, str] | None = None, cached: bool = True) -> None:
        obj = {"kind": "Namespace", "metadata": {"name": name, "namespace": "", "labels": labels or {}}}
        self.kube.add(obj)
        if cached:
            self.namespaces[name] = [facts.namespace_entry(obj)]

    def workload(self, name: str, ns: str = NS, cached: bool = True, **kw: Any) -> None:
        dep, rs = self.kube.add(_deployment(name, ns, **kw)), self.kube.add(_replicaset(f"{name}-abc", name, ns))
        if cached:
            self.deployments[(ns, name)] = [facts.workload_entry(dep, "Deployment")]
            self.replicasets[(ns, f"{name}-abc")] = [facts.replicaset_entry(rs)]

    def errorevents_now(self) -> list[dict[str, Any]]:
        return [o for (p, _, _), o in self.kube.objects.items() if p == api.ERROREVENTS]


def _misses(resource: str) -> float:
    return metrics.CACHE_MISSES.labels(resource=resource)._value.get()


def test_ten_failing_pods_of_one_deployment_cost_a_create_a_log_and_one_count_patch() -> None:
    w = World()
    w.namespace(NS)
    w.workload("web")
    for i in range(10):
        w.intake.on_pod(_crashing_pod(f"web-abc-{i}", "web-abc"))
    w.counts.flush()
    (ee,) = w.errorevents_now()
    assert ee["spec"]["count"] == 10 and ee["spec"]["target"]["name"] == "web"
    assert ee["spec"]["logs"] == "panic: boom"
    assert ee["metadata"]["ownerReferences"][0]["uid"] == "u-web"
    assert dict(w.kube.requests) == {"create": 1, "logs": 1, "patch": 1}  # no GET at all


def test_a_cache_miss_falls_back_to_a_get_and_is_counted() -> None:
    w = World()
    w.namespace(NS, cached=False)
    w.workload("web", cached=False)
    before = {r: _misses(r) for r in ("namespaces", "replicasets", "deployments")}
    assert w.intake.on_pod(_crashing_pod("web-abc-0", "web-abc"))
    assert w.kube.requests["get Namespace"] == 1 and w.kube.requests["get ReplicaSet"] == 1
    assert w.kube.requests["get Deployment"] == 1
    assert all(_misses(r) == before[r] + 1 for r in before)
    assert w.errorevents_now()[0]["spec"]["target"] == {**w.errorevents_now()[0]["spec"]["target"], "name": "web"}


def test_a_namespace_opted_out_in_the_cache_gets_no_errorevent_and_costs_nothing() -> None:
    w = World()
    w.namespace(NS, labels=IGNORE)
    w.workload("web")
    assert w.intake.on_pod(_crashing_pod("web-abc-0", "web-abc")) == []
    assert not w.errorevents_now() and not w.kube.requests


def test_a_workload_opted_out_in_the_cache_gets_no_errorevent() -> None:
    w = World()
    w.namespace(NS)
    w.workload("web", annotations=IGNORE)
    assert w.intake.on_pod(_crashing_pod("web-abc-0", "web-abc")) == []
    assert not w.errorevents_now()


def test_a_replicaset_of_the_same_name_in_another_namespace_never_redirects_a_pod() -> None:
    # A user who may create objects in their own namespace cannot make a Pod elsewhere count against (and be
    # remediated as) their workload: cache entries are keyed by namespace and name.
    w = World()
    w.namespace(NS)
    w.namespace("mine")
    w.workload("victim", ns="mine")  # ReplicaSet victim-abc in "mine" -> Deployment victim
    w.kube.add(_replicaset("victim-abc", "other", ns=NS))  # in shop the RS of that name belongs to "other"
    w.kube.add(_deployment("other"))
    assert w.intake.on_pod(_crashing_pod("p", "victim-abc", ns=NS))
    (ee,) = w.errorevents_now()
    assert ee["metadata"]["namespace"] == NS and ee["spec"]["target"]["name"] == "other"


def test_a_status_family_warning_event_reads_nothing_the_pod_watch_reports_it() -> None:
    w = World()
    event = {
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container app in pod web-abc-0",
        "involvedObject": {"kind": "Pod", "name": "web-abc-0", "namespace": NS},
        "metadata": {"namespace": NS, "name": "web-abc-0.1"},
    }
    assert w.intake.on_event(event) is None
    assert not w.kube.requests


def test_an_errorevent_the_cache_missed_is_read_after_the_409_and_counted() -> None:
    w = World()
    w.namespace(NS)
    w.workload("web")
    first = World()  # another replica, or this one before a restart, created it
    first.namespace(NS)
    first.workload("web")
    first.intake.on_pod(_crashing_pod("web-abc-0", "web-abc"))
    w.kube.objects.update({k: v for k, v in first.kube.objects.items() if k[0] == api.ERROREVENTS})
    w.intake.on_pod(_crashing_pod("web-abc-1", "web-abc"))
    w.intake.on_pod(_crashing_pod("web-abc-2", "web-abc"))  # known since the read: no second create
    w.counts.flush()
    assert w.errorevents_now()[0]["spec"]["count"] == 3
    assert w.kube.requests["create"] == 1 and w.kube.requests["get_cr"] == 1


def _settle_long_ago(w: World) -> dict[str, Any]:
    (ee,) = w.errorevents_now()
    ee["spec"]["lastSeen"] = "2020-01-01T00:00:00Z"
    ee["status"] = {"phase": "Resolved"}
    w.errorevents[(NS, ee["metadata"]["name"])] = [facts.errorevent_entry(ee)]
    return ee


def test_a_failure_long_after_a_settled_errorevent_makes_a_fresh_one() -> None:
    w = World()
    w.namespace(NS)
    w.workload("web")
    w.intake.on_pod(_crashing_pod("web-abc-0", "web-abc"))
    old = _settle_long_ago(w)
    old["metadata"]["uid"] = "u-old"
    w.errorevents[(NS, old["metadata"]["name"])] = [facts.errorevent_entry(old)]
    w.intake.on_pod(_crashing_pod("web-abc-1", "web-abc"))
    (fresh,) = w.errorevents_now()
    assert fresh["spec"]["count"] == 1 and fresh["spec"]["target"]["podName"] == "web-abc-1"
    assert "status" not in fresh and fresh["metadata"]["uid"] != "u-old"  # a new object, classified anew
    assert w.kube.requests["delete"] == 1 and w.kube.requests["create"] == 2


def test_a_settled_errorevent_still_terminating_is_deleted_once_not_in_a_loop() -> None:
    w = World()
    w.namespace(NS)
    w.workload("web")
    w.intake.on_pod(_crashing_pod("web-abc-0", "web-abc"))
    _settle_long_ago(w)
    w.kube.delete_cr = lambda *args: None  # type: ignore[method-assign]  # a finalizer holds it
    assert w.intake.on_pod(_crashing_pod("web-abc-1", "web-abc")) == []
    assert w.kube.requests["create"] == 2 and w.kube.requests["get_cr"] == 1
