"""pipeline.handoff: intake's new ErrorEvents are triaged at once; the ErrorEvent's own handler takes that result,
and the two paths, racing, never make two Remediations."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from remediator import api
from remediator.pipeline.handoff import Handoff
from remediator.pipeline.policies import PolicySource
from remediator.pipeline.triage import Triage, TriageResult
from remediator.settings import Settings
from remediator_model.predict import ErrorInput, Prediction
from tests.unit.domain.builders import NS, deployment
from tests.unit.operator.helpers import errorevent
from tests.unit.operator.pipeline.fake_kube import FakeKube


class Model:
    def predict(self, e: ErrorInput) -> Prediction:
        return Prediction("app_crash", "restart_pod", 0.9, "oom", 0.05, "crash loop", model_version="test")


class SlowListKube(FakeKube):
    """Once armed, the namespace's Remediations are answered only when every caller of the round has read them
    (or 2 s passed), so two triages that are not serialised would both read an empty history."""

    def __init__(self, callers: int) -> None:
        super().__init__()
        self.callers = callers
        self.round: threading.Barrier | None = None

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        answer = super().list_cr(plural, namespace, label_selector)  # as the server has them now
        if plural == api.REMEDIATIONS and self.round is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.round.wait()
        return answer


def _triage(kube: FakeKube) -> Triage:
    kube.add(deployment())
    triage = Triage(kube, Model(), PolicySource(None, Settings()))  # type: ignore[arg-type]
    # A first triage (of a workload that does not exist: no Remediation) so that what is slow the first time
    # (imports, the policy) is done before the race.
    missing = _new("gone-crash", "ee-0")
    missing["spec"]["target"]["name"] = "gone"
    assert triage.handle(missing).remediation is None
    if isinstance(kube, SlowListKube):
        kube.round = threading.Barrier(kube.callers, timeout=2)
    return triage


def _new(name: str = "web-crash", uid: str = "ee-1") -> dict[str, Any]:
    ee = errorevent(name, NS, uid, reason="CrashLoopBackOff", exitCode=1, message="back-off", logs="panic: boom")
    ee["spec"]["target"] = {"kind": "Deployment", "name": "web"}
    del ee["status"]
    return ee


def _remediations(kube: FakeKube) -> list[dict[str, Any]]:
    return kube.list_cr(api.REMEDIATIONS, NS)


def test_the_handler_takes_the_handed_over_result_and_does_not_triage_again() -> None:
    kube = FakeKube()
    triage = _triage(kube)
    calls: list[str] = []

    def counted(ee: dict[str, Any]) -> TriageResult:
        calls.append(ee["metadata"]["uid"])
        return triage.handle(ee)

    handoff: Handoff[TriageResult] = Handoff(counted)
    ee = _new()
    handoff.submit(ee)
    result = handoff.take(ee)
    assert result is not None and result.remediation == "web-crash"
    assert result.status["phase"] == api.EEPhase.REMEDIATING
    assert calls == ["ee-1"]
    assert handoff.take(ee) is None  # taken once: a retry of the handler triages itself
    assert [r["metadata"]["name"] for r in _remediations(kube)] == ["web-crash"]
    handoff.stop()


def test_when_the_watch_comes_first_the_handler_triages_and_the_late_hand_over_is_dropped() -> None:
    calls: list[str] = []

    def counted(ee: dict[str, Any]) -> str:
        calls.append(ee["metadata"]["uid"])
        return "triaged"

    handoff: Handoff[str] = Handoff(counted)
    ee = _new()
    assert handoff.take(ee) is None  # nothing handed over yet: the handler triages
    handoff.submit(ee)  # intake's create answer arrives after the watch event
    handoff.stop()
    assert calls == []


def test_a_failed_hand_over_raises_in_the_handler_whose_retry_triages_itself() -> None:
    def broken(ee: dict[str, Any]) -> str:
        raise RuntimeError("API server unavailable")

    handoff: Handoff[str] = Handoff(broken)
    ee = _new()
    handoff.submit(ee)
    with pytest.raises(RuntimeError):
        handoff.take(ee)
    assert handoff.take(ee) is None
    handoff.stop()


def test_both_paths_racing_make_one_remediation() -> None:
    """The hand-over and a handler that triages the same ErrorEvent itself (as after a restart that lost the
    hand-over's memory), at the same moment: one Remediation, and the second triage points at it."""
    kube = SlowListKube(callers=2)
    triage = _triage(kube)
    handoff: Handoff[TriageResult] = Handoff(triage.handle)
    ee = _new()
    results: list[TriageResult] = []
    handler = threading.Thread(target=lambda: results.append(triage.handle(_new())))
    handoff.submit(ee)
    handler.start()
    handler.join(5)
    handed = handoff.take(ee)
    assert handed is not None
    results.append(handed)
    assert [r["metadata"]["name"] for r in _remediations(kube)] == ["web-crash"]
    assert kube.requests["create"] == 1  # the second triage did not even try: it saw the first one's Remediation
    assert sorted(r.remediation or "" for r in results) == ["web-crash", "web-crash"]
    assert all(r.status["phase"] == api.EEPhase.REMEDIATING for r in results)
    handoff.stop()


def test_two_errorevents_of_one_workload_handed_over_together_make_one_remediation() -> None:
    kube = SlowListKube(callers=2)
    triage = _triage(kube)
    handoff: Handoff[TriageResult] = Handoff(triage.handle)
    first, second = _new("web-crash", "ee-1"), _new("web-crash-2", "ee-2")
    handoff.submit(first)
    handoff.submit(second)
    results = [handoff.take(first), handoff.take(second)]
    assert len(_remediations(kube)) == 1
    assert {r.remediation for r in results if r is not None} == {_remediations(kube)[0]["metadata"]["name"]}
    handoff.stop()


def test_a_hand_over_still_queued_is_called_off_and_the_handler_triages_itself() -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow(ee: dict[str, Any]) -> str:
        calls.append(ee["metadata"]["uid"])
        release.wait(5)
        return "triaged"

    handoff: Handoff[str] = Handoff(slow, workers=1)
    busy, queued = _new("web-crash", "ee-1"), _new("api-crash", "ee-2")
    handoff.submit(busy)
    handoff.submit(queued)  # behind the first one: the only worker is busy
    assert handoff.take(queued) is None  # the handler triages it; the hand-over never runs
    release.set()
    assert handoff.take(busy) == "triaged"
    handoff.stop()
    assert calls == ["ee-1"]
