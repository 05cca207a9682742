#!/usr/bin/env python3
"""configFromDB: shim kept so crontabs that call scripts/configFromDB.py keep working."""
import sys

from dbprocessing.cli.config_from_db import main

if __name__ == "__main__":
    sys.exit(main())
