#!/usr/bin/env bash
# darkroom-server against the official OpenAI Python SDK (scripts/openai-sdk-test.py): builds the
# server (Server/, debug; SKIP_BUILD=1 uses the one built), makes a venv with `openai` from PyPI
# (.build-venv-openai, or DARKROOM_OPENAI_VENV), starts `darkroom-server --port 0` on loopback,
# runs the script against the port its start line names, and stops the server with SIGTERM
# (its shutdown line must follow); then scripts/openai-proxy-test.py (proxy mode: its own stub
# upstream and `darkroom-server --upstream`). Exits non-zero when a check fails or the server misbehaves.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/server-lib.sh
source scripts/server-lib.sh
VENV=${DARKROOM_OPENAI_VENV:-.build-venv-openai}
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check openai
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build --package-path Server --product darkroom-server >&2
fi
BIN=Server/.build/debug/darkroom-server
LOG=$(mktemp /tmp/darkroom-sdk-test.XXXXXX)
trap 'stop_server; rm -f "$LOG"' EXIT
start_server openai-sdk-test "$LOG" "$BIN" --max-body-bytes 8000000 --workers 2
"$VENV/bin/python" scripts/openai-sdk-test.py "http://127.0.0.1:$PORT/v1"
kill -TERM "$PID"
wait "$PID" || { echo "openai-sdk-test: the server exited with status $?" >&2; exit 1; }
grep -q '^darkroom-server: shut down (drained)$' "$LOG" || { cat "$LOG" >&2; echo "openai-sdk-test: no shutdown line" >&2; exit 1; }
echo "openai-sdk-test: $(grep -c ' request$' "$LOG" || true) requests logged; server shut down cleanly" >&2
# Proxy mode: a stub upstream and a second server with --upstream, started by the script itself.
timeout 300 "$VENV/bin/python" scripts/openai-proxy-test.py "$BIN"
