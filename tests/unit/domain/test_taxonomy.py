"""remediator_model.taxonomy is the one source of error types and actions: the domain and the CRDs follow it."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any, get_args

import pytest
import yaml

from remediator.domain import types
from remediator_model import taxonomy

ROOT = pathlib.Path(__file__).resolve().parents[3]
# kopf-peering.yaml is kopf's own CRD and knows nothing of our labels.
CRDS = sorted((ROOT / "crds").glob("*.remediator.dev.yaml"))


def enums(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """(path of keys, enum) for every `enum` in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum" and isinstance(value, list):
                yield path, value
            else:
                yield from enums(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from enums(value, (*path, str(i)))


def test_domain_tuples_are_the_taxonomy() -> None:
    assert types.ACTIONS == taxonomy.ACTIONS
    assert types.ERROR_TYPES == taxonomy.ERROR_TYPES


def test_domain_literals_spell_the_taxonomy() -> None:
    assert get_args(types.Action) == taxonomy.ACTIONS
    assert get_args(types.ErrorType) == taxonomy.ERROR_TYPES


@pytest.mark.parametrize("crd", ["remediations.remediator.dev.yaml", "errorevents.remediator.dev.yaml"])
def test_crd_action_and_error_type_fields_enumerate_the_taxonomy(crd: str) -> None:
    found = {path: tuple(e) for path, e in enums(yaml.safe_load((ROOT / "crds" / crd).read_text()))}
    actions = {p: e for p, e in found.items() if p[-1] == "action"}
    error_types = {p: e for p, e in found.items() if p[-1] == "errorType"}
    assert actions and error_types, "the CRD has no action/errorType enum: did the schema move?"
    assert all(e == taxonomy.ACTIONS for e in actions.values()), actions
    assert all(e == taxonomy.ERROR_TYPES for e in error_types.values()), error_types


@pytest.mark.parametrize("crd", CRDS, ids=lambda p: p.name)
def test_every_crd_enum_of_actions_or_error_types_is_the_whole_taxonomy(crd: pathlib.Path) -> None:
    # Catches the other fields that list them (correctAction, policy action lists) without naming each one.
    for path, e in enums(list(yaml.safe_load_all(crd.read_text()))):
        for labels in (taxonomy.ACTIONS, taxonomy.ERROR_TYPES):
            if set(e) & set(labels):
                assert tuple(e) == labels, ".".join(path)
