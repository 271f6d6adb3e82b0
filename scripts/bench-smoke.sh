#!/usr/bin/env bash
# Smoke run of the package-benchmark suite in Benchmarks/ (CI, from .ci/run): builds it (release, as
# `swift package benchmark` always does) and runs every benchmark once, without warm-up
# (DARKROOM_BENCH_SMOKE=1, read by Benchmarks/ResampleBenchmarks), so the suite cannot rot. The
# numbers of one iteration mean nothing; the step fails when the suite does not build, a benchmark
# crashes, or fewer benchmarks ran than the suite lists.
#
#   scripts/bench-smoke.sh                       # everything, one iteration each
#   scripts/bench-smoke.sh --filter 'lanczos3.*' # extra arguments go to `swift package benchmark`
#
# package-benchmark has no iteration option on its command line; the count is the suite's own
# configuration. Its allocation metrics use ordo-one/malloc-interposer (the MallocInterposer trait,
# own C code, no jemalloc), so no system package beyond scripts/install-deps.sh is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cd Benchmarks

# The log, and the compilers' temporaries (swift-driver leaves empty TemporaryDirectory.* folders).
work=$(mktemp -d /tmp/darkroom-bench-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
log=$work/benchmark.log
start=$SECONDS
export DARKROOM_BENCH_SMOKE=1
# The suite's own list (this also builds it).
swift package --disable-sandbox benchmark list "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
listed=$(grep -cE '(24MP|4MP)->' "$log" || true)
echo "bench-smoke: $listed benchmarks listed, built in $((SECONDS - start)) s" >&2
swift package --disable-sandbox benchmark --no-progress --time-units milliseconds "$@" >"$log" 2>&1 || {
    cat "$log" >&2
    echo "bench-smoke: FAIL (swift package benchmark exited non-zero)" >&2
    exit 1
}
# One table per benchmark, headed by its name: print each one's wall-clock time and sample count.
awk -F'│' '/(24MP|4MP)->(4MP|1MP)/ && !/│/ { name = $0 }
           /Time \(wall clock\)/ { gsub(/ /, "", $3); gsub(/ /, "", $10)
                                    printf "   %-42s %6s ms  (%s sample)\n", name, $3, $10 }' "$log"
ran=$(grep -c 'Time (wall clock)' "$log" || true)
if ((listed == 0 || ran < listed)); then
    cat "$log" >&2
    echo "bench-smoke: FAIL $ran of $listed benchmarks ran" >&2
    exit 1
fi
echo "bench-smoke: $ran benchmarks ran once each (DARKROOM_BENCH_SMOKE=1), $((SECONDS - start)) s in all"
