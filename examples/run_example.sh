#!/usr/bin/env bash
# Run the "hello" example mission end to end on SQLite, in a scratch directory.
#   examples/run_example.sh [workdir]     (default: ./example-run, made anew)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-example-run}
rm -rf "$work"
cp -r "$here/hello" "$work"
cd "$work"
export DBPROCESSING_LOG_DIR=${DBPROCESSING_LOG_DIR:-$PWD/logs}
mkdir -p incoming
cp data/* incoming/

CreateDB hello.sqlite
addFromConfig -m hello.sqlite hello.conf
ProcessQueue -i -m hello.sqlite -v   # -v: print the summaries even when not on a terminal
ProcessQueue -p -m hello.sqlite -v
echo
printStatus -m hello.sqlite -p hello_counter_L1
printLineage -m hello.sqlite hello_L2_20250102_v1.0.0.txt --up
htmlCoverage -m hello.sqlite -o coverage.html
echo
echo "Mission database: $PWD/hello.sqlite"
echo "Input files:      $PWD/L0/ (by product and year); rejects in $PWD/errors/"
echo "Products:         $PWD/L1/ (daily summaries), $PWD/L2/ (in words)"
echo "RUN step report:  $PWD/report.txt"
echo "Logs:             $DBPROCESSING_LOG_DIR/"
echo "Coverage page:    $PWD/coverage.html"
echo "Running ProcessQueue -p again changes nothing."
