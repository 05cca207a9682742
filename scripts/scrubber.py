#!/usr/bin/env python3
"""scrubber: shim so scripts/scrubber.py runs like the installed command."""
import sys

from dbprocessing.cli.scrubber import main

if __name__ == "__main__":
    sys.exit(main())
