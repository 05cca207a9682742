#!/usr/bin/env python3
"""reprocessByProduct: shim kept so crontabs that call scripts/reprocessByProduct.py keep working."""
import sys

from dbprocessing.cli.reprocess_by_product import main

if __name__ == "__main__":
    sys.exit(main())
