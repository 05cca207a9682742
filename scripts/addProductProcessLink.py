#!/usr/bin/env python3
"""addProductProcessLink: shim so scripts/addProductProcessLink.py runs like the installed command."""
import sys

from dbprocessing.cli.add_product_process_link import main

if __name__ == "__main__":
    sys.exit(main())
