#!/usr/bin/env bash
# The load table of docs/server.md: builds the release server (SKIP_BUILD=1 uses the one built),
# starts it on a free loopback port, makes its inputs with the server itself (1 MP = 1024 × 1024 and
# 4 MP = 2048 × 2048 PNGs from testimages/kodim23.jpg, and a multipart body of four 1 MP PNGs), and
# runs scripts/load_test.py: each request kind at concurrency 1, 4, 16 and 32, each cell bounded to
# CELL_SECONDS (default 6) and 25 answered requests per client, /healthz polled every 20 ms alongside,
# peak RSS (VmHWM, reset per cell); and proxy mode: OpenAI generations forwarded to a stub provider
# (scripts/stub_upstream.py) that takes STUB_DELAY_MS (default 1000) per generation and answers a
# 1024 × 1024 PNG, converted to WebP. Prints one Markdown table; the whole run takes about 5 minutes
# on 2 cores. Server options: DARKROOM_SERVER_ARGS (default: the defaults). Extra arguments go to
# load_test.py (e.g. --concurrency 1,32).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.."
# shellcheck source=scripts/server-lib.sh
source scripts/server-lib.sh
SECONDS_PER_CELL=${CELL_SECONDS:-6}
if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build --package-path Server -c release --product darkroom-server >&2
fi
BIN=Server/.build/release/darkroom-server
WORK=$(mktemp -d /tmp/darkroom-load-table.XXXXXX)
LOG=$WORK/server.log
trap 'stop_server; stop_stub_upstream; rm -rf "$WORK"' EXIT
start_stub_upstream "$WORK/stub.log" --delay-ms "${STUB_DELAY_MS:-1000}"
# shellcheck disable=SC2086
start_server load-table "$LOG" "$BIN" --no-request-log --upstream "$STUB_URL" --allow-loopback-results ${DARKROOM_SERVER_ARGS:-}
head -1 "$LOG" >&2
python3 - "$PORT" "$WORK" <<'PY'
import http.client, sys
port, work = int(sys.argv[1]), sys.argv[2]
source = open("testimages/kodim23.jpg", "rb").read()
def convert(query):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", "/v1/convert?" + query, source, {"Content-Type": "application/octet-stream"})
    r = c.getresponse(); body = r.read()
    assert r.status == 200, (r.status, body[:300])
    return body
one = convert("output_format=png&resize=1024x1024!")
four = convert("output_format=png&resize=2048x2048!")
open(f"{work}/1mp.png", "wb").write(one)
open(f"{work}/4mp.png", "wb").write(four)
boundary = "darkroomloadtable"
parts = b""
for i in range(4):
    parts += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"{i}.png\"\r\n"
              "Content-Type: image/png\r\n\r\n").encode() + one + b"\r\n"
for name, value in [("output_format", "webp"), ("output_compression", "80")]:
    parts += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
parts += f"--{boundary}--\r\n".encode()
open(f"{work}/multi.bin", "wb").write(parts)
open(f"{work}/generation.json", "w").write('{"model":"flux-2","prompt":"large","output_format":"webp","output_compression":80}')
print(f"inputs: 1 MP PNG {len(one)} bytes, 4 MP PNG {len(four)} bytes, multipart {len(parts)} bytes", file=sys.stderr)
PY
echo "darkroom-server pid $PID on 127.0.0.1:$PORT, $(nproc) cores, options: ${DARKROOM_SERVER_ARGS:-defaults}" >&2
MP="multipart/form-data; boundary=darkroomloadtable"
timeout 900 python3 scripts/load_test.py --port "$PORT" --pid "$PID" --concurrency 1,4,16,32 \
    --seconds "$SECONDS_PER_CELL" --requests-per-client 25 --min-requests 10 \
    --scenario "1 MP PNG → WebP q80|/v1/convert?output_format=webp&output_compression=80|$WORK/1mp.png" \
    --scenario "1 MP PNG → AVIF q60|/v1/convert?output_format=avif&output_compression=60|$WORK/1mp.png" \
    --scenario "4 MP PNG → WebP q80|/v1/convert?output_format=webp&output_compression=80|$WORK/4mp.png" \
    --scenario "4 MP PNG → AVIF q60|/v1/convert?output_format=avif&output_compression=60|$WORK/4mp.png" \
    --scenario "4 × 1 MP PNG → WebP q80, one multipart request|/v1/images/convert|$WORK/multi.bin|$MP" \
    --scenario "proxied generation (stub ${STUB_DELAY_MS:-1000} ms, 1 MP PNG) → WebP q80|/v1/images/generations|$WORK/generation.json|application/json" \
    "$@"
