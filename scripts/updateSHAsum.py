#!/usr/bin/env python3
"""updateSHAsum: shim so scripts/updateSHAsum.py runs like the installed command."""
import sys

from dbprocessing.cli.update_sha_sum import main

if __name__ == "__main__":
    sys.exit(main())
