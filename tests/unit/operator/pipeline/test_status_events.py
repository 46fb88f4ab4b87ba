"""StatusWriter.events: an Event on the Remediation and on its target; the target's uid comes from the
Remediation's owner reference (the operator's own Remediations carry one), else from a GET."""

from __future__ import annotations

from typing import Any

from remediator.domain.types import WorkloadRef
from remediator.pipeline.remediation.status import StatusWriter
from tests.unit.operator.pipeline.fake_kube import FakeKube


class EventKube(FakeKube):
    def __init__(self) -> None:
        super().__init__()
        self.gets: list[WorkloadRef] = []
        self.posted: list[dict[str, Any]] = []

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        self.gets.append(ref)
        return super().get(ref)

    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        self.posted.append(obj)


def remediation(owners: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"name": "r1", "namespace": "shop", "ownerReferences": owners},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": "notify"},
    }


def test_the_target_event_uses_the_owner_reference_without_a_get() -> None:
    kube = EventKube()
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u-web"}
    StatusWriter(kube).events(remediation([owner]), "NotifiedHuman", "look")  # type: ignore[arg-type]
    assert kube.gets == []
    target = kube.posted[1]
    assert (target["kind"], target["metadata"]["name"], target["metadata"]["uid"]) == ("Deployment", "web", "u-web")


def test_without_a_matching_owner_the_target_is_read() -> None:
    kube = EventKube()
    kube.add({"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "u-real"}})
    other = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "u-api"}  # not the target
    StatusWriter(kube).events(remediation([other]), "NotifiedHuman", "look")  # type: ignore[arg-type]
    assert kube.gets == [WorkloadRef("Deployment", "web", "shop")]
    assert kube.posted[1]["metadata"]["uid"] == "u-real"
