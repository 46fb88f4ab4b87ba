"""The Alertmanager webhook -> ErrorEvent mapping, on payloads shaped as Alertmanager sends them for the
kube-prometheus rules (tests/fixtures/alertmanager/*.json)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from remediator.domain import alertmanager as am

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "alertmanager"


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / name).read_text()))


def mapped(name: str) -> am.WebhookResult:
    body = payload(name)
    return am.map_webhook(body["alerts"])


def test_crashlooping_pod_alert_becomes_an_errorevent_for_the_pod() -> None:
    result = mapped("crashlooping.json")
    assert len(result.events) == 1 and not result.ignored and not result.resolved
    ev = result.events[0]
    assert ev.namespace == "shop"
    assert ev.spec["target"] == {
        "kind": "Pod",
        "name": "web-7d9c6b5f4-x2kqp",
        "podName": "web-7d9c6b5f4-x2kqp",
        "containerName": "web",
    }
    assert ev.spec["source"] == "alert"
    assert ev.spec["reason"] == "CrashLoopBackOff"  # the metric's reason label, not the alert name
    assert ev.spec["message"].startswith("Pod shop/web-7d9c6b5f4-x2kqp (web) is in waiting state")
    assert ev.spec["firstSeen"] == ev.spec["lastSeen"] == "2026-12-02T01:14:25.319Z"
    ctx = ev.spec["context"]
    assert ctx["alertname"] == "KubePodCrashLooping" and ctx["severity"] == "warning"
    assert ctx["alertmanager/fingerprint"] == "8c1e2b7f0a9d4e61"
    assert "namespace" not in ctx and "pod" not in ctx
    assert ev.name.startswith("alert-kubepodcrashlooping-")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", ev.name) and len(ev.name) <= 63


def test_a_batch_maps_each_alert_and_records_the_resolved_one() -> None:
    result = mapped("notready_and_mismatch.json")
    kinds = {(e.spec["target"]["kind"], e.spec["target"]["name"]) for e in result.events}
    assert kinds == {("Pod", "cart-0"), ("Deployment", "checkout")}
    deploy = next(e for e in result.events if e.spec["target"]["kind"] == "Deployment")
    # ksm's own container label on a workload-level alert is not the failing container
    assert "containerName" not in deploy.spec["target"] and "podName" not in deploy.spec["target"]
    assert deploy.spec["reason"] == "KubeDeploymentReplicasMismatch"
    notready = next(e for e in result.events if e.spec["target"]["kind"] == "Pod")
    assert notready.spec["reason"] == "KubePodNotReady"
    assert [r.alertname for r in result.resolved] == ["KubeStatefulSetReplicasMismatch"]
    assert result.resolved[0].namespace == "shop"


def test_alerts_without_a_workload_are_ignored_with_a_reason() -> None:
    result = mapped("no_workload.json")
    assert result.events == []
    assert {(i.alertname, i.reason) for i in result.ignored} == {
        ("KubeCPUOvercommit", am.IGNORED_NO_NAMESPACE),
        ("KubeQuotaAlmostFull", am.IGNORED_NO_WORKLOAD),
        ("Watchdog", am.IGNORED_NO_NAMESPACE),
    }


def test_a_repeat_of_the_same_firing_has_the_same_name_a_new_firing_another() -> None:
    alert = payload("crashlooping.json")["alerts"][0]
    first = am.map_alert(alert)
    repeat = am.map_alert(copy.deepcopy(alert))
    later = am.map_alert({**alert, "startsAt": "2026-12-02T03:00:00Z"})
    other = am.map_alert({**alert, "fingerprint": "0000000000000001"})
    assert isinstance(first, am.AlertEvent) and isinstance(repeat, am.AlertEvent)
    assert isinstance(later, am.AlertEvent) and isinstance(other, am.AlertEvent)
    assert first.name == repeat.name
    assert len({first.name, later.name, other.name}) == 3
    # one webhook call naming the same firing twice asks for one ErrorEvent
    assert len(am.map_webhook([alert, alert]).events) == 1


def test_fingerprint_falls_back_to_the_labels() -> None:
    alert = payload("crashlooping.json")["alerts"][0]
    no_fp = {k: v for k, v in alert.items() if k != "fingerprint"}
    a, b = am.map_alert(no_fp), am.map_alert(copy.deepcopy(no_fp))
    assert isinstance(a, am.AlertEvent) and isinstance(b, am.AlertEvent)
    assert a.fingerprint == b.fingerprint and re.fullmatch(r"[0-9a-f]{16}", a.fingerprint)
    forged = am.map_alert({**no_fp, "fingerprint": "../../etc"})  # not hex: not used
    assert isinstance(forged, am.AlertEvent) and forged.fingerprint == a.fingerprint


def test_the_controller_label_wins_over_the_pod() -> None:
    alert = {
        "status": "firing",
        "labels": {"alertname": "X", "namespace": "ns", "pod": "p-1", "statefulset": "db"},
        "annotations": {},
        "startsAt": "2026-12-02T00:00:00Z",
        "fingerprint": "ab",
    }
    ev = am.map_alert(alert)
    assert isinstance(ev, am.AlertEvent)
    assert ev.spec["target"] == {"kind": "StatefulSet", "name": "db", "podName": "p-1"}
    assert ev.spec["message"] == "X is firing for StatefulSet ns/db"


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"namespace": "Shop", "deployment": "web"}, am.IGNORED_BAD_NAME),
        ({"namespace": "shop", "deployment": "web/../../x"}, am.IGNORED_BAD_NAME),
        ({"namespace": "a" * 64, "deployment": "web"}, am.IGNORED_BAD_NAME),
        ({"namespace": "shop", "deployment": ""}, am.IGNORED_NO_WORKLOAD),
    ],
)
def test_names_that_kubernetes_would_refuse_are_ignored(labels: dict[str, str], reason: str) -> None:
    result = am.map_alert({"status": "firing", "labels": {"alertname": "X", **labels}, "fingerprint": "ab"})
    assert result == am.Ignored("X", reason)


def test_unknown_status_is_ignored() -> None:
    assert am.map_alert({"status": "pending", "labels": {"namespace": "a", "pod": "b"}}) == am.Ignored(
        "unnamed", am.IGNORED_BAD_STATUS
    )


def test_everything_is_cut_to_the_crd_limits() -> None:
    labels = {
        "alertname": "Y" * 300,
        "namespace": "shop",
        "deployment": "web",
        "reason": "r" * 500,
        **{f"label{i:02d}": "v" * 1000 for i in range(60)},
        "k" * 100: "x",
    }
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"description": "d" * 10_000},
        "startsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "cd",
    }
    ev = am.map_alert(alert)
    assert isinstance(ev, am.AlertEvent)
    assert len(ev.spec["message"]) == 4096 and len(ev.spec["reason"]) == 128
    ctx = ev.spec["context"]
    assert len(ctx) <= 32 and all(len(k) <= 63 and len(v) <= 256 for k, v in ctx.items())
    assert "firstSeen" not in ev.spec  # Alertmanager's zero time is no time
    assert len(ev.name) <= 63


def test_exported_labels_name_the_object_not_the_scraped_exporter() -> None:
    # kube-state-metrics scraped without honor_labels: its own namespace/pod/container are the plain labels
    labels = {"alertname": "KubePodCrashLooping", "namespace": "monitoring", "pod": "kube-state-metrics-0",
              "container": "kube-state-metrics", "exported_namespace": "shop", "exported_pod": "web-1",
              "exported_container": "web", "reason": "CrashLoopBackOff"}  # fmt: skip
    ev = am.map_alert({"status": "firing", "labels": labels, "fingerprint": "ab", "startsAt": "2026-12-02T00:00:00Z"})
    assert isinstance(ev, am.AlertEvent)
    assert ev.namespace == "shop"
    assert ev.spec["target"] == {"kind": "Pod", "name": "web-1", "podName": "web-1", "containerName": "web"}
    assert not any(k.startswith("exported_") for k in ev.spec["context"])
