#!/usr/bin/env bash
# Issue #10: the peak memory of JPEG or PNG -> fit 4 MP -> JPEG q80 is flat in the input's pixel
# count (a resized JPEG or PNG is streamed into the resampler and the output rows into the encoder;
# no full-size buffer exists). Makes a 24 MP and a 100 MP JPEG and PNG, converts each in its own
# process under /usr/bin/time, prints the peak RSS of each (and of `darkroom --version`, the process
# baseline) and fails when the 100 MP one is over 1.3x the 24 MP one. The input file itself is read
# whole into memory (a 100 MP PNG is 17 MB against 6.7 MB at 24 MP): the check is on the memory
# beyond the input's bytes; the raw ratio is printed too.
#   scripts/memory-flat.sh            # uses (or builds) .build/release/darkroom
#   DARKROOM=path/to/darkroom scripts/memory-flat.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DARKROOM:-.build/release/darkroom}
if [ ! -x "$B" ]; then swift build -c release --product darkroom --static-swift-stdlib >&2; fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# Inputs: the bundled photo enlarged (the content does not matter for memory, only the pixel count),
# as JPEG and as PNG: both stream their rows into the resampler.
printf '%-40s %10s\n' "run" "peak RSS"
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
base=$(rss "$B" --version)
printf '%-40s %7d KB\n' "darkroom --version (baseline)" "$base"
status=0
for fmt in jpeg png; do
  "$B" convert testimages/kodim23.jpg -r '6000x4000!' -f "$fmt" -q 92 -o "$T/24mp.$fmt" 2>/dev/null
  "$B" convert testimages/kodim23.jpg -r '12000x8400!' -f "$fmt" -q 92 -o "$T/100mp.$fmt" 2>/dev/null
  r24=$(rss "$B" convert "$T/24mp.$fmt" -r 4194304@ -f jpeg -q 80 -o "$T/a.jpg" --overwrite)
  r100=$(rss "$B" convert "$T/100mp.$fmt" -r 4194304@ -f jpeg -q 80 -o "$T/b.jpg" --overwrite)
  s24=$(( $(stat -c %s "$T/24mp.$fmt") / 1024 )); s100=$(( $(stat -c %s "$T/100mp.$fmt") / 1024 ))
  printf '%-40s %7d KB (input file %d KB)\n' "24 MP (6000x4000) $fmt -> 4 MP JPEG" "$r24" "$s24" \
      "100 MP (12000x8400) $fmt -> 4 MP JPEG" "$r100" "$s100"
  raw=$(awk -v a="$r100" -v b="$r24" 'BEGIN { printf "%.2f", a / b }')
  ratio=$(awk -v a="$r100" -v b="$r24" -v sa="$s100" -v sb="$s24" 'BEGIN { printf "%.2f", (a - sa) / (b - sb) }')
  echo "$fmt: 100 MP / 24 MP = $ratio beyond the input bytes (limit 1.30); raw $raw"
  awk -v r="$ratio" 'BEGIN { exit !(r <= 1.30) }' || status=1
  rm -f "$T"/*mp.$fmt
done
exit $status
