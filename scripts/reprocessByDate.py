#!/usr/bin/env python3
"""reprocessByDate: shim kept so crontabs that call scripts/reprocessByDate.py keep working."""
import sys

from dbprocessing.cli.reprocess_by_date import main

if __name__ == "__main__":
    sys.exit(main())
