#!/usr/bin/env python3
"""hello_L1toL2: describe a daily summary in words.

Usage: hello_L1toL2.py --mission NAME input output

(the config passes "--mission {MISSION}", filled in when the config is loaded)
"""
import sys


def main(argv):
    if len(argv) != 4 or argv[0] != '--mission':
        print(__doc__, file=sys.stderr)
        return 2
    mission, source, output = argv[1], argv[2], argv[3]
    with open(source) as handle:
        label, count, total = handle.read().split()
    with open(output, 'w') as handle:
        handle.write('On %s the %s counter saw %s counts in %s files.\n'
                     % (label, mission, total, count))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
