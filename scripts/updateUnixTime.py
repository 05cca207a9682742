#!/usr/bin/env python3
"""updateUnixTime: shim so scripts/updateUnixTime.py runs like the installed command."""
import sys

from dbprocessing.cli.update_unix_time import main

if __name__ == "__main__":
    sys.exit(main())
