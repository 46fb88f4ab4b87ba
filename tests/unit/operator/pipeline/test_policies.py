"""PolicySource from the watch's index: no request in a watched namespace, a GET elsewhere, same merge rules."""

from __future__ import annotations

from typing import Any

from remediator import api
from remediator.pipeline.policies import CLUSTER_DEFAULT_NAME, PolicySource
from remediator.settings import Settings
from tests.unit.operator.pipeline.fake_kube import FakeKube


def _source(index: dict[str, list[tuple[str, dict[str, Any]]]], **settings: Any) -> tuple[FakeKube, PolicySource]:
    kube = FakeKube()
    source = PolicySource(kube, Settings(policy_namespace="ops", **settings), ttl=0.0)  # type: ignore[arg-type]
    source.bind(index)
    return kube, source


def test_policies_of_watched_namespaces_come_from_the_index_without_a_request() -> None:
    kube, source = _source(
        {
            "ops": [(CLUSTER_DEFAULT_NAME, {"autoApplyThreshold": 0.5})],
            "shop": [("tight", {"autoApplyThreshold": 0.95})],
        }
    )
    assert source.for_namespace("shop").auto_apply_threshold == 0.95
    assert source.for_namespace("ops").auto_apply_threshold == 0.5  # the default is not "ops"'s own policy
    assert source.for_namespace("empty").auto_apply_threshold == 0.5
    assert not kube.requests


def test_a_namespace_policy_from_the_index_may_only_tighten() -> None:
    # A namespace's own user cannot make the operator bolder there than the cluster default allows.
    _, source = _source(
        {"ops": [(CLUSTER_DEFAULT_NAME, {"autoApplyThreshold": 0.8})], "shop": [("loose", {"autoApplyThreshold": 0.0})]}
    )
    assert source.for_namespace("shop").auto_apply_threshold == 0.8


def test_a_namespace_the_operator_does_not_watch_is_read_with_get_and_list() -> None:
    kube, source = _source({"shop": []}, namespaces=["shop"])  # the policy namespace "ops" is not watched
    kube.put_cr(
        api.POLICIES,
        {"metadata": {"name": CLUSTER_DEFAULT_NAME, "namespace": "ops"}, "spec": {"autoApplyThreshold": 0.7}},
    )
    assert source.for_namespace("shop").auto_apply_threshold == 0.7
    assert kube.requests["get_cr"] == 1
