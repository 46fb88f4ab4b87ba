"""Build the default artifact shipped in the package:

    python -m remediator_model.build_default

Trains on the builtin seed corpus (deterministic), evaluates on the real-world validation set (never trained
on) and writes model/remediator_model/artifacts/default/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from remediator_model import cli

HERE = Path(__file__).parent
VALIDATION = HERE / "data" / "validation_realworld.jsonl"
OUT = HERE / "artifacts" / "default"


def main(argv: list[str] | None = None) -> int:
    args = ["train", "--data", "builtin", "--out", str(OUT), "--n", "36000", "--seed", "0"]
    if VALIDATION.exists():
        args += ["--validate", str(VALIDATION)]
    return cli.main(args + list(argv or []))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
