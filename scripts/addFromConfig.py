#!/usr/bin/env python3
"""addFromConfig: shim kept so crontabs that call scripts/addFromConfig.py keep working."""
import sys

from dbprocessing.cli.add_from_config import main

if __name__ == "__main__":
    sys.exit(main())
