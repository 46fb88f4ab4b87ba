"""Shard settings: unset is today's operator exactly; an impossible shard stops `remediator run` at once with one
sentence naming what to set, before any cluster is contacted."""

from __future__ import annotations

import pytest

from remediator.cli import main
from remediator.domain.shard import Shard
from remediator.settings import load


def test_no_shard_settings_is_one_shard_with_todays_peering() -> None:
    s = load(environ={"REMEDIATOR_PEERING": "ops"})
    assert (s.shard_index, s.shard_count) == (0, 1)
    assert s.shard == Shard() and s.shard_peering == "ops"


def test_shard_settings_come_from_the_environment_and_name_the_peering() -> None:
    s = load(environ={"REMEDIATOR_SHARD_INDEX": "2", "REMEDIATOR_SHARD_COUNT": "3", "REMEDIATOR_PEERING": "ops"})
    assert s.shard == Shard(2, 3) and s.shard_peering == "ops-shard-2-of-3"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"REMEDIATOR_SHARD_INDEX": "2", "REMEDIATOR_SHARD_COUNT": "2"}, "shard index must be between 0 and 1"),
        ({"REMEDIATOR_SHARD_COUNT": "0"}, "shard count must be at least 1"),
        ({"REMEDIATOR_SHARD_INDEX": "-1"}, "shard index must be between 0 and 0"),
        ({"REMEDIATOR_SHARD_COUNT": "two"}, "REMEDIATOR_SHARD_COUNT: Input should be a valid integer"),
    ],
)
def test_an_impossible_shard_stops_run_with_one_sentence(
    env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")  # were it contacted, the error would be another one
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["run", "--metrics-port", "0"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("error: invalid settings: ") and says in err, err
