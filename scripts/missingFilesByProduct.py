#!/usr/bin/env python3
"""missingFilesByProduct: shim so scripts/missingFilesByProduct.py runs like the installed command."""
import sys

from dbprocessing.cli.missing_files_by_product import main

if __name__ == "__main__":
    sys.exit(main())
