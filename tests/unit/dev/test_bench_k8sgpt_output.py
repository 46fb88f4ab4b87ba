"""k8sgpt's `analyze --output json` (v0.4.36, recorded by bench/compare/run.py) read into findings per workload."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator_dev.k8sgpt_output import parse

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "k8sgpt"


def test_a_recorded_output_gives_one_finding_per_object_with_namespace_split_from_the_name() -> None:
    analysis = parse((SAMPLES / "analyze_config.json").read_bytes())
    assert analysis.status == "ProblemDetected"
    assert analysis.problems == 4
    assert analysis.errors == ()  # recorded as "errors": null
    assert [(f.kind, f.namespace, f.name) for f in analysis.findings] == [
        ("Deployment", "compare-config", "app"),
        ("ConfigMap", "compare-config", "kube-root-ca.crt"),
        ("Pod", "compare-config", "app-6f4cf9bc95-wfj89"),
        ("Pod", "compare-config", "app-6f4cf9bc95-ztkgq"),
    ]
    pod = analysis.findings[2]
    assert pod.parent == "Deployment/app"
    assert pod.texts == ("couldn't find key DATABASE_URL in ConfigMap compare-config/app-config",)
    assert pod.details == ""  # no --explain, no AI backend


def test_findings_about_a_workload_are_its_own_object_and_its_pods_not_the_namespace_s_other_objects() -> None:
    analysis = parse((SAMPLES / "analyze_config.json").read_bytes())
    about = analysis.about("compare-config", "app")
    assert sorted(f.kind for f in about) == ["Deployment", "Pod", "Pod"]
    assert analysis.about("compare-config", "billing") == ()
    assert analysis.about("other-namespace", "app") == ()
    assert len(analysis.in_namespace("compare-config")) == 4


def test_an_unschedulable_pod_is_reported_with_the_scheduler_s_message() -> None:
    analysis = parse((SAMPLES / "analyze_unschedulable.json").read_bytes())
    pods = [f for f in analysis.about("compare-unschedulable", "app") if f.kind == "Pod"]
    assert len(pods) == 1
    assert "Insufficient cpu" in pods[0].texts[0]


def test_a_workload_whose_name_prefixes_another_is_not_confused_with_it() -> None:
    raw = (
        '{"status": "ProblemDetected", "problems": 2, "results": ['
        '{"kind": "Pod", "name": "ns/app-7d9f-x", "error": [{"Text": "a"}], "parentObject": "Deployment/app"},'
        '{"kind": "Pod", "name": "ns/appx-5c4b-y", "error": [{"Text": "b"}], "parentObject": "Deployment/appx"},'
        '{"kind": "Pod", "name": "ns/app-canary-6b8c-z", "error": [], "parentObject": "Deployment/app-canary"}'
        "]}"
    )
    assert [f.name for f in parse(raw).about("ns", "app")] == ["app-7d9f-x"]


def test_a_clean_namespace_and_a_cluster_scoped_result() -> None:
    assert parse('{"status": "OK", "problems": 0, "results": null}').findings == ()
    node = parse('{"results": [{"kind": "Node", "name": "node-1", "error": [{"Text": "x"}, {"Text": "y"}]}]}')
    assert node.findings[0].namespace == ""
    assert node.problems == 2  # no "problems" field: counted from the results


@pytest.mark.parametrize("raw", ["[]", "not json"])
def test_output_that_is_not_a_k8sgpt_document_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse(raw)
