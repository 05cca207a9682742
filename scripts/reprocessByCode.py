#!/usr/bin/env python3
"""reprocessByCode: shim kept so crontabs that call scripts/reprocessByCode.py keep working."""
import sys

from dbprocessing.cli.reprocess_by_code import main

if __name__ == "__main__":
    sys.exit(main())
