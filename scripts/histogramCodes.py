#!/usr/bin/env python3
"""histogramCodes: shim so scripts/histogramCodes.py runs like the installed command."""
import sys

from dbprocessing.cli.histogram_codes import main

if __name__ == "__main__":
    sys.exit(main())
