#!/usr/bin/env bash
# CPU time (perf stat task-clock) and wall time of one `darkroom convert` process per image for
# several binaries, alternated round by round (the shared host drifts; compare same-run numbers):
#
#   Benchmarks/cpu_per_image.sh ROUNDS THREADS INPUT.jpg NAME=BINARY... [-- EXTRA CONVERT ARGS]
#
# e.g. Benchmarks/cpu_per_image.sh 15 1 photo-12mp.jpg main=/tmp/main/darkroom new=.build/release/darkroom
# Converts INPUT -> fit 4 MP (-r 4194304@) -> JPEG q80; prints min and median CPU ms and mean wall ms.
set -euo pipefail
rounds=$1; threads=$2; input=$3; shift 3
specs=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do specs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for _ in $(seq "$rounds"); do
  for spec in "${specs[@]}"; do
    name=${spec%%=*}; bin=${spec#*=}
    start=$(date +%s%N)
    perf stat -x, -e task-clock -o "$tmp/stat" "$bin" convert "$input" -r 4194304@ -q 80 --threads "$threads" \
      -o "$tmp/out.jpg" --overwrite "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo "$name $(grep task-clock "$tmp/stat" | cut -d, -f1) $(( (end - start) / 1000000 ))"
  done
done | sort -k1,1 -k2n | awk '{n[$1]++; c[$1,n[$1]]=$2; ws[$1]+=$3}
  END {for (k in n) printf "%s cpu min %.1f median %.1f ms | wall mean %.1f ms (%d runs)\n", k, c[k,1], c[k,int((n[k]+1)/2)], ws[k]/n[k], n[k]}' | sort
