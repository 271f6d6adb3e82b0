# Sourced by the scripts that run darkroom-server on loopback for a client (openai-sdk-test.sh,
# check-openapi.sh, soak.sh, load-table.sh): one way to start it on an ephemeral port and stop it.
#
#   start_server NAME LOG BINARY [ARGS...]
#       runs `BINARY --host 127.0.0.1 --port 0 ARGS...` in the background, output to LOG, and waits
#       (up to 60 s) for its start line to name the bound port: sets PID and PORT. If the server
#       exits first or never says, prints LOG and "NAME: ..." and exits 1.
#   stop_server
#       SIGTERM, then waits for it (safe to call twice; for an EXIT trap).

start_server() {
    local name=$1 log=$2 bin=$3
    shift 3
    "$bin" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
    PID=$!
    PORT=
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -1)
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
