"""Where the control plane's pinned binaries live, and building them (once) when they are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from remediator_dev.devcluster.errors import DevClusterError

BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "hack" / "build-tools.sh"  # dev/remediator_dev/devcluster/
GO_MIN = (1, 24)  # what hack/build-tools.sh needs (GO_MIN there)
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl")
# build-tools.sh groups binaries by the Go module they come from.
_BUILD_TARGET = {
    "kube-apiserver": "kubernetes",
    "kube-controller-manager": "kubernetes",
    "kube-scheduler": "kubernetes",
    "kubectl": "kubernetes",
}


def go_problem() -> str | None:
    """Why the Go on PATH cannot build the pinned binaries (absent, or older than GO_MIN); None when it can."""
    go = shutil.which("go")
    if go is None:
        return "there is no `go` on PATH to build them"
    try:
        reported = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        reported = ""
    match = re.match(r"go(\d+)\.(\d+)", reported)
    if match is None:
        return f"{go} does not say its version (`go env GOVERSION`: {reported!r}), so it is taken as too old"
    version = (int(match.group(1)), int(match.group(2)))
    if version < GO_MIN:
        return f"{go} is Go {version[0]}.{version[1]}, too old to build them"
    return None


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
        problem = go_problem()
        if problem:
            raise DevClusterError(
                f"{', '.join(missing)} not built yet ({bin_dir()}) and {problem}: install Go >= "
                f"{'.'.join(map(str, GO_MIN))} (Debian: apt-get install golang-go), put it first on PATH and rerun"
            )
        targets = sorted({_BUILD_TARGET.get(n, n) for n in missing})
        result = subprocess.run(["bash", str(BUILD_SCRIPT), *targets], check=False)
        if result.returncode != 0:
            raise DevClusterError(f"building {', '.join(targets)} failed (exit {result.returncode}); see above")
    return {n: bin_dir() / n for n in names}
