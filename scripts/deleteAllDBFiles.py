#!/usr/bin/env python3
"""deleteAllDBFiles: shim so scripts/deleteAllDBFiles.py runs like the installed command."""
import sys

from dbprocessing.cli.delete_all_db_files import main

if __name__ == "__main__":
    sys.exit(main())
