#!/usr/bin/env python3
"""printProcessQueue: shim so scripts/printProcessQueue.py runs like the installed command."""
import sys

from dbprocessing.cli.print_process_queue import main

if __name__ == "__main__":
    sys.exit(main())
