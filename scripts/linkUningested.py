#!/usr/bin/env python3
"""linkUningested: shim so scripts/linkUningested.py runs like the installed command."""
import sys

from dbprocessing.cli.link_uningested import main

if __name__ == "__main__":
    sys.exit(main())
