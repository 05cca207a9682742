#!/usr/bin/env python3
"""htmlCoverage: shim so scripts/htmlCoverage.py runs like the installed command."""
import sys

from dbprocessing.cli.html_coverage import main

if __name__ == "__main__":
    sys.exit(main())
