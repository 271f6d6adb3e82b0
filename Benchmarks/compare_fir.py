#!/usr/bin/env python3
"""Interleaved min-of-mins comparison of `darkroom bench resize` with fast_image_resize (fir).

The shared host is noisy (other VMs): single runs of ../shared/bench/bench_resize.py swing the
darkroom/fir ratio by +-40 %. This script alternates fir (in process, via cykooz_resizer) and
darkroom (subprocess, its own in-process timer) for ROUNDS rounds of RUNS runs each, on the
harness's cached 6000x4000 synthetic images, and reports the minimum over all runs and the median
of the per-round minimums.

    ~/.cache/darkroom-peers/bin/python Benchmarks/compare_fir.py [.build/release/darkroom] [ROUNDS]
(run bench_resize.py once first so $TMPDIR/peer_bench_cache holds the .npy images)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import cykooz_resizer as cr
import numpy as np

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release/darkroom"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
RUNS = 5
CACHE = os.path.join(os.environ.get("TMPDIR", tempfile.gettempdir()), "peer_bench_cache")
OW, OH = 2508, 1672


def fir_runner(channels, use_alpha):
    src = np.load(os.path.join(CACHE, f"synth_v2_6000x4000x{channels}_s20240601.npy"))
    h, w, c = src.shape
    pt = cr.PixelType.U8x4 if c == 4 else cr.PixelType.U8x3
    sdata = cr.ImageData(w, h, pt, src.tobytes())
    dst = cr.ImageData(OW, OH, pt)
    resizer = cr.Resizer()
    opts = cr.ResizeOptions(resize_alg=cr.ResizeAlg.convolution(cr.FilterType.lanczos3), use_alpha=use_alpha)

    def run():
        t0 = time.perf_counter()
        resizer.resize(sdata, dst, opts)
        return (time.perf_counter() - t0) * 1000
    return run


def darkroom(channels, alpha):
    out = subprocess.run([BIN, "bench", "resize", "--channels", str(channels), "--alpha", alpha,
                          "--runs", str(RUNS), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


cases = [("rgb", 3, "ignore", None), ("rgba", 4, "premultiplied", None), ("rgba_noalpha", 4, "ignore", False)]
results = {name: {"fir": [], "darkroom": []} for name, *_ in cases}
kernel = "?"
for r in range(ROUNDS):
    for name, ch, alpha, use_alpha in cases:
        run = fir_runner(ch, use_alpha)
        run()  # warm-up
        results[name]["fir"].append(min(run() for _ in range(RUNS)))
        d = darkroom(ch, alpha)
        kernel = d["kernel"]
        results[name]["darkroom"].append(d["min_ms"])
print(f"6000x4000 -> {OW}x{OH} Lanczos3, 1 thread, {ROUNDS} rounds x {RUNS} runs, darkroom kernel={kernel}")
print(f"{'case':14} {'fir min':>8} {'darkroom min':>13} {'ratio':>6}   {'fir med-of-min':>14} {'darkroom med-of-min':>19} {'ratio':>6}")
for name, *_ in cases:
    f, d = results[name]["fir"], results[name]["darkroom"]
    fm, dm = min(f), min(d)
    fmed, dmed = statistics.median(f), statistics.median(d)
    print(f"{name:14} {fm:8.1f} {dm:13.1f} {dm / fm:6.2f}   {fmed:14.1f} {dmed:19.1f} {dmed / fmed:6.2f}")
