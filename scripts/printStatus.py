#!/usr/bin/env python3
"""printStatus: shim so scripts/printStatus.py runs like the installed command."""
import sys

from dbprocessing.cli.print_status import main

if __name__ == "__main__":
    sys.exit(main())
