#!/usr/bin/env python3
"""Soak test for darkroom-server (Python 3 standard library only).

Sends REQUESTS mixed requests (default 20,000) at CONCURRENCY (default 16) client threads to a
running server, stopping early at MAX_SECONDS, and fails (exit 1) on:

- any 5xx other than 503 (overload, with Retry-After) and 504 (a conversion past its time limit),
  above all a 500;
- a crash: the server process gone, or /healthz not answering 200 at the end;
- a transport error on a request that should have been answered (a reset or an early close
  where the client did nothing wrong);
- RSS growth: VmRSS (from /proc/PID/status) at the end at least 10 % above VmRSS after the first
  CHECKPOINT requests (default 2,000; a leak shows there first). Both are read with the server
  quiet (no request in flight, the pool idle and its memory trimmed, then a second's pause), so
  they compare like with like rather than whatever images happened to be in flight; the glibc
  heap in use (`darkroom_heap_in_use_bytes` on /metrics) is read at the same moments and
  printed beside them: growth there is a leak, growth in RSS alone is fragmentation.

The mix (weights below; images are mostly small, from testimages/ and made here):
valid conversions on every route (raw and multipart, 1-6 images per multipart request, every
output format), hostile requests (bad field values, unknown fields, +80, truncated images, bytes
that are no image, wrong and missing content types, malformed multipart, duplicated JSON keys,
oversize headers, a declared body over --max-body-bytes, unknown paths and methods), probes
(/healthz, /readyz, /metrics, /openapi.json), clients that leave mid-body (a declared body,
part of it sent, then the socket closed; nothing is read), and with --proxy (the server in proxy
mode in front of scripts/stub_upstream.py) proxied generations and edits, some of which the stub
fails (500, a result that is no image: 502 is then the expected answer).

A 503 makes that client wait a little (not the whole Retry-After: the point is volume), and is
counted. Prints the statuses seen per kind, requests/s, and RSS at 10 % and at the end; with
--json FILE also writes them as JSON. Run through scripts/soak.sh, which builds and starts the
server.
"""
import argparse
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import zlib

# ---------------------------------------------------------------- images


def png(width, height, seed, alpha=False):
    """A small PNG made here: a gradient with some noise (so encoders have work to do)."""
    rng = random.Random(seed)
    channels = 4 if alpha else 3
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            r = (x * 255 // max(1, width - 1)) ^ rng.randrange(16)
            g = (y * 255 // max(1, height - 1)) ^ rng.randrange(16)
            b = ((x + y) * 3) & 0xFF
            row += bytes([r, g, b] + ([255 - (x & 0x7F)] if alpha else []))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def load_images(directory):
    images = []
    for size, alpha in [((32, 32), False), ((64, 48), True), ((128, 96), False), ((200, 150), True), ((256, 256), False),
                        ((96, 128), False)]:
        images.append(("png", png(size[0], size[1], seed=size[0] * 7 + size[1], alpha=alpha)))
    for name in ["hopper.jpg", "gray.jpg", "hopper-orientation-6.jpg", "rgba.png", "palette-trns.png", "rgb16.png",
                 "gray16.png", "cmyk.jpg"]:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                images.append((name.rsplit(".", 1)[1], f.read()))
    large = None
    path = os.path.join(directory, "kodim23.jpg")
    if os.path.exists(path):
        with open(path, "rb") as f:
            large = f.read()  # 768 x 512, sent now and then
    return images, large


# ---------------------------------------------------------------- requests


class Outcome:
    """What one request got: an HTTP status, or a transport error, or 'left' (the client left)."""

    def __init__(self, status=None, error=None, left=False):
        self.status, self.error, self.left = status, error, left


def multipart(parts, boundary=None):
    boundary = boundary or "soak%016x" % random.getrandbits(64)
    out = bytearray()
    for name, value, is_file in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        if is_file:
            out += f'Content-Disposition: form-data; name="{name}"; filename="{name}.bin"\r\n'.encode()
            out += b"Content-Type: application/octet-stream\r\n\r\n" + value + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class Client:
    """One keep-alive connection; a request on a connection the server has closed is sent again once
    on a new one (the server closes after an answer whose body it did not read)."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.connection = None
        self.reconnects = 0

    def _connect(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            fresh = self.connection is None
            if fresh:
                self._connect()
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    self.connection.close()
                    self.connection = None
                return Outcome(status=response.status), response, data
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError) as error:
                self.connection.close()
                self.connection = None
                if fresh or attempt == 1:
                    return Outcome(error=type(error).__name__), None, b""
                self.reconnects += 1
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = None
                return Outcome(error=type(error).__name__), None, b""
        return Outcome(error="unreachable"), None, b""

    def close(self):
        if self.connection is not None:
            self.connection.close()


def raw_exchange(host, port, data, timeout, read=True, close_after=None):
    """Sends bytes on a new socket; returns the status line's code (or an error, or left)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if close_after is not None:
            sock.sendall(data[:close_after])
            time.sleep(random.uniform(0, 0.05))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)) if random.random() < 0.5 else None
            return Outcome(left=True)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (and close) before it has read everything sent
        if not read:
            return Outcome(left=True)
        buffer = b""
        while b"\r\n" not in buffer and len(buffer) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buffer += chunk
        if buffer.startswith(b"HTTP/1.1 100"):
            while b"\r\n\r\n" not in buffer and len(buffer) < 8192:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
            buffer = buffer.split(b"\r\n\r\n", 1)[-1]
            while b"\r\n" not in buffer and len(buffer) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
        if not buffer.startswith(b"HTTP/1."):
            return Outcome(error="no answer")
        return Outcome(status=int(buffer.split(b" ", 2)[1]))
    except (ConnectionResetError, BrokenPipeError) as error:
        return Outcome(error=type(error).__name__)
    finally:
        sock.close()


class Mix:
    """Builds each request kind; `expect_answer` is False for kinds where no answer (or a reset) is
    a correct outcome."""

    def __init__(self, images, large, max_body, proxy=False):
        self.images, self.large, self.max_body, self.proxy = images, large, max_body, proxy

    def image(self, rng, allow_large=True):
        if allow_large and self.large and rng.random() < 0.03:
            return self.large
        return rng.choice(self.images)[1]

    def kinds(self):
        # (name, weight, expect_answer)
        return [
            ("convert_raw", 26, True), ("convert_multipart", 14, True), ("convert_multi_image", 6, True),
            ("references_multipart", 6, True), ("references_raw", 4, True), ("size_json", 4, True), ("probe", 6, True),
            ("bad_fields", 7, True), ("truncated_image", 4, True), ("not_an_image", 3, True), ("wrong_content_type", 3, True),
            ("bad_multipart", 3, True), ("duplicate_json_key", 2, True), ("too_large_declared", 2, True),
            ("unknown_route_or_method", 2, True), ("oversize_headers", 2, False), ("expect_continue", 2, True),
            ("leave_mid_body", 4, False),
        ] + ([("proxy_generation", 6, True), ("proxy_edit", 3, True)] if self.proxy else [])

    def run(self, kind, rng, client, host, port, timeout):
        if kind == "convert_raw":
            fmt = rng.choice(["webp", "jpeg", "png", "avif", "gif", "webp", "jpeg"])
            query = f"output_format={fmt}&output_compression={rng.randrange(0, 101)}"
            if rng.random() < 0.3:
                query += "&resize=" + rng.choice(["50%25", "64x64", "200x200", "0.05mp"])
            if fmt != "jpeg" and rng.random() < 0.2:
                query += "&background=" + rng.choice(["opaque", "transparent", "auto"])
            return client.request("POST", "/v1/convert?" + query, self.image(rng), {"Content-Type": "application/octet-stream"})
        if kind in ("convert_multipart", "convert_multi_image"):
            count = 1 if kind == "convert_multipart" else rng.randrange(2, 7)
            name = "image" if count == 1 and rng.random() < 0.5 else "image[]"
            parts = [(name, self.image(rng, allow_large=count == 1), True) for _ in range(count)]
            parts.append(("output_format", rng.choice(["webp", "jpeg", "png", "avif"]), False))
            parts.append(("output_compression", str(rng.randrange(0, 101)), False))
            if rng.random() < 0.3:
                parts.append(("size", rng.choice(["64x64", "128x128", "auto", "300x200"]), False))
            if rng.random() < 0.3:
                parts += [("model", "gpt-image-1", False), ("prompt", "soak", False)]
            if count == 1 and rng.random() < 0.2:
                parts.append(("response_format", "binary", False))
            body, content_type = multipart(parts)
            return client.request("POST", "/v1/images/convert", body, {"Content-Type": content_type})
        if kind == "references_multipart":
            count = rng.randrange(1, 5)
            parts = [("image[]", self.image(rng, allow_large=False) if rng.random() < 0.85 else b"not an image at all", True)
                     for _ in range(count)]
            parts.append(("format", rng.choice(["keep", "png", "jpeg", "webp"]), False))
            if rng.random() < 0.3:
                parts.append(("max_mp", rng.choice(["0.01", "1", "4"]), False))
            body, content_type = multipart(parts)
            return client.request("POST", "/v1/images/references", body, {"Content-Type": content_type})
        if kind == "references_raw":
            query = "max_mp=" + rng.choice(["0.01", "0.05", "4"]) + "&format=" + rng.choice(["keep", "png", "jpeg", "webp"])
            return client.request("POST", "/v1/references?" + query, self.image(rng), {"Content-Type": "application/octet-stream"})
        if kind == "size_json":
            body = rng.choice(['{"size":"1024x1024"}', '{"aspect_ratio":"16:9","resolution":"2K"}', '{"resolution":4}',
                               '{"size":"big"}', '{"size":"16:9"}', '[1,2]', '{"n":11}'])
            profile = rng.choice(["flux2", "openai", "generic"])
            return client.request("POST", f"/v1/size?profile={profile}", body.encode(), {"Content-Type": "application/json"})
        if kind == "probe":
            return client.request("GET", rng.choice(["/healthz", "/readyz", "/metrics", "/openapi.json", "/healthz"]))
        if kind == "bad_fields":
            query = rng.choice(["output_format=bmp", "output_compression=101", "output_compression=%2B80", "output_compression=-1",
                                "output_fromat=webp", "output_format=webp&output_format=png", "resize=16000x16000!",
                                "background=transparent&output_format=jpeg", "fail_on=sometimes", "resize=1x99999999",
                                "output_compression=80.0", "strict=maybe", "n=0", "=x"])
            if rng.random() < 0.5:
                return client.request("POST", "/v1/convert?" + query, self.image(rng, False), {"Content-Type": "application/octet-stream"})
            name, value = rng.choice([("output_format", "bmp"), ("output_compression", "+80"), ("size", "big"), ("n", "2"),
                                      ("stream", "true"), ("response_format", "url"), ("output_fromat", "webp"), ("strict", "yes")])
            body, content_type = multipart([("image", self.image(rng, False), True), (name, value, False)])
            return client.request("POST", "/v1/images/convert", body, {"Content-Type": content_type})
        if kind == "truncated_image":
            data = self.image(rng)
            cut = data[: rng.randrange(8, max(9, len(data) * 3 // 4))]
            query = "output_format=webp" + ("&fail_on=none" if rng.random() < 0.3 else "")
            return client.request("POST", "/v1/convert?" + query, cut, {"Content-Type": "application/octet-stream"})
        if kind == "not_an_image":
            data = rng.choice([b"", b"hello", os.urandom(rng.randrange(1, 4096)), b"\x89PNG\r\n\x1a\n" + os.urandom(64),
                               b"GIF89a" + os.urandom(32), b"RIFF\x00\x00\x00\x00WEBPVP8 " + os.urandom(40)])
            if rng.random() < 0.5:
                return client.request("POST", "/v1/convert?output_format=png", data, {"Content-Type": "application/octet-stream"})
            body, content_type = multipart([("image", data, True)])
            return client.request("POST", "/v1/images/convert", body, {"Content-Type": content_type})
        if kind == "wrong_content_type":
            ct = rng.choice(["application/json", "text/plain", "multipart/form-data", "multipart/mixed; boundary=x", None])
            headers = {"Content-Type": ct} if ct else {}
            return client.request("POST", rng.choice(["/v1/images/convert", "/v1/images/references"]), self.image(rng, False), headers)
        if kind == "bad_multipart":
            boundary = "soakboundary"
            body = rng.choice([
                b"--soakboundary\r\nno colon here\r\n\r\nx\r\n--soakboundary--\r\n",
                b"--soakboundary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\n" + self.image(rng, False),
                b"no boundary at all",
                b"--soakboundary\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ntext\r\n--soakboundary--\r\n",
                b"--soakboundary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--soakboundary--\r\n",
            ])
            return client.request("POST", "/v1/images/convert", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if kind == "duplicate_json_key":
            body = rng.choice(['{"size":"1024x1024","size":"16x16"}', '{"size":+1}', '{"size":"1024x1024",}', '{'])
            return client.request("POST", "/v1/size", body.encode(), {"Content-Type": "application/json"})
        if kind == "too_large_declared":
            head = (f"POST /v1/convert HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                    f"Content-Length: {self.max_body + rng.randrange(1, 10**9)}\r\n\r\n").encode()
            return raw_exchange(host, port, head + b"\x89PNG", timeout), None, b""
        if kind == "unknown_route_or_method":
            method, path = rng.choice([("GET", "/v1/convert"), ("DELETE", "/v1/images/convert"), ("GET", "/nope"),
                                       ("POST", "/healthz"), ("PUT", "/v1/size"), ("GET", "/v1/images/generations")])
            return client.request(method, path)
        if kind == "oversize_headers":
            big = "a" * rng.choice([9000, 70000, 120000])
            head = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n".encode()
            return raw_exchange(host, port, head, timeout), None, b""
        if kind == "expect_continue":
            data = self.image(rng)
            head = (f"POST /v1/convert?output_format=webp HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                    f"Content-Length: {len(data)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").encode()
            return raw_exchange(host, port, head + data, timeout), None, b""
        if kind == "leave_mid_body":
            data = self.image(rng)
            if rng.random() < 0.5:
                body, content_type = multipart([("image[]", data, True), ("image[]", data, True)])
                path = "/v1/images/convert"
            else:
                body, content_type = data, "application/octet-stream"
                path = "/v1/convert?output_format=webp"
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            return raw_exchange(host, port, head + body, timeout, close_after=len(head) + rng.randrange(0, max(1, len(body) - 1))), None, b""
        if kind == "proxy_generation":
            prompt = rng.choices(["a parrot", "url", "large", "fail", "moderated", "broken"], [60, 15, 5, 8, 6, 6])[0]
            fields = {"model": "flux-2", "prompt": prompt, "n": rng.randrange(1, 4),
                      "output_format": rng.choice(["webp", "jpeg", "png", "avif", "gif"])}
            if fields["output_format"] in ("webp", "jpeg", "avif") and rng.random() < 0.7:
                fields["output_compression"] = rng.randrange(0, 101)
            if rng.random() < 0.05:
                fields["stream"] = True  # refused: 400
            body = json.dumps(fields).encode()
            return client.request("POST", "/v1/images/generations", body,
                                  {"Content-Type": "application/json", "Authorization": "Bearer sk-soak"})
        if kind == "proxy_edit":
            count = rng.randrange(1, 4)
            parts = [("image[]" if count > 1 else "image", self.image(rng, allow_large=count == 1), True) for _ in range(count)]
            parts += [("prompt", "edit", False), ("model", "flux-2", False),
                      ("output_format", rng.choice(["webp", "jpeg", "png"]), False)]
            body, content_type = multipart(parts)
            return client.request("POST", "/v1/images/edits", body, {"Content-Type": content_type, "Authorization": "Bearer sk-soak"})
        raise ValueError(kind)


# ---------------------------------------------------------------- the run


def rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


class Stats:
    def __init__(self, total):
        self.lock = threading.Lock()
        self.total = total
        self.started = 0
        self.done = 0
        self.by_kind = {}  # kind -> {status or error -> count}
        self.unexpected = []  # (kind, outcome text)
        self.deciles = []  # VmRSS KiB after each tenth of the requests (under load)
        self.rss_max = 0
        self.reconnects = 0

    def take(self):
        with self.lock:
            if self.started >= self.total:
                return None
            self.started += 1
            return self.started


def worker(index, args, mix, kinds, weights, stats, deadline):
    rng = random.Random(args.seed * 1000 + index)
    client = Client(args.host, args.port, args.timeout)
    answered = {name: expect for name, _, expect in kinds}
    names = [name for name, _, _ in kinds]
    while time.monotonic() < deadline:
        n = stats.take()
        if n is None:
            break
        kind = rng.choices(names, weights)[0]
        try:
            outcome, _, _ = mix.run(kind, rng, client, args.host, args.port, args.timeout)
        except (OSError, http.client.HTTPException) as error:
            outcome = Outcome(error=type(error).__name__)
        key = str(outcome.status) if outcome.status is not None else ("left" if outcome.left else f"error:{outcome.error}")
        with stats.lock:
            counts = stats.by_kind.setdefault(kind, {})
            counts[key] = counts.get(key, 0) + 1
            stats.done += 1
            allowed_5xx = (502, 503, 504) if kind.startswith("proxy_") else (503, 504)
            bad = (outcome.status is not None and outcome.status >= 500 and outcome.status not in allowed_5xx) or \
                  (outcome.error is not None and answered[kind])
            if bad:
                stats.unexpected.append((kind, key))
            if stats.done % max(1, stats.total // 10) == 0:
                stats.deciles.append(rss_kib(args.pid))
        if outcome.status == 503:
            time.sleep(rng.uniform(0.02, 0.1))
    with stats.lock:
        stats.reconnects += client.reconnects
    client.close()


def metric(host, port, name):
    """A gauge's value from /metrics, or None."""
    try:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
    except (OSError, http.client.HTTPException):
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def quiet_sample(args):
    """RSS and heap in use (KiB) with the server quiet: waits (up to 30 s) until nothing is in
    flight but this probe and the pool is idle, then a second more (the pool trims its memory
    when it goes idle), then reads them."""
    until = time.monotonic() + 30
    while time.monotonic() < until:
        busy = [metric(args.host, args.port, name) for name in
                ("darkroom_pool_admitted", "darkroom_upstream_in_flight", "darkroom_http_requests_in_flight")]
        if busy[0] == 0 and (busy[1] or 0) == 0 and (busy[2] or 0) <= 1:
            break
        time.sleep(0.2)
    time.sleep(1)
    heap = metric(args.host, args.port, "darkroom_heap_in_use_bytes")
    held = metric(args.host, args.port, "darkroom_heap_free_held_bytes")
    if held is not None:
        print(f"soak: (quiet: heap free held by the allocator {int(held // 1024)} KiB)", file=sys.stderr)
    return rss_kib(args.pid), None if heap is None else int(heap // 1024)


def run_phase(args, mix, kinds, weights, count, seed_offset, log_progress):
    """`count` requests at the concurrency; returns their Stats."""
    stats = Stats(count)
    start = time.monotonic()
    deadline = start + args.max_seconds
    threads = [threading.Thread(target=worker, args=(i + seed_offset, args, mix, kinds, weights, stats, deadline), daemon=True)
               for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    last = start
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.5)
        rss = rss_kib(args.pid)
        if rss is not None:
            stats.rss_max = max(stats.rss_max, rss)
        if not alive(args.pid):
            break
        if log_progress and time.monotonic() - last >= 30:
            last = time.monotonic()
            print(f"soak: {stats.done} of {count} done, {stats.done / (last - start):.0f}/s, RSS {rss} KiB", file=sys.stderr)
    for thread in threads:
        thread.join(timeout=args.timeout + 5)
    stats.elapsed = time.monotonic() - start
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id (RSS, liveness)")
    parser.add_argument("--requests", type=int, default=20000, help="requests in all, the checkpoint's included")
    parser.add_argument("--checkpoint", type=int, default=2000,
                        help="RSS growth counts from the quiet RSS after this many requests (the allocator's warm-up)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop sending after this long (each phase)")
    parser.add_argument("--timeout", type=float, default=60, help="socket timeout per request")
    parser.add_argument("--max-body-bytes", type=int, default=64 << 20, help="the server's --max-body-bytes")
    parser.add_argument("--rss-growth", type=float, default=0.10, help="fail when RSS grows by this fraction or more")
    parser.add_argument("--proxy", action="store_true", help="the server is in proxy mode in front of stub_upstream.py")
    parser.add_argument("--images", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testimages"))
    parser.add_argument("--only", action="append", help="send only this kind of request (repeatable; to find which kind leaks)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    if not 0 < args.checkpoint < args.requests:
        parser.error("--checkpoint must be above 0 and below --requests")

    images, large = load_images(args.images)
    mix = Mix(images, large, args.max_body_bytes, proxy=args.proxy)
    kinds = [kind for kind in mix.kinds() if not args.only or kind[0] in args.only]
    if not kinds:
        parser.error(f"--only: no such kind; the kinds are {', '.join(k for k, _, _ in mix.kinds())}")
    weights = [w for _, w, _ in kinds]
    rss_start = rss_kib(args.pid)
    first = run_phase(args, mix, kinds, weights, args.checkpoint, 1000, False)
    rss_checkpoint, heap_checkpoint = quiet_sample(args)
    print(f"soak: first {first.done} requests done; quiet RSS {rss_checkpoint} KiB, heap in use {heap_checkpoint} KiB",
          file=sys.stderr)
    stats = run_phase(args, mix, kinds, weights, args.requests - args.checkpoint, 0, True)
    elapsed = first.elapsed + stats.elapsed
    is_alive = alive(args.pid)
    rss_end, heap_end = quiet_sample(args) if is_alive else (None, None)
    hwm = rss_kib(args.pid, "VmHWM")
    health = None
    if is_alive:
        try:
            connection = http.client.HTTPConnection(args.host, args.port, timeout=10)
            connection.request("GET", "/healthz")
            health = connection.getresponse().status
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            health = type(error).__name__
    for kind, counts in first.by_kind.items():
        into = stats.by_kind.setdefault(kind, {})
        for key, count in counts.items():
            into[key] = into.get(key, 0) + count
    stats.unexpected += first.unexpected
    stats.done += first.done
    stats.reconnects += first.reconnects
    stats.rss_max = max(stats.rss_max, first.rss_max)

    totals = {}
    for counts in stats.by_kind.values():
        for key, count in counts.items():
            totals[key] = totals.get(key, 0) + count
    failures = []
    if not is_alive:
        failures.append("the server process is gone (crash)")
    elif health != 200:
        failures.append(f"/healthz answered {health} at the end")
    if stats.unexpected:
        seen = {}
        for kind, key in stats.unexpected:
            seen[f"{kind} {key}"] = seen.get(f"{kind} {key}", 0) + 1
        failures.append(f"{len(stats.unexpected)} unexpected outcomes: {seen}")
    growth = None
    if rss_checkpoint and rss_end:
        growth = rss_end / rss_checkpoint - 1
        if growth >= args.rss_growth:
            failures.append(f"quiet RSS grew {growth * 100:.1f} % from {rss_checkpoint} KiB after {args.checkpoint} requests"
                            f" to {rss_end} KiB at the end")
    if stats.done < args.requests:
        print(f"soak: stopped at the time limit after {stats.done} of {args.requests} requests", file=sys.stderr)

    result = {
        "requests": stats.done, "asked": args.requests, "concurrency": args.concurrency, "seconds": round(elapsed, 1),
        "requests_per_second": round(stats.done / elapsed, 1), "statuses": dict(sorted(totals.items())),
        "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(stats.by_kind.items())},
        "rss_kib": {"start": rss_start, "checkpoint": rss_checkpoint, "end": rss_end, "max_sampled": stats.rss_max, "hwm": hwm},
        "heap_in_use_kib": {"checkpoint": heap_checkpoint, "end": heap_end},
        "rss_growth_percent": None if growth is None else round(growth * 100, 2), "checkpoint": args.checkpoint,
        "rss_kib_each_tenth": stats.deciles,
        "reconnects": stats.reconnects, "failures": failures,
    }
    print(f"soak: {stats.done} requests in {elapsed:.1f} s ({stats.done / elapsed:.1f}/s) at concurrency {args.concurrency}")
    print("soak: statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
    for kind, counts in sorted(stats.by_kind.items()):
        print(f"soak:   {kind:24} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"soak: quiet RSS start {rss_start} KiB, after {args.checkpoint} requests {rss_checkpoint} KiB, end {rss_end} KiB"
          f" ({'n/a' if growth is None else f'{growth * 100:+.1f} %'}); max sampled {stats.rss_max} KiB, VmHWM {hwm} KiB")
    print(f"soak: heap in use (glibc) after {args.checkpoint} requests {heap_checkpoint} KiB, end {heap_end} KiB")
    print("soak: RSS under load after each tenth of the requests after the checkpoint (KiB): "
          + ", ".join(str(v) for v in stats.deciles))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if failures:
        for failure in failures:
            print(f"soak: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    print("soak: passed")


if __name__ == "__main__":
    main()
