#!/usr/bin/env python3
"""coveragePlot: shim so scripts/coveragePlot.py runs like the installed command."""
import sys

from dbprocessing.cli.coverage_plot import main

if __name__ == "__main__":
    sys.exit(main())
