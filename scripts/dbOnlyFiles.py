#!/usr/bin/env python3
"""dbOnlyFiles: shim so scripts/dbOnlyFiles.py runs like the installed command."""
import sys

from dbprocessing.cli.db_only_files import main

if __name__ == "__main__":
    sys.exit(main())
