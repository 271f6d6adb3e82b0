#!/usr/bin/env bash
# The test suite under sanitizers, each in its own scratch path so the normal .build stays as is.
# Each run covers the root package and then the HTTP sidecar's package, Server/ (Server/.build-asan,
# Server/.build-tsan).
#
#   scripts/sanitize.sh          both runs below
#   scripts/sanitize.sh asan     whole suite, AddressSanitizer + UndefinedBehaviorSanitizer (.build-asan)
#   scripts/sanitize.sh tsan     the tests that run work concurrently, ThreadSanitizer (.build-tsan)
#
# swiftc on Linux has no -sanitize=undefined, so UBSan is passed to the C compiler only (-Xcc):
# it instruments the C shims (CDarkroom) and the C parts of dependencies; its handlers are in the
# ASan runtime. Swift's own overflow and bounds checks trap in any build. The CLI tests run .build/debug/darkroom (not sanitized) when it exists and are
# skipped otherwise. Extra arguments go to `swift test` (e.g. --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Let the sanitizers report instead of Swift's backtracer; fail on the first UBSan report.
export SWIFT_BACKTRACE=enable=no
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Leak checking is off by default: at exit LeakSanitizer reports only allocations held by
# swift-nio's test channels (NIOEmbedded, NIOCore), NIOConcurrencyHelpers and XCTest's runner,
# none with a Darkroom frame (2026-12 run). ASAN_OPTIONS=detect_leaks=1 to see them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

# Suites whose tests run work on several threads: TaskGroup conversion, threads: resampling (root
# package); the HTTP routes and worker pool (Server/).
TSAN_FILTER='GatewayConversionTests|ResampleKernelTests'
TSAN_FILTER_SERVER='HTTPServer|HTTPHardening'

mode=${1:-all}
[[ $# -gt 0 ]] && shift
case $mode in
    asan|all|tsan) ;;
    *) echo "usage: $0 [asan|tsan|all] [swift test arguments]" >&2; exit 2 ;;
esac
if [[ $mode == asan || $mode == all ]]; then
    echo "== swift test, address + undefined" >&2
    # --disable-xctest: the suites are Swift Testing; the empty XCTest pass only reports
    # LeakSanitizer leaks inside XCTest's own runner (XCTMainMisc, XCTestSuiteRun).
    swift test --scratch-path .build-asan --sanitize=address --disable-xctest \
        -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined "$@"
    echo "== Server/: swift test, address + undefined" >&2
    swift test --package-path Server --scratch-path Server/.build-asan --sanitize=address --disable-xctest \
        -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined "$@"
fi
if [[ $mode == tsan || $mode == all ]]; then
    echo "== swift test, thread ($TSAN_FILTER)" >&2
    swift test --scratch-path .build-tsan --sanitize=thread --disable-xctest --filter "$TSAN_FILTER" "$@"
    echo "== Server/: swift test, thread ($TSAN_FILTER_SERVER)" >&2
    swift test --package-path Server --scratch-path Server/.build-tsan --sanitize=thread --disable-xctest \
        --filter "$TSAN_FILTER_SERVER" "$@"
fi
