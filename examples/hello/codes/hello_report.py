#!/usr/bin/env python3
"""hello_report: append each input's text to a report file (a RUN step: no product).

Usage: hello_report.py report input...
"""
import sys


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], 'a') as report:
        for name in argv[1:]:
            with open(name) as handle:
                report.write(handle.read())
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
