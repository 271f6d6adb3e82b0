#!/usr/bin/env bash
# Runs the whole test suite: installs system packages if missing, builds (the CLI tests run the
# built binary), then `swift test`. The corpus tests use ../shared/corpus when it is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift test "$@"
