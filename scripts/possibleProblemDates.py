#!/usr/bin/env python3
"""possibleProblemDates: shim so scripts/possibleProblemDates.py runs like the installed command."""
import sys

from dbprocessing.cli.possible_problem_dates import main

if __name__ == "__main__":
    sys.exit(main())
