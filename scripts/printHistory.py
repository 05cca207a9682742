#!/usr/bin/env python3
"""printHistory: shim so scripts/printHistory.py runs like the installed command."""
import sys

from dbprocessing.cli.print_history import main

if __name__ == "__main__":
    sys.exit(main())
