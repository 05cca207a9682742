#!/usr/bin/env python3
"""replaceArgsWithRootdir: shim so scripts/replaceArgsWithRootdir.py runs like the installed command."""
import sys

from dbprocessing.cli.replace_args_with_rootdir import main

if __name__ == "__main__":
    sys.exit(main())
