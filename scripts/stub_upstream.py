#!/usr/bin/env python3
"""A stub OpenAI-compatible image provider for darkroom-server's proxy mode under load
(scripts/soak.sh and scripts/load-table.sh start it; Python 3 standard library only).

Usage: stub_upstream.py [--port 0] [--delay-ms 0]

Listens on 127.0.0.1 (port 0: a free one), prints `stub-upstream: listening on
http://127.0.0.1:PORT/v1` and serves until killed:

- POST /v1/images/generations (JSON): by `prompt`: `url` answers a result URL served here;
  `fail` answers 500; `moderated` answers 400 `moderation_blocked`; `broken` answers a
  `b64_json` that is no image; `large` answers a 1024x1024 PNG; anything else answers `n`
  (1-4) 256x256 PNGs as `b64_json`, with `usage`.
- POST /v1/images/edits (multipart): one 256x256 PNG as `b64_json` (the body is read, not parsed).
- GET /files/result.png: a 320x240 PNG.

Every answer waits --delay-ms first (a provider's generation time, default none).
scripts/openai-proxy-test.py has its own stub, which records what it was sent for its assertions.
"""
import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import png  # noqa: E402  (the soak's PNG writer: zlib only)

SMALL = base64.b64encode(png(256, 256, 3)).decode()
LARGE = base64.b64encode(png(1024, 1024, 5)).decode()
RESULT = png(320, 240, 7)
USAGE = {"input_tokens": 12, "output_tokens": 1056, "total_tokens": 1068,
         "input_tokens_details": {"image_tokens": 0, "text_tokens": 12}}
DELAY = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = json.dumps(body).encode() if content_type == "application/json" else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        time.sleep(DELAY)
        if self.path == "/files/result.png":
            self.answer(200, RESULT, "image/png")
        else:
            self.answer(404, {"error": {"message": "no such file", "type": "invalid_request_error", "param": None, "code": None}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        time.sleep(DELAY)
        if self.path == "/v1/images/generations":
            try:
                request = json.loads(body)
            except ValueError:
                request = {}
            prompt = request.get("prompt", "") if isinstance(request, dict) else ""
            n = request.get("n", 1) if isinstance(request, dict) else 1
            n = n if isinstance(n, int) and 1 <= n <= 4 else 1
            if prompt == "url":
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                self.answer(200, {"created": 1700000000, "data": [{"url": f"{base}/files/result.png"}], "usage": USAGE})
            elif prompt == "fail":
                self.answer(500, {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}})
            elif prompt == "moderated":
                self.answer(400, {"error": {"message": "Your request was rejected by the safety system.",
                                            "type": "image_generation_user_error", "param": None, "code": "moderation_blocked"}})
            elif prompt == "broken":
                self.answer(200, {"created": 1, "data": [{"b64_json": base64.b64encode(b"no image here").decode()}]})
            else:
                image = LARGE if prompt == "large" else SMALL
                self.answer(200, {"created": 1700000000, "usage": USAGE, "data": [{"b64_json": image}] * n})
        elif self.path == "/v1/images/edits":
            self.answer(200, {"created": 1700000001, "usage": USAGE, "data": [{"b64_json": SMALL}]})
        else:
            self.answer(404, {"error": {"message": "no such route", "type": "invalid_request_error", "param": None, "code": None}})


def main():
    global DELAY
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    DELAY = args.delay_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"stub-upstream: listening on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
