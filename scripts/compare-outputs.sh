#!/usr/bin/env bash
# Proves that two darkroom binaries write the same bytes: a broad set of inputs (the shared
# corpus in ../shared/corpus, testimages/, generated photo-like images up to 6000x4000 and JPEGs
# with restart markers) converted with many option combinations by OLD and by NEW, comparing exit
# status, the sha256 of every output file, standard output and standard error (a failure's first
# line, then all lines). One line per conversion that differs, then what was covered and a summary:
#   compare-outputs: N conversions, N identical, 0 different
# Exit status 0 all identical, 1 something differs, 2 usage, 130 interrupted.
#
#   scripts/compare-outputs.sh OLD_BINARY NEW_BINARY [--quick] [--only TEXT] [--jobs N] [--list] [--timing]
#
# --quick: a subset (~1,500 conversions, under 3 minutes on 2 cores; the full run ~8,500, under
# 15). --only TEXT: just the conversions whose printed line contains TEXT (to rerun a difference).
# --list: print the conversions and the coverage, run nothing. --timing: the slowest sets too.
# Each darkroom process runs in its own temporary folder under `timeout 60`, at most 2 at once
# (--jobs); both binaries are copied first (a rebuild mid-run changes nothing); all is removed at
# the end. Needs python3 and numpy (generated photos); cjpeg (libjpeg-turbo-progs) adds generated
# restart-marker, 4:4:4 and progressive JPEGs when installed. The logic is in compare_outputs.py.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$here/compare_outputs.py" "$@"
