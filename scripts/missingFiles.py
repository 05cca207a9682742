#!/usr/bin/env python3
"""missingFiles: shim so scripts/missingFiles.py runs like the installed command."""
import sys

from dbprocessing.cli.missing_files import main

if __name__ == "__main__":
    sys.exit(main())
