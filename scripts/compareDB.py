#!/usr/bin/env python3
"""compareDB: shim so scripts/compareDB.py runs like the installed command."""
import sys

from dbprocessing.cli.compare_db import main

if __name__ == "__main__":
    sys.exit(main())
