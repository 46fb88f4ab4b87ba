"""The chart's CRDs are templates generated from crds/ (hack/sync-chart-crds.py): rendered, each one equals its
crds/ file, apart from the keep annotation; crds.enabled and crds.keep do what they say."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.helm import CHART, REPO, rendered_objects

CRDS = REPO / "crds"
KEEP = {"helm.sh/resource-policy": "keep"}


def _source() -> dict[str, dict[str, Any]]:
    crds: dict[str, dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                crds[doc["metadata"]["name"]] = doc
    return crds


def _rendered_crds(*sets: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in rendered_objects(*sets) if o["kind"] == "CustomResourceDefinition"}


def _without_chart_metadata(crd: dict[str, Any]) -> dict[str, Any]:
    """The CRD without the one thing the chart adds to it, the keep annotation."""
    out = copy.deepcopy(crd)
    meta = out["metadata"]
    annotations = meta.pop("annotations", None) or {}
    assert annotations in ({}, KEEP), f"unexpected annotations on {meta['name']}: {annotations}"
    return out


def test_the_chart_ships_every_crd_of_crds_dir() -> None:
    source = _source()
    assert {"errorevents.remediator.dev", "remediations.remediator.dev", "remediationpolicies.remediator.dev"} <= set(
        source
    )
    assert {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"} <= set(source)  # kopf's peering CRDs
    assert set(_rendered_crds()) == set(source)


@pytest.mark.parametrize("name", sorted(_source()))
def test_each_rendered_crd_equals_its_crds_file(name: str) -> None:
    rendered = _rendered_crds()[name]
    source = _source()[name]
    assert rendered["metadata"].get("labels") == source["metadata"].get("labels")
    assert _without_chart_metadata(rendered) == source


def test_crds_are_kept_on_uninstall_by_default_and_not_when_told() -> None:
    for crd in _rendered_crds().values():
        assert crd["metadata"]["annotations"] == KEEP
    for crd in _rendered_crds("crds.keep=false").values():
        assert "annotations" not in crd["metadata"]


def test_crds_enabled_false_renders_none() -> None:
    assert _rendered_crds("crds.enabled=false") == {}


def test_the_old_crds_dir_is_gone() -> None:
    # Helm installs charts/<chart>/crds/ once and never upgrades it; the templates replace it.
    assert not (CHART / "crds").exists()


def test_the_templates_are_up_to_date_with_the_generator() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sync_chart_crds", REPO / "hack" / "sync-chart-crds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, text in module.expected().items():
        assert Path(path).read_text() == text, f"{path} is stale: run hack/sync-chart-crds.py"
