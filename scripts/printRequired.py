#!/usr/bin/env python3
"""printRequired: shim so scripts/printRequired.py runs like the installed command."""
import sys

from dbprocessing.cli.print_required import main

if __name__ == "__main__":
    sys.exit(main())
