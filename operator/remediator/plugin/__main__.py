"""`python -m remediator.plugin ...`: the same program as the `kubectl-remediator` script."""

import sys

from remediator.plugin.cli import main

sys.exit(main())
