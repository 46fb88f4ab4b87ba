"""`helm template` with sharding.shards (no cluster): 1 renders the one Deployment of before; n renders one
Deployment and one PodDisruptionBudget per shard, whose selectors never overlap, each telling its operator its
shard; the Service and NetworkPolicy still select every shard."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.helm import helm_template, rendered_objects

SHARD_ENV = ("REMEDIATOR_SHARD_INDEX", "REMEDIATOR_SHARD_COUNT")


def _of(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _env(dep: dict[str, Any]) -> dict[str, Any]:
    [container] = dep["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_one_shard_renders_exactly_the_chart_without_sharding() -> None:
    default = helm_template().stdout
    assert helm_template("sharding.shards=1").stdout == default
    objects = rendered_objects()
    [dep] = _of(objects, "Deployment")
    assert dep["metadata"]["name"] == "kr-kube-remediator"
    assert not set(SHARD_ENV) & set(_env(dep))
    assert "remediator.dev/shard" not in dep["spec"]["selector"]["matchLabels"]
    [pdb] = _of(objects, "PodDisruptionBudget")
    assert pdb["metadata"]["name"] == "kr-kube-remediator"
    assert "remediator.dev/shard" not in str(default)


def test_each_shard_is_a_deployment_of_its_own_that_knows_its_shard() -> None:
    objects = rendered_objects("sharding.shards=3")
    deps = {d["metadata"]["name"]: d for d in _of(objects, "Deployment")}
    assert set(deps) == {f"kr-kube-remediator-shard-{i}" for i in range(3)}
    for i in range(3):
        dep = deps[f"kr-kube-remediator-shard-{i}"]
        env = _env(dep)
        assert (env["REMEDIATOR_SHARD_INDEX"], env["REMEDIATOR_SHARD_COUNT"]) == (str(i), "3")
        assert env["REMEDIATOR_PEERING"] == "kube-remediator"  # the operator adds -shard-i-of-n itself
        assert dep["spec"]["replicas"] == 2  # each shard has its standby
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        assert _selects(dep["spec"]["selector"]["matchLabels"], pod_labels)
        for other in deps.values():  # no Deployment's selector takes another shard's Pods
            if other is not dep:
                assert not _selects(other["spec"]["selector"]["matchLabels"], pod_labels)
        for spread in dep["spec"]["template"]["spec"].get("topologySpreadConstraints") or []:
            assert spread["labelSelector"]["matchLabels"]["remediator.dev/shard"] == str(i)
    pdbs = _of(objects, "PodDisruptionBudget")
    assert len(pdbs) == 3
    for dep in deps.values():  # one budget per shard: a disruption cannot take all replicas of one shard
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert sum(_selects(p["spec"]["selector"]["matchLabels"], labels) for p in pdbs) == 1
    [service] = [s for s in _of(objects, "Service") if s["metadata"]["name"] == "kr-kube-remediator-metrics"]
    pod_labels_of_all = [d["spec"]["template"]["metadata"]["labels"] for d in deps.values()]
    assert all(_selects(service["spec"]["selector"], labels) for labels in pod_labels_of_all)
    [policy] = [p for p in _of(objects, "NetworkPolicy") if p["metadata"]["name"] == "kr-kube-remediator"]
    assert all(_selects(policy["spec"]["podSelector"]["matchLabels"], labels) for labels in pod_labels_of_all)


@pytest.mark.parametrize("bad", ["sharding.shards=0", "sharding.shards=two", "sharding.shard=2", "sharding.shards=65"])
def test_the_schema_refuses_bad_sharding_values(bad: str) -> None:
    assert helm_template(bad, check=False).returncode != 0


def test_prometheus_keeps_the_shard_of_each_pod_so_the_alerts_ask_per_shard() -> None:
    [one] = _of(rendered_objects("metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
    assert "podTargetLabels" not in one["spec"]
    [two] = _of(rendered_objects("metrics.serviceMonitor.enabled=true", "sharding.shards=2"), "ServiceMonitor")
    assert two["spec"]["podTargetLabels"] == ["remediator.dev/shard"]
