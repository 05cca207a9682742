#!/usr/bin/env python3
"""DBRunner: shim kept so crontabs that call scripts/DBRunner.py keep working."""
import sys

from dbprocessing.cli.db_runner import main

if __name__ == "__main__":
    sys.exit(main())
