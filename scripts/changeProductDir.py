#!/usr/bin/env python3
"""changeProductDir: shim so scripts/changeProductDir.py runs like the installed command."""
import sys

from dbprocessing.cli.change_product_dir import main

if __name__ == "__main__":
    sys.exit(main())
