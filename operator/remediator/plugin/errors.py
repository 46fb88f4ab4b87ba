"""The plugin's exit codes and its one error type: no dependency, so `--help` and usage errors start fast."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_CLUSTER = 0, 1, 2, 3


class PluginError(Exception):
    """A failure to report as one sentence, with the exit code it maps to."""

    def __init__(self, message: str, code: int = EXIT_REFUSED, kind: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.kind = message, code, kind  # kind: "conflict" for a 409


@dataclass(frozen=True)
class Connection:
    kubeconfig: str | None = None
    context: str | None = None
    as_user: str | None = None
    as_group: str | None = None
