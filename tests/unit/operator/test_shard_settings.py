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


# -- the handlers' filter ----------------------------------------------------------------------------------
def _kwargs(shard: Shard | None, namespace: str | None, name: str = "x", plural: str = "remediations") -> dict:
    import kopf

    memo = kopf.Memo()
    if shard is not None:
        memo.shard = shard
    resource = kopf.Resource("remediator.dev" if plural != "namespaces" else "", "v1", plural)
    body = {"metadata": {"name": name, "namespace": namespace}, "status": {}, "type": "Warning"}
    return {
        "namespace": namespace,
        "name": name,
        "resource": resource,
        "memo": memo,
        "body": body,
        "status": {},
        "spec": {},
        "meta": body["metadata"],
        "type": None,
    }


def _names(owner: int, count: int, how_many: int = 3) -> list[str]:
    from remediator.domain.shard import shard_of

    return [n for n in (f"ns-{i}" for i in range(200)) if shard_of(n, count) == owner][:how_many]


def test_in_shard_serves_own_namespaces_only_and_everything_unsharded() -> None:
    from remediator.handlers import in_shard

    mine, theirs = _names(0, 2), _names(1, 2)
    assert all(in_shard(**_kwargs(Shard(0, 2), ns)) for ns in mine)
    assert not any(in_shard(**_kwargs(Shard(0, 2), ns)) for ns in theirs)
    assert all(in_shard(**_kwargs(Shard(), ns)) for ns in mine + theirs)
    # a Namespace by its own name; any other cluster-scoped object by shard 0 alone
    assert in_shard(**_kwargs(Shard(0, 2), None, mine[0], "namespaces"))
    assert not in_shard(**_kwargs(Shard(0, 2), None, theirs[0], "namespaces"))
    assert in_shard(**_kwargs(Shard(0, 2), None, "c", "clusterthings"))
    assert not in_shard(**_kwargs(Shard(1, 2), None, "c", "clusterthings"))
    # before start-up set the shard, nothing is served (kopf never gets there; a doubt must not act)
    assert not in_shard(**_kwargs(None, mine[0]))


def test_every_handler_and_index_ignores_another_shards_objects() -> None:
    from kopf._core.intents.registries import get_default_registry

    import remediator.handlers  # noqa: F401  (registers the handlers)

    registry = get_default_registry()
    handlers = [
        h
        for reg in (registry._indexing, registry._watching, registry._spawning, registry._changing)
        for h in reg._handlers
    ]
    assert len(handlers) >= 8  # every kind the operator registers is in this list
    theirs, mine = _names(1, 2, 1)[0], _names(0, 2, 1)[0]
    # Read by every shard on purpose: the cluster-default policy lives in --policy-namespace, one shard's.
    unsharded = {"policies_cached"}
    assert unsharded <= {h.id for h in handlers}
    for handler in handlers:
        if handler.id in unsharded:
            assert handler.when is None, handler.id
            continue
        assert handler.when is not None, f"{handler.id} has no shard filter"
        assert handler.when(**_kwargs(Shard(0, 2), theirs)) is False, handler.id
        # in its own shard an object is judged as unsharded: the shard is the only thing the filter adds
        assert handler.when(**_kwargs(Shard(0, 2), mine)) == handler.when(**_kwargs(Shard(), mine)), handler.id
