"""FeedbackStore opens the database the URI names (the chart puts mongodb.bundled.database there), and
kube_remediator when it names none. pymongo connects lazily in the background, so no server is needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remediator.adapters.store import DEFAULT_DB, FeedbackStore

# Port 1 on loopback: nothing listens there, and nothing here waits for a server.
HOST = "127.0.0.1:1"


@pytest.fixture
def open_store() -> Iterator[list[FeedbackStore]]:
    stores: list[FeedbackStore] = []
    yield stores
    for store in stores:
        store.close()


def _store(stores: list[FeedbackStore], uri: str, db: str | None = None) -> FeedbackStore:
    store = FeedbackStore(uri, db=db, timeout_ms=100)
    stores.append(store)
    return store


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"mongodb://{HOST}", DEFAULT_DB),
        (f"mongodb://{HOST}/", DEFAULT_DB),
        (f"mongodb://{HOST}/?authSource=admin", DEFAULT_DB),
        (f"mongodb://{HOST}/remediator", "remediator"),
        # The shape the chart renders for the bundled MongoDB (credentials come from the Secret).
        (f"mongodb://user:secret@{HOST}/remediator?authSource=admin", "remediator"),
    ],
)
def test_the_uri_database_is_used(open_store: list[FeedbackStore], uri: str, expected: str) -> None:
    store = _store(open_store, uri)
    assert store.db.name == expected
    assert {store.errorevents.database.name, store.remediations.database.name, store.feedback.database.name} == {
        expected
    }


def test_an_explicit_database_wins_over_the_uri(open_store: list[FeedbackStore]) -> None:
    assert _store(open_store, f"mongodb://{HOST}/remediator", db="tests_x").db.name == "tests_x"


def test_the_default_database_is_kube_remediator() -> None:
    assert DEFAULT_DB == "kube_remediator"
