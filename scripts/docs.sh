#!/usr/bin/env bash
# Builds the library's documentation: the DocC catalogue (Sources/Darkroom/Darkroom.docc) and the
# doc comments of every public symbol, with swift-docc-plugin. Warnings (broken or ambiguous
# symbol links, unknown articles) are errors.
#
#   scripts/docs.sh             → .build/docs/Darkroom.doccarchive
#   scripts/docs.sh DIR [ARGS]  → DIR/Darkroom.doccarchive; ARGS go to docc (e.g. --hosting-base-path darkroom)
#
# The archive is ready for static hosting: serve DIR/Darkroom.doccarchive and open
# /documentation/darkroom (`python3 -m http.server -d DIR/Darkroom.doccarchive`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh   # the symbol graph is extracted from a build of the library
out="$(realpath -m "${1:-.build/docs}")"
shift || true
archive="$out/Darkroom.doccarchive"
mkdir -p "$out"
rm -rf "$archive"
swift package --disable-sandbox generate-documentation --target Darkroom --warnings-as-errors \
  --output-path "$archive" "$@"
test -f "$archive/data/documentation/darkroom.json"
echo "documentation: $archive"
