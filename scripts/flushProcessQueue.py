#!/usr/bin/env python3
"""flushProcessQueue: shim so scripts/flushProcessQueue.py runs like the installed command."""
import sys

from dbprocessing.cli.flush_process_queue import main

if __name__ == "__main__":
    sys.exit(main())
