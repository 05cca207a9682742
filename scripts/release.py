#!/usr/bin/env python3
"""release: shim so scripts/release.py runs like the installed command."""
import sys

from dbprocessing.cli.release import main

if __name__ == "__main__":
    sys.exit(main())
