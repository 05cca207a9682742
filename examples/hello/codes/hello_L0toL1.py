#!/usr/bin/env python3
"""hello_L0toL1: sum the counts in the input files; write one summary line.

Usage: hello_L0toL1.py --label YYYYMMDD input... output
"""
import sys


def main(argv):
    if len(argv) < 4 or argv[0] != '--label':
        print(__doc__, file=sys.stderr)
        return 2
    label, inputs, output = argv[1], argv[2:-1], argv[-1]
    total = 0
    for name in inputs:
        with open(name) as handle:
            total += sum(int(line) for line in handle if line.strip())
    with open(output, 'w') as handle:
        handle.write('%s %d %d\n' % (label, len(inputs), total))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
