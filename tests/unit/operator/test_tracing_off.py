"""Tracing is off by default, and off it costs the operator nothing: no SDK, exporter or protobuf is imported."""

from __future__ import annotations

import json
import subprocess
import sys

from remediator.adapters.tracing import Tracing
from remediator.settings import Settings, load


def test_off_by_default() -> None:
    assert Settings().tracing_enabled is False
    assert Tracing.configure(Settings()) is None
    assert load(environ={"REMEDIATOR_TRACING_ENABLED": "true"}).tracing_enabled is True


def test_the_operator_without_tracing_imports_no_opentelemetry_sdk() -> None:
    code = (
        "import json, sys\n"
        "import remediator.handlers, remediator.runtime\n"
        "from remediator.adapters.tracing import Tracing\n"
        "from remediator.settings import Settings\n"
        "assert Tracing.configure(Settings()) is None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'google.protobuf')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
