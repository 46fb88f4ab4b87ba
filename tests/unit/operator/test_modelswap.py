"""ModelHolder and ModelPoller with a fake registry and fake models (no servers, no training)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from remediator.learning.modelswap import ModelHolder, ModelPoller
from remediator_model.predict import ErrorInput, Prediction


@dataclass
class FakeModel:
    version: str
    broken: bool = False

    def predict(self, e: ErrorInput) -> Prediction:
        if self.broken:
            raise ValueError("feature schema mismatch")
        return Prediction("oom", "increase_memory", 0.9, "app_crash", 0.05, "x", [], self.version)

    def predict_batch(self, events: list[ErrorInput]) -> list[Prediction]:
        return [self.predict(e) for e in events]


class FakeRegistry:
    def __init__(self) -> None:
        self.pointer: tuple[str, str] | None = None
        self.downloads: list[str] = []
        self.fail: Exception | None = None

    def current(self) -> tuple[str, str] | None:
        if self.fail:
            raise self.fail
        return self.pointer

    def download(self, version: str, dest_dir: str | Path) -> Path:
        self.downloads.append(version)
        path = Path(dest_dir)
        path.mkdir(parents=True, exist_ok=True)
        (path / "metadata.json").write_text(version)
        return path


def _loader(path: Path) -> Any:
    version = (path / "metadata.json").read_text()
    return FakeModel(version, broken=version.startswith("bad"))


def _poller(tmp_path: Path) -> tuple[FakeRegistry, ModelHolder, ModelPoller]:
    reg = FakeRegistry()
    holder = ModelHolder(FakeModel("v1"))  # type: ignore[arg-type]
    return reg, holder, ModelPoller(reg, holder, interval=0.01, work_dir=tmp_path, loader=_loader)


def test_holder_swap_is_atomic_and_in_flight_users_keep_their_model() -> None:
    holder = ModelHolder(FakeModel("v1"))  # type: ignore[arg-type]
    mine = holder.get()
    old = holder.swap(FakeModel("v2"))  # type: ignore[arg-type]
    assert old is mine and mine.version == "v1" and holder.version == "v2"
    assert holder.predict(ErrorInput(reason="OOMKilled")).model_version == "v2"
    seen: set[str] = set()

    def reader() -> None:
        for _ in range(2000):
            seen.add(holder.get().version)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(200):
        holder.swap(FakeModel(f"x{i}"))  # type: ignore[arg-type]
    for t in threads:
        t.join()
    assert seen and all(v == "v2" or v.startswith("x") for v in seen)


def test_poller_swaps_on_a_new_pointer_only(tmp_path: Path) -> None:
    reg, holder, poller = _poller(tmp_path)
    assert poller.check_once() is False  # nothing published
    reg.pointer = ("v1", "e1")
    assert poller.check_once() is False and reg.downloads == []  # already serving v1
    reg.pointer = ("v2", "e2")
    assert poller.check_once() is True and holder.version == "v2"
    assert poller.check_once() is False and reg.downloads == ["v2"]
    reg.pointer = ("v3", "e3")
    assert poller.check_once() is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v2", "v3"], "older downloads are pruned"


def test_poller_refuses_a_broken_model_once_and_keeps_the_old(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reg, holder, poller = _poller(tmp_path)
    reg.pointer = ("bad-2", "e2")
    with caplog.at_level("ERROR"):
        assert poller.check_once() is False
    assert holder.version == "v1" and "model bad-2 refused, keeping v1" in caplog.text
    assert "feature schema mismatch" in poller.refused["bad-2"]
    assert poller.check_once() is False and reg.downloads == ["bad-2"], "the same pointer is not retried"
    reg.pointer = ("bad-2", "e2b")  # re-uploaded: tried again
    assert poller.check_once() is False and reg.downloads == ["bad-2", "bad-2"]


def test_poller_survives_an_unreachable_registry(tmp_path: Path) -> None:
    reg, holder, poller = _poller(tmp_path)
    reg.fail = ConnectionError("endpoint unreachable")
    assert poller.check_once() is False and holder.version == "v1"
    reg.fail, reg.pointer = None, ("v2", "e")
    poller.start()
    try:
        for _ in range(200):
            if holder.version == "v2":
                break
            threading.Event().wait(0.01)
    finally:
        poller.stop()
    assert holder.version == "v2"


def test_swaps_and_refusals_are_counted(tmp_path: Path) -> None:
    from prometheus_client.registry import REGISTRY

    def swaps(result: str) -> float:
        return REGISTRY.get_sample_value("remediator_model_swaps_total", {"result": result}) or 0.0

    before = swaps("swapped"), swaps("refused")
    reg, _, poller = _poller(tmp_path)
    reg.pointer = ("v2", "e2")
    poller.check_once()
    reg.pointer = ("bad-3", "e3")
    poller.check_once()
    poller.check_once()  # the same refused pointer is not tried (nor counted) again
    assert (swaps("swapped") - before[0], swaps("refused") - before[1]) == (1, 1)
