#!/usr/bin/env python3
"""hello_L1toL2: describe a daily summary in words.

Usage: hello_L1toL2.py input output
"""
import sys


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as handle:
        label, count, total = handle.read().split()
    with open(argv[1], 'w') as handle:
        handle.write('On %s the counter saw %s counts in %s files.\n' % (label, total, count))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
