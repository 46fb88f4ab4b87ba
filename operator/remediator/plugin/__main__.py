"""`python -m remediator.plugin ...`: the same program as the `kubectl-remediator` script."""

import sys

from remediator.plugin.cli import main

if __name__ == "__main__":  # importing the module (e.g. to check that everything imports) runs nothing
    sys.exit(main())
