#!/usr/bin/env bash
# Quick start: converts the bundled photo into PNG, JPEG, WebP, AVIF and GIF in ./demo-out
# and lists what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# --static-swift-stdlib: the Swift runtime linked in, so each run starts in about half the time
# (docs/performance.md, "Start time and footprint").
swift build -c release --product darkroom --static-swift-stdlib >&2
mkdir -p demo-out
for format in png jpeg webp avif gif; do
  .build/release/darkroom convert testimages/kodim23.jpg -f "$format" --out-dir demo-out --overwrite
done
ls -l demo-out
