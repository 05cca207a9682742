#!/usr/bin/env python3
"""printLineage: shim so scripts/printLineage.py runs like the installed command."""
import sys

from dbprocessing.cli.print_lineage import main

if __name__ == "__main__":
    sys.exit(main())
