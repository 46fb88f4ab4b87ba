"""Where the checkout's own files are: the dev tools run from a clone of the repository, never from the image."""

from __future__ import annotations

from pathlib import Path

from remediator_dev.devcluster.errors import DevClusterError


def repo_root(start: Path | None = None) -> Path:
    """The repository this package was installed from (the directory holding crds/ and hack/)."""
    here = (start or Path(__file__)).resolve()
    for candidate in here.parents:
        if (candidate / "crds").is_dir() and (candidate / "hack" / "build-tools.sh").is_file():
            return candidate
    raise DevClusterError(
        f"cannot find the kube-remediator checkout above {here}: the dev tools run from a clone "
        "(make install there installs them in editable mode)"
    )
