"""Build the default artifact shipped in the package:

    python -m remediator_model.build_default

Trains on the builtin seed corpus plus the fit part of the real-world corpus (deterministic), calibrates on
the corpus's calibration part, reports its test part (split by source thread: realdata.py) and writes
model/remediator_model/artifacts/default/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from remediator_model import cli

HERE = Path(__file__).parent
OUT = HERE / "artifacts" / "default"


def main(argv: list[str] | None = None) -> int:
    args = ["train", "--data", "builtin", "--real", "--out", str(OUT), "--n", "36000", "--seed", "0"]
    return cli.main(args + list(argv or []))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
