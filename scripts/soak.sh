#!/usr/bin/env bash
# Soak test for darkroom-server: builds the release server (Server/; CONFIG=debug for the debug
# build, as CI runs it; SKIP_BUILD=1 uses the one built), starts `darkroom-server --port 0` on loopback and runs scripts/soak.py against it:
# REQUESTS mixed requests (default 20,000: valid, hostile, multi-image, proxied through a stub
# provider (scripts/stub_upstream.py), clients leaving mid-body) at CONCURRENCY 16, bounded by
# MAX_SECONDS (default 1500) and a hard timeout. Fails on a 5xx other than 503/504 (and 502 for
# proxied requests the stub fails; a 500 above all), a crash, a transport error where an answer
# was due, or quiet RSS at the end ≥ 10 % above quiet RSS after the first CHECKPOINT requests
# (default 2,000). The server is stopped with SIGTERM and must print its shutdown line. CI runs
# REQUESTS=4000 on the debug build. Extra arguments go to soak.py.
# Server options: DARKROOM_SERVER_ARGS (default: the defaults, on this machine 2 workers, queue 4).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."
# shellcheck source=scripts/server-lib.sh
source scripts/server-lib.sh
REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-16}
MAX_SECONDS=${MAX_SECONDS:-1500}
# The growth check counts from here: the server's RSS climbs from ~35 MB to its working size over
# its first requests (allocator arenas, buffers, the codecs' tables), which is not a leak.
CHECKPOINT=${CHECKPOINT:-2000}
CONFIG=${CONFIG:-release}
if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build --package-path Server -c "$CONFIG" --product darkroom-server >&2
fi
BIN=Server/.build/$CONFIG/darkroom-server
WORK=$(mktemp -d /tmp/darkroom-soak.XXXXXX)
LOG=$WORK/server.log
trap 'stop_server; stop_stub_upstream; rm -rf "$WORK"' EXIT
# Proxy mode against a stub provider on loopback, so the mix includes proxied generations and edits.
start_stub_upstream "$WORK/stub.log"
# shellcheck disable=SC2086
start_server soak "$LOG" "$BIN" --upstream "$STUB_URL" --allow-loopback-results --upstream-timeout 10 ${DARKROOM_SERVER_ARGS:-}
head -1 "$LOG" >&2
rc=0
timeout --signal=TERM --kill-after=10 $((${MAX_SECONDS%.*} + 120)) \
    python3 scripts/soak.py --port "$PORT" --pid "$PID" --requests "$REQUESTS" --concurrency "$CONCURRENCY" \
    --max-seconds "$MAX_SECONDS" --checkpoint "$CHECKPOINT" --proxy "$@" || rc=$?
if ! kill -0 "$PID" 2>/dev/null; then tail -30 "$LOG" >&2; echo "soak: the server died" >&2; exit 1; fi
kill -TERM "$PID"
wait "$PID" || { echo "soak: the server exited with status $?" >&2; exit 1; }
grep -q '^darkroom-server: shut down (drained)$' "$LOG" || { tail -20 "$LOG" >&2; echo "soak: no shutdown line" >&2; exit 1; }
exit "$rc"
