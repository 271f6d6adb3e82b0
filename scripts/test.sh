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
swift build --package-path Server
swift test --package-path Server "$@"
