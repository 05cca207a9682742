#!/usr/bin/env python3
"""purgeFileFromDB: shim so scripts/purgeFileFromDB.py runs like the installed command."""
import sys

from dbprocessing.cli.purge_file_from_db import main

if __name__ == "__main__":
    sys.exit(main())
