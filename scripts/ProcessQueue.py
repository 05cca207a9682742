#!/usr/bin/env python3
"""ProcessQueue: shim kept so crontabs that call scripts/ProcessQueue.py keep working."""
import sys

from dbprocessing.cli.process_queue import main

if __name__ == "__main__":
    sys.exit(main())
