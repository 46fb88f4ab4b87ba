"""Where the control plane's pinned binaries live, and building them (once) when they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from remediator_dev.devcluster.errors import DevClusterError

BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "hack" / "build-tools.sh"  # dev/remediator_dev/devcluster/
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl")
# build-tools.sh groups binaries by the Go module they come from.
_BUILD_TARGET = {
    "kube-apiserver": "kubernetes",
    "kube-controller-manager": "kubernetes",
    "kube-scheduler": "kubernetes",
    "kubectl": "kubernetes",
}


def cache_dir() -> Path:
    explicit = os.environ.get("REMEDIATOR_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kube-remediator"


def bin_dir() -> Path:
    return cache_dir() / "bin"


def ensure(names: tuple[str, ...] = CONTROL_PLANE) -> dict[str, Path]:
    """Return the path of each binary, building the missing ones with build-tools.sh."""
    missing = [n for n in names if not (bin_dir() / n).exists()]
    if missing:
        if shutil.which("go") is None:
            raise DevClusterError(
                f"missing binaries {', '.join(missing)} and no Go toolchain to build them: install Go >= 1.24 "
                "(Debian: apt-get install golang-go) and rerun; they are built once into " + str(bin_dir())
            )
        targets = sorted({_BUILD_TARGET.get(n, n) for n in missing})
        result = subprocess.run(["bash", str(BUILD_SCRIPT), *targets], check=False)
        if result.returncode != 0:
            raise DevClusterError(f"building {', '.join(targets)} failed (exit {result.returncode}); see above")
    return {n: bin_dir() / n for n in names}
