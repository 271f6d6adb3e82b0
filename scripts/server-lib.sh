# Sourced by the scripts that run darkroom-server on loopback for a client (openai-sdk-test.sh,
# check-openapi.sh, soak.sh, load-table.sh): one way to start it on an ephemeral port and stop it.
#
#   start_server NAME LOG BINARY [ARGS...]
#       runs `BINARY --host 127.0.0.1 --port 0 ARGS...` in the background, output to LOG, and waits
#       (up to 60 s) for its start line to name the bound port: sets PID and PORT. If the server
#       exits first or never says, prints LOG and "NAME: ..." and exits 1.
#   stop_server
#       SIGTERM, then waits for it (safe to call twice; for an EXIT trap).
#   start_stub_upstream LOG [ARGS...]
#       runs scripts/stub_upstream.py ARGS... (a stub image provider for proxy mode) in the
#       background and waits for its start line: sets STUB_PID and STUB_URL (http://127.0.0.1:PORT/v1).
#   stop_stub_upstream
#       kills it (safe to call twice).

start_server() {
    local name=$1 log=$2 bin=$3
    shift 3
    "$bin" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
    PID=$!
    PORT=
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" 2>/dev/null | head -1 || true)
        [[ -n "$PORT" ]] && return 0
        kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; echo "$name: the server exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$log" >&2
    echo "$name: no start line within 60 s" >&2
    exit 1
}

stop_server() {
    if [[ -n "${PID:-}" ]] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID" 2>/dev/null || true; fi
    [[ -n "${PID:-}" ]] && wait "$PID" 2>/dev/null || true
}

start_stub_upstream() {
    local log=$1
    shift
    python3 "$(dirname "${BASH_SOURCE[0]}")/stub_upstream.py" "$@" >"$log" 2>&1 &
    STUB_PID=$!
    STUB_URL=
    for _ in $(seq 1 600); do
        STUB_URL=$(sed -n 's|^stub-upstream: listening on \(http://127\.0\.0\.1:[0-9]*/v1\)$|\1|p' "$log" 2>/dev/null | head -1 || true)
        [[ -n "$STUB_URL" ]] && return 0
        kill -0 "$STUB_PID" 2>/dev/null || { cat "$log" >&2; echo "stub upstream: exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$log" >&2
    echo "stub upstream: no start line within 60 s" >&2
    exit 1
}

stop_stub_upstream() {
    if [[ -n "${STUB_PID:-}" ]] && kill -0 "$STUB_PID" 2>/dev/null; then kill "$STUB_PID" 2>/dev/null || true; fi
    [[ -n "${STUB_PID:-}" ]] && wait "$STUB_PID" 2>/dev/null || true
}
