#!/usr/bin/env python3
"""explainBuild: shim so scripts/explainBuild.py runs like the installed command."""
import sys

from dbprocessing.cli.explain_build import main

if __name__ == "__main__":
    sys.exit(main())
