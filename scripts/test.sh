#!/usr/bin/env bash
# Runs the whole test suite: installs system packages if missing, builds (the CLI tests run the
# built binary), then `swift test`; then the same for the HTTP sidecar, the separate package Server/
# (its own .build, Server/.build). The corpus tests use ../shared/corpus when it is present.
# Extra arguments go to both `swift test` runs (e.g. --filter; a filter that matches nothing in one
# package runs no test there).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift test "$@"
echo "== Server/ (darkroom-server, DarkroomHTTP)" >&2
# One build for the executable and the tests (--build-tests), instead of `swift build` and then
# `swift test` compiling the whole Hummingbird/NIO tree a second time with testing enabled.
swift build --package-path Server --build-tests
swift test --package-path Server --skip-build "$@"
