#!/usr/bin/env python3
"""fast_data: shim so scripts/fast_data.py runs like the installed command."""
import sys

from dbprocessing.cli.fast_data import main

if __name__ == "__main__":
    sys.exit(main())
