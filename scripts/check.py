#!/usr/bin/env python3
"""check: shim so scripts/check.py runs like the installed command."""
import sys

from dbprocessing.cli.check import main

if __name__ == "__main__":
    sys.exit(main())
