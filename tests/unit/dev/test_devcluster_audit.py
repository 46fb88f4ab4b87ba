"""The audit-log reader: requests, counts and timelines from kube-apiserver's JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from remediator_dev.devcluster import audit
from remediator_dev.devcluster.cluster import DevCluster


def _event(verb: str, resource: str, start: str, end: str, *, sub: str = "", code: int = 200, user: str = "op",
           stage: str = "ResponseComplete", name: str = "x") -> str:  # fmt: skip
    ref = {"resource": resource, "namespace": "ns", "name": name}
    if sub:
        ref["subresource"] = sub
    return json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "stage": stage, "verb": verb,
        "requestURI": f"/api/v1/namespaces/ns/{resource}/{name}", "user": {"username": user},
        "userAgent": "kopf/1", "objectRef": ref, "responseStatus": {"code": code},
        "requestReceivedTimestamp": f"2026-12-02T10:00:{start}Z", "stageTimestamp": f"2026-12-02T10:00:{end}Z",
    })  # fmt: skip


def test_a_request_carries_its_server_times_and_subresource() -> None:
    (req,) = audit.parse_lines([_event("get", "pods", "01.000000", "01.004500", sub="log", code=400)])
    assert req.key == "get pods/log"
    assert req.code == 400
    assert abs(req.seconds - 0.0045) < 1e-9
    assert req.received == datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)


def test_other_stages_blank_and_truncated_lines_are_skipped() -> None:
    lines = [
        _event("get", "pods", "01.0", "01.1", stage="RequestReceived"),
        "",
        _event("get", "pods", "01.0", "01.1")[:40],
        _event("list", "remediations", "02.0", "02.5"),
    ]
    assert [r.key for r in audit.parse_lines(lines)] == ["list remediations"]


def test_counts_errors_and_window_by_user() -> None:
    lines = [
        _event("create", "errorevents", "01.0", "01.1", code=409),
        _event("create", "errorevents", "01.2", "01.3"),
        _event("get", "pods", "01.4", "01.5", user="bench"),
        _event("patch", "remediations", "05.0", "05.1", code=422),
    ]
    reqs = audit.parse_lines(lines)
    ops = audit.by_user(reqs, "op")
    assert audit.counts(ops) == {"create errorevents": 2, "patch remediations": 1}
    assert audit.error_counts(ops) == {"create errorevents 409": 1, "patch remediations 422": 1}
    start, end = datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC), datetime(2026, 12, 2, 10, 0, 2, tzinfo=UTC)
    assert [r.key for r in audit.between(ops, start, end)] == ["create errorevents", "create errorevents"]


def test_busy_time_counts_overlapping_requests_once() -> None:
    reqs = list(
        audit.parse_lines([
            _event("get", "a", "01.0", "01.2"),
            _event("get", "b", "01.1", "01.3"),  # overlaps the first: 01.0-01.3
            _event("get", "c", "02.0", "02.1"),
        ])
    )  # fmt: skip
    assert abs(audit.busy_seconds(reqs) - 0.4) < 1e-9
    steps = audit.timeline(reqs, datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC))
    assert [(s.key, round(s.start_ms), round(s.took_ms)) for s in steps] == [
        ("get a", 0, 200), ("get b", 100, 200), ("get c", 1000, 100)
    ]  # fmt: skip


def test_read_parses_a_file(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text(_event("get", "pods", "01.0", "01.1") + "\n" + _event("list", "pods", "01.0", "01.1") + "\n")
    assert audit.counts(audit.read(log)) == {"get pods": 1, "list pods": 1}


def test_the_policy_keeps_one_line_per_request_and_drops_watches(tmp_path: Path) -> None:
    dev = DevCluster(tmp_path / "c", audit_log=tmp_path / "audit.log")
    dev.dir.mkdir(parents=True)
    flags = dev._audit_flags()
    assert f"--audit-log-path={tmp_path / 'audit.log'}" in flags
    policy = yaml.safe_load((dev.dir / "audit-policy.yaml").read_text())
    assert "ResponseComplete" not in policy["omitStages"]
    assert {"RequestReceived", "ResponseStarted"} <= set(policy["omitStages"])
    assert {"level": "None", "verbs": ["watch"]} in policy["rules"]
    assert policy["rules"][-1] == {"level": "Metadata"}
    assert DevCluster(tmp_path / "d")._audit_flags() == []
