#!/usr/bin/env python3
"""darkroom-server's proxy mode with the official OpenAI Python SDK as the client
(scripts/openai-sdk-test.sh runs it after openai-sdk-test.py).

Usage: openai-proxy-test.py DARKROOM_SERVER_BINARY

Starts a stub upstream (a standard-library HTTP server on 127.0.0.1 that answers like a provider:
b64_json PNGs, url results served by itself, errors, slow answers; it counts the generations and
records what the edits carried), then `darkroom-server --port 0 --upstream http://127.0.0.1:STUB/v1
--allow-loopback-results --upstream-timeout 2`, and drives it with `client.images.generate(...)` and
`client.images.edit(image=[...])`, nothing Darkroom-specific but `base_url`. Asserts the converted
bytes (format sniffed, dimensions), `usage` passed through, the SDK's exception class and `e.code`,
that a 502/504 is not retried by the SDK (its default max_retries=2: the stub counts exactly one
generation), that references over 4 MP arrive at the stub at 4 MP with the mask resized as the
first, and that the Authorization header reaches the upstream and not the result host. Then stops
the server with SIGTERM. Exits non-zero on the first failure.
"""
import base64
import email.parser
import email.policy
import importlib.util
import json
import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("sdk_test", HERE / "openai-sdk-test.py")
sdk_test = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sdk_test)
sniff, dimensions = sdk_test.sniff, sdk_test.dimensions
JPEG = sdk_test.JPEG  # 768 x 512
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise SystemExit(f"openai-proxy-test: FAILED: {what}")


def make_png(width, height, alpha=False):
    """A PNG of a simple pattern, written with zlib (no imaging library needed)."""
    channels = 4 if alpha else 3
    row = bytes((x * 7 + c * 50) & 0xFF for x in range(width) for c in range(channels))
    raw = b"".join(b"\0" + row[y % 3:] + row[: y % 3] for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


GENERATED = make_png(640, 480)
USAGE = {"input_tokens": 50, "output_tokens": 4160, "total_tokens": 4210,
         "input_tokens_details": {"image_tokens": 0, "text_tokens": 50}}


class Stub:
    """What the stub upstream saw."""
    def __init__(self):
        self.lock = threading.Lock()
        self.generations = 0
        self.edits = []          # [(part name, (w, h), format)] per edit
        self.auth = {}           # path -> [Authorization]


STATE = Stub()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json", headers=()):
        data = json.dumps(body).encode() if content_type == "application/json" else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the slow answer: Darkroom gave up at --upstream-timeout and closed the connection

    def record(self):
        with STATE.lock:
            STATE.auth.setdefault(self.path, []).append(self.headers.get("Authorization"))

    def do_GET(self):
        self.record()
        if self.path == "/files/result.png":
            self.answer(200, GENERATED, "image/png")
        elif self.path == "/files/redirect":
            self.answer(302, b"", "text/plain", [("Location", "http://169.254.169.254/latest/meta-data/")])
        else:
            self.answer(404, {"error": {"message": "no such file", "type": "invalid_request_error", "param": None, "code": None}})

    def do_POST(self):
        self.record()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/v1/images/generations":
            request = json.loads(body)
            with STATE.lock:
                STATE.generations += 1
            prompt = request.get("prompt", "")
            if "output_format" in request or "output_compression" in request:
                self.answer(400, {"error": {"message": "Darkroom forwarded its own field", "type": "invalid_request_error",
                                            "param": "output_format", "code": "unknown_parameter"}})
            elif prompt == "fail":
                self.answer(500, {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}})
            elif prompt == "moderated":
                self.answer(400, {"error": {"message": "Your request was rejected by the safety system.",
                                            "type": "image_generation_user_error", "param": None, "code": "moderation_blocked"}})
            elif prompt == "slow":
                time.sleep(4)
                self.answer(200, {"created": 1, "data": [{"b64_json": base64.b64encode(GENERATED).decode()}]})
            elif prompt == "url":
                self.answer(200, {"created": 1700000000, "data": [{"url": f"{base}/files/result.png"}], "usage": USAGE})
            elif prompt == "redirect":
                self.answer(200, {"created": 1, "data": [{"url": f"{base}/files/redirect"}]})
            else:
                n = request.get("n", 1)
                self.answer(200, {"created": 1700000000, "usage": USAGE,
                                  "data": [{"b64_json": base64.b64encode(GENERATED).decode(), "revised_prompt": prompt}] * n})
        elif self.path == "/v1/images/edits":
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            parts = []
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True)
                if part.get_filename():
                    parts.append((name, dimensions(data), sniff(data)))
            with STATE.lock:
                STATE.edits.append(parts)
            self.answer(200, {"created": 1700000001, "usage": USAGE,
                              "data": [{"b64_json": base64.b64encode(GENERATED).decode()}]})
        else:
            self.answer(404, {"error": {"message": "no such route", "type": "invalid_request_error", "param": None, "code": None}})


def expect_error(call, exception, status, code, param=None):
    try:
        call()
    except openai.APIStatusError as e:
        check(type(e) is exception, f"{code}: raised {type(e).__name__}, expected {exception.__name__}")
        check(e.status_code == status, f"{code}: status {e.status_code}, expected {status}")
        check(e.code == code, f"{code}: e.code is {e.code!r}")
        check(e.param == param, f"{code}: e.param is {e.param!r}")
        return e
    raise SystemExit(f"openai-proxy-test: FAILED: {code}: no exception")


def images(response):
    return [base64.b64decode(item.b64_json) for item in response.data]


def main():
    binary = sys.argv[1]
    stub = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    server = subprocess.Popen([binary, "--port", "0", "--workers", "2", "--max-body-bytes", "40000000", "--upstream", stub_url,
                               "--allow-loopback-results", "--upstream-timeout", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        start = server.stdout.readline()
        check("listening on http://127.0.0.1:" in start and f"upstream {stub_url}" in start, f"start line: {start!r}")
        port = int(start.split("listening on http://127.0.0.1:")[1].split(" ")[0])
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()  # drain the request log
        run(f"http://127.0.0.1:{port}/v1")
    finally:
        server.terminate()
        server.wait(timeout=30)
        stub.shutdown()
    check(server.returncode == 0, f"the server exited with status {server.returncode}")
    print(f"openai-proxy-test: {checks} checks passed (openai {openai.__version__}, stub upstream {stub_url})")


def run(base_url):
    # The SDK as a gateway would use it: default retries (2), only base_url changed.
    client = openai.OpenAI(base_url=base_url, api_key="sk-proxy-test", timeout=60)

    # 1. generate: the upstream's b64_json PNG converted to WebP; usage passed through.
    r = client.images.generate(model="gpt-image-1", prompt="a parrot", n=2, size="1024x1024",
                               output_format="webp", output_compression=70)
    out = images(r)
    check([sniff(b) for b in out] == ["webp", "webp"], f"generate: WebP out: {[sniff(b) for b in out]}")
    check([dimensions(b) for b in out] == [(640, 480)] * 2, f"generate: sizes {[dimensions(b) for b in out]}")
    check(r.usage is not None and r.usage.total_tokens == 4210 and r.usage.output_tokens == 4160, f"generate: usage {r.usage}")
    check(r.output_format == "webp" and r.created == 1700000000, f"generate: output_format {r.output_format}, created {r.created}")
    check(r.data[0].revised_prompt == "a parrot", "generate: revised_prompt passed through")
    check(r.model_extra["darkroom"]["billed_mp"] == 2, f"generate: billed {r.model_extra['darkroom']}")
    check(STATE.auth["/v1/images/generations"][-1] == "Bearer sk-proxy-test", "generate: Authorization reached the upstream")

    # 2. a url result, downloaded by Darkroom (loopback allowed by the test flag), to JPEG; the
    # result host never sees the client's Authorization.
    r = client.images.generate(model="gpt-image-1", prompt="url", output_format="jpeg", output_compression=80)
    (jpeg,) = images(r)
    check(sniff(jpeg) == "jpeg" and dimensions(jpeg) == (640, 480), f"url: {sniff(jpeg)} {dimensions(jpeg)}")
    check(r.usage.total_tokens == 4210, "url: usage")
    check(STATE.auth["/files/result.png"] == [None], f"url: the result host saw {STATE.auth['/files/result.png']}")
    # Default output: PNG.
    (png,) = images(client.images.generate(model="gpt-image-1", prompt="plain"))
    check(sniff(png) == "png", "generate: PNG by default")

    # 3. Errors: class and code; 502/504 after the upstream are not retried (exactly one generation each).
    for prompt, status, code, exception in [("fail", 502, "upstream_error", openai.InternalServerError),
                                            ("slow", 504, "upstream_timeout", openai.InternalServerError),
                                            ("redirect", 502, "upstream_result_refused", openai.InternalServerError)]:
        before = STATE.generations
        began = time.monotonic()
        e = expect_error(lambda: client.images.generate(model="gpt-image-1", prompt=prompt), exception, status, code,
                         "data[0]" if prompt == "redirect" else None)
        check(e.response.headers.get("x-should-retry") == "false", f"{prompt}: x-should-retry: false")
        check(STATE.generations - before == 1, f"{prompt}: {STATE.generations - before} generations at the stub, expected 1 (no retry)")
        check(time.monotonic() - began < 10, f"{prompt}: answered in {time.monotonic() - began:.1f} s")
    expect_error(lambda: client.images.generate(model="gpt-image-1", prompt="moderated"),
                 openai.BadRequestError, 400, "moderation_blocked")
    before = STATE.generations
    expect_error(lambda: client.images.generate(model="gpt-image-1", prompt="x", stream=True),
                 openai.BadRequestError, 400, "unsupported_value", "stream")
    expect_error(lambda: client.images.generate(model="gpt-image-1", prompt="x", output_format="bmp"),
                 openai.BadRequestError, 400, "invalid_value", "output_format")
    check(STATE.generations == before, "refusals before the upstream: no generation")

    # 4. edit: two references (one 4.5 MP) and a mask; at the stub the big one is 4 MP and the mask follows it.
    big = make_png(2600, 1734)
    mask = make_png(2600, 1734, alpha=True)
    r = client.images.edit(model="gpt-image-1", prompt="add a hat", image=[("big.png", big, "image/png"),
                                                                          ("small.jpg", JPEG, "image/jpeg")],
                           mask=("mask.png", mask, "image/png"), output_format="webp", output_compression=60)
    (edited,) = images(r)
    check(sniff(edited) == "webp" and dimensions(edited) == (640, 480), f"edit: {sniff(edited)} {dimensions(edited)}")
    check(r.usage.total_tokens == 4210, "edit: usage")
    parts = STATE.edits[-1]
    check([p[0] for p in parts] == ["image[]", "image[]", "mask"], f"edit: parts at the stub {parts}")
    (w, h) = parts[0][1]
    check(w * h <= 4_194_304 and (w, h) == (2507, 1672), f"edit: 4.5 MP reference arrived at {w}x{h}")
    check(parts[1][1] == (768, 512) and parts[1][2] == "jpeg", f"edit: the small one untouched {parts[1]}")
    check(parts[2][1] == (w, h) and parts[2][2] == "png", f"edit: mask {parts[2]} as the first image")
    check(r.model_extra["darkroom"]["references_billed_mp"] == 5, f"edit: references billed {r.model_extra['darkroom']}")
    check(STATE.auth["/v1/images/edits"][-1] == "Bearer sk-proxy-test", "edit: Authorization reached the upstream")


if __name__ == "__main__":
    main()
