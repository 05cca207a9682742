#!/usr/bin/env python3
"""MigrateDB: shim kept so crontabs that call scripts/MigrateDB.py keep working."""
import sys

from dbprocessing.cli.migrate_db import main

if __name__ == "__main__":
    sys.exit(main())
