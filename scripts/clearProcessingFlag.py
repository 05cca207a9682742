#!/usr/bin/env python3
"""clearProcessingFlag: shim kept so crontabs that call scripts/clearProcessingFlag.py keep working."""
import sys

from dbprocessing.cli.clear_processing_flag import main

if __name__ == "__main__":
    sys.exit(main())
