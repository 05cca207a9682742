#!/usr/bin/env python3
"""CreateDB: shim kept so crontabs that call scripts/CreateDB.py keep working."""
import sys

from dbprocessing.cli.create_db import main

if __name__ == "__main__":
    sys.exit(main())
