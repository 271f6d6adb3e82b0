#!/usr/bin/env python3
"""Load test for darkroom-server (Python 3 standard library only).

For each concurrency level, CONCURRENCY client threads (one keep-alive connection each) POST the
same image to /v1/convert until a request budget or a time budget runs out, while a separate process
polls GET /healthz every 20 ms. A 503 is counted and that client waits for its Retry-After (as a
well-behaved gateway would) before the next request; 503s do not use up the request budget.
Prints a Markdown table:

    concurrency | requests/s | p50 ms | p99 ms | /healthz p99 ms | 503s | errors | peak RSS MB

With --scenario LABEL|PATH|BODY_FILE[|CONTENT_TYPE] (repeatable) it runs every scenario at every
concurrency level and prints one table with a scenario column (scripts/load-table.sh).

Peak RSS is VmHWM from /proc/PID/status; before each level it is reset through
/proc/PID/clear_refs (value 5) when the kernel allows it, so each row shows that level's peak.
Run through scripts/load-test.sh, which builds and starts the server.
"""
import argparse
import http.client
import multiprocessing
import os
import statistics
import sys
import threading
import time


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def poll_health(host, port, stop, results):
    """Runs in its own process (no GIL shared with the load threads): /healthz latencies in ms."""
    latencies, failures = [], 0
    connection = http.client.HTTPConnection(host, port, timeout=10)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures += 1
        except (OSError, http.client.HTTPException):
            failures += 1
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=10)
        time.sleep(0.02)
    results.put((latencies, failures))


class Level:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []  # ms, successful conversions
        self.unavailable = 0  # 503
        self.other = {}  # status or exception name -> count
        self.sent = 0


def client_loop(host, port, path, body, level, budget, deadline, content_type="application/octet-stream"):
    connection = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": content_type}
    while time.monotonic() < deadline:
        with level.lock:
            if level.sent >= budget:
                break
        start = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status == 200:
                with level.lock:
                    level.latencies.append(elapsed)
                    level.sent += 1
            elif response.status == 503:
                with level.lock:
                    level.unavailable += 1
                retry_after = float(response.getheader("Retry-After", "1"))
                time.sleep(max(0.0, min(retry_after, deadline - time.monotonic())))
            else:
                with level.lock:
                    level.other[str(response.status)] = level.other.get(str(response.status), 0) + 1
                    level.sent += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            with level.lock:
                name = type(error).__name__
                level.other[name] = level.other.get(name, 0) + 1
                level.sent += 1
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.close()


def run_level(args, body, concurrency, path=None, content_type="application/octet-stream"):
    budget = max(args.min_requests, args.requests_per_client * concurrency)
    level = Level()
    hwm_reset = reset_hwm(args.pid)
    stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    poller = multiprocessing.Process(target=poll_health, args=(args.host, args.port, stop, results))
    poller.start()
    start = time.monotonic()
    deadline = start + args.seconds
    threads = [threading.Thread(target=client_loop,
                                args=(args.host, args.port, path or args.path, body, level, budget, deadline, content_type))
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    stop.set()
    health, health_failures = results.get(timeout=30)
    poller.join(timeout=30)
    return {
        "concurrency": concurrency,
        "ok": len(level.latencies),
        "rps": len(level.latencies) / elapsed,
        "p50": percentile(level.latencies, 0.50),
        "p99": percentile(level.latencies, 0.99),
        "health_p99": percentile(health, 0.99),
        "health_max": max(health) if health else float("nan"),
        "health_n": len(health),
        "health_failures": health_failures,
        "unavailable": level.unavailable,
        "other": level.other,
        "rss_mb": vm_hwm_kib(args.pid) / 1024,
        "hwm_reset": hwm_reset,
        "seconds": elapsed,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="server process id, for VmHWM")
    parser.add_argument("--image", help="request body file (without --scenario)")
    parser.add_argument("--scenario", action="append", default=[],
                        help="LABEL|PATH|BODY_FILE[|CONTENT_TYPE]; repeatable; replaces --image and --path")
    parser.add_argument("--path", default="/v1/convert?output_format=webp&output_compression=80")
    parser.add_argument("--concurrency", default="1,2,8,32")
    parser.add_argument("--seconds", type=float, default=20, help="time budget per level")
    parser.add_argument("--requests-per-client", type=int, default=25, help="request budget per level = this × concurrency")
    parser.add_argument("--min-requests", type=int, default=60)
    args = parser.parse_args()

    if args.scenario:
        run_scenarios(args)
        return
    if not args.image:
        parser.error("--image or --scenario is required")
    with open(args.image, "rb") as image:
        body = image.read()
    rows = []
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        row = run_level(args, body, concurrency)
        rows.append(row)
        print(f"concurrency {concurrency}: {row['ok']} ok, {row['unavailable']} x 503, other {row['other']}, "
              f"{row['seconds']:.1f} s, /healthz n={row['health_n']} max {row['health_max']:.1f} ms "
              f"failures {row['health_failures']}", file=sys.stderr)

    print(f"\n{len(body)} byte request body, POST {args.path}\n")
    print("| concurrency | requests/s (200) | p50 ms | p99 ms | /healthz p99 ms | 503s | other errors | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        other = sum(row["other"].values())
        rss = f"{row['rss_mb']:.0f}" + ("" if row["hwm_reset"] else " (cumulative)")
        print(f"| {row['concurrency']} | {row['rps']:.1f} | {row['p50']:.0f} | {row['p99']:.0f} | "
              f"{row['health_p99']:.1f} | {row['unavailable']} | {other} | {rss} |")


def run_scenarios(args):
    levels = [int(c) for c in args.concurrency.split(",")]
    rows = []
    for spec in args.scenario:
        fields = spec.split("|")
        label, path, body_file = fields[0], fields[1], fields[2]
        content_type = fields[3] if len(fields) > 3 else "application/octet-stream"
        with open(body_file, "rb") as f:
            body = f.read()
        for concurrency in levels:
            row = run_level(args, body, concurrency, path=path, content_type=content_type)
            row["label"] = label
            rows.append(row)
            print(f"{label}, concurrency {concurrency}: {row['ok']} ok, {row['unavailable']} x 503, other {row['other']}, "
                  f"{row['seconds']:.1f} s, /healthz n={row['health_n']} max {row['health_max']:.1f} ms "
                  f"failures {row['health_failures']}", file=sys.stderr)
    print()
    print("| request | concurrency | requests/s (200) | p50 ms | p99 ms | /healthz p99 ms | 503s | other errors | peak RSS MB | answered |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        other = sum(row["other"].values())
        rss = f"{row['rss_mb']:.0f}" + ("" if row["hwm_reset"] else " (cumulative)")
        print(f"| {row['label']} | {row['concurrency']} | {row['rps']:.1f} | {row['p50']:.0f} | {row['p99']:.0f} | "
              f"{row['health_p99']:.1f} | {row['unavailable']} | {other} | {rss} | {row['ok']} |")


if __name__ == "__main__":
    main()
