#!/usr/bin/env python3
"""testInspector: shim so scripts/testInspector.py runs like the installed command."""
import sys

from dbprocessing.cli.test_inspector import main

if __name__ == "__main__":
    sys.exit(main())
