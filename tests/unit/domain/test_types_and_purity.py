"""types.py against the CRDs, and the domain's promise of no I/O libraries."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest
import yaml

from remediator.domain.types import ACTIONS, ERROR_TYPES, WORKLOAD_KINDS, Classification, Reason

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOMAIN = ROOT / "operator" / "remediator" / "domain"
FORBIDDEN = ("kopf", "kubernetes", "pymongo", "boto3", "botocore", "requests", "urllib3", "aiohttp", "opentelemetry")


def crd_spec(name: str) -> dict:
    doc = yaml.safe_load((ROOT / "crds" / name).read_text())
    return doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]


def test_actions_error_types_and_kinds_match_the_remediation_crd() -> None:
    spec = crd_spec("remediations.remediator.dev.yaml")["spec"]["properties"]
    assert tuple(spec["action"]["enum"]) == ACTIONS
    assert tuple(spec["errorType"]["enum"]) == ERROR_TYPES
    assert tuple(spec["target"]["properties"]["kind"]["enum"]) == WORKLOAD_KINDS


def test_classification_status_matches_the_errorevent_crd() -> None:
    schema = crd_spec("errorevents.remediator.dev.yaml")["status"]["properties"]["classification"][
        "properties"
    ]
    c = Classification(
        "oom",
        "increase_memory",
        0.93,
        "resource_exhaustion",
        0.04,
        "OOMKilled at 256Mi",
        ("exit code 137",),
        "lgbm-2024.05",
    )
    status = c.to_status()
    assert set(status) <= set(schema)
    assert status["errorType"] == "oom" and status["runnerUp"] == "resource_exhaustion"


def test_invalid_classification_and_reason_are_rejected() -> None:
    with pytest.raises(ValueError):
        Classification("oom", "reboot_node", 0.9)
    with pytest.raises(ValueError):
        Classification("oom", "notify", 1.5)
    with pytest.raises(ValueError):
        Reason("below threshold", "x")


def test_domain_source_imports_no_io_library() -> None:
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_domain_loads_no_io_library() -> None:
    code = (
        "import sys, pkgutil, importlib, remediator.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'remediator.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_policy_fields_match_the_remediationpolicy_crd() -> None:
    from remediator.domain.policy import Policy

    props = crd_spec("remediationpolicies.remediator.dev.yaml")["spec"]["properties"]
    spec = Policy().to_spec()
    assert set(spec) == set(props)
    for key, value in spec.items():
        if isinstance(value, dict):
            assert set(value) == set(props[key]["properties"]), key
