"""`pip install .` carries exactly what the runtime imports: installed bare (no extras) into a fresh venv, every
module of the operator and the model library imports, and no dev or tool-only package came along."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

IMPORT_ALL = """
import importlib, pkgutil, sys
import remediator, remediator_model
failed = []
for pkg in (remediator, remediator_model):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        try:
            importlib.import_module(info.name)
        except Exception as err:
            failed.append(f"{info.name}: {type(err).__name__}: {err}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_a_bare_install_imports_every_runtime_module(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    imported = subprocess.run(
        [str(python), "-c", IMPORT_ALL], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert imported.returncode == 0, (
        f"modules that do not import from a bare install:\n{imported.stdout}{imported.stderr[-2000:]}"
    )

    for absent in ("remediator_dev", "lightgbm", "matplotlib", "cryptography", "pytest"):
        probe = subprocess.run(
            [
                str(python),
                "-c",
                f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({absent!r}) else 1)",
            ],
            cwd=tmp_path,
            timeout=60,
        )
        assert probe.returncode == 1, f"{absent} is installed by `pip install .` but the runtime does not need it"

    cli = subprocess.run([str(env_dir / "bin" / "remediator"), "--help"], capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0 and " run " in cli.stdout and "dev-cluster" not in cli.stdout, cli.stdout + cli.stderr

    # `kubectl remediator`: kubectl runs the kubectl-remediator found in PATH; the install puts it there.
    plugin = subprocess.run(
        [str(env_dir / "bin" / "kubectl-remediator"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert plugin.returncode == 0 and "exit codes:" in plugin.stdout and "approve" in plugin.stdout, (
        plugin.stdout + plugin.stderr
    )
