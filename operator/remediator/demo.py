"""`make demo`: the local end-to-end run of the operator (filled in by the operator issue)."""

import sys


def main() -> int:
    print("make demo: not yet — the operator is not implemented; `make test` runs the testbed.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
