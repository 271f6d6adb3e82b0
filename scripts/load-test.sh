#!/usr/bin/env bash
# Load test for darkroom-server: builds the release binaries if needed (darkroom-server in the
# separate package Server/, the darkroom CLI in the root package), starts the server on a free
# loopback port, makes a 1024×1024 PNG from testimages/kodim23.jpg and runs scripts/load_test.py
# (PNG → WebP at concurrency 1, 2, 8, 32, bounded in requests and seconds, /healthz polled alongside).
# Prints a Markdown table; the server is stopped on exit. Extra arguments go to load_test.py
# (e.g. --seconds 10 --concurrency 1,32). Server options: DARKROOM_SERVER_ARGS="--workers 2 --queue-size 4".
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    swift build --package-path Server -c release --product darkroom-server >&2
    swift build -c release --product darkroom >&2
fi
bin=$(swift build -c release --show-bin-path)
server_bin=$(swift build --package-path Server -c release --show-bin-path)

work=$(mktemp -d /tmp/darkroom-load.XXXXXX)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

image="$work/input-1mp.png"
"$bin/darkroom" convert testimages/kodim23.jpg --resize '1024x1024!' -f png -o "$image" >&2

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# shellcheck disable=SC2086
"$server_bin/darkroom-server" --host 127.0.0.1 --port "$port" ${DARKROOM_SERVER_ARGS:-} >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 100); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done

echo "darkroom-server pid $server_pid on 127.0.0.1:$port, $(nproc) cores, options: ${DARKROOM_SERVER_ARGS:-defaults}" >&2
timeout 300 python3 scripts/load_test.py --port "$port" --pid "$server_pid" --image "$image" "$@"
