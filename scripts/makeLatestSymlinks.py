#!/usr/bin/env python3
"""makeLatestSymlinks: shim so scripts/makeLatestSymlinks.py runs like the installed command."""
import sys

from dbprocessing.cli.make_latest_symlinks import main

if __name__ == "__main__":
    sys.exit(main())
