"""A workload's Remediations are read with a field selector on spec.target (the CRD's selectableFields), so
the real API server answers with that workload's only: the read does not grow with the namespace's history."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.adapters.kube import Kube
from remediator.domain.types import WorkloadRef
from tests.fixtures.cluster import Cluster
from tests.fixtures.operator import Ops

pytestmark = pytest.mark.integration


class RecordingKube(Kube):
    """The adapter, keeping the size of each answer the API server sent for a LIST of Remediations."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster.kube_api)
        self.answered: list[int] = []
        json = self.api.json

        def recording(method: str, path: str, **kwargs: Any) -> Any:
            result = json(method, path, **kwargs)
            if path.endswith("/remediations") and method == "GET":
                self.answered.append(len(result.get("items", [])))
            return result

        self.api.json = recording  # type: ignore[method-assign]


def test_the_api_server_answers_with_the_workloads_remediations_only(
    cluster: Cluster, ops: Ops, namespace: str
) -> None:
    for i in range(30):  # other workloads' history in the same namespace
        ops.remediation(f"other-{i}", f"api-{i}", "notify")
    ops.remediation("web-1", "web", "restart_pod")
    ops.remediation("web-2", "web", "notify")
    ops.remediation("web-sts", "web", "restart_pod", kind="StatefulSet")  # same name, another kind
    kube = RecordingKube(cluster)

    names = sorted(r["metadata"]["name"] for r in kube.remediations_for(WorkloadRef("Deployment", "web", namespace)))
    assert names == ["web-1", "web-2"]
    assert kube.answered == [2]  # selected by the server, not filtered here after a LIST of 33
    assert kube._target_selectable

    # A name that tries to add a selector term is one value: it matches nothing, and the selector is not refused.
    sly = WorkloadRef("Deployment", "web,spec.target.kind=Deployment", namespace)
    assert kube.remediations_for(sly) == []
    assert kube.answered[-1] == 0 and kube._target_selectable
