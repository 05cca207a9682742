#!/usr/bin/env python3
"""reprocessByInstrument: shim kept so crontabs that call scripts/reprocessByInstrument.py keep working."""
import sys

from dbprocessing.cli.reprocess_by_instrument import main

if __name__ == "__main__":
    sys.exit(main())
