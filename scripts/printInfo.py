#!/usr/bin/env python3
"""printInfo: shim so scripts/printInfo.py runs like the installed command."""
import sys

from dbprocessing.cli.print_info import main

if __name__ == "__main__":
    sys.exit(main())
