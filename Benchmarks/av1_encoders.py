#!/usr/bin/env python3
"""The AV1 encoders libavif 0.11.1 has on Debian bookworm (aom 3.6, rav1e 0.5, SVT-AV1 1.4), at
several speeds, on one photo: bytes, luma PSNR (BT.601) and encode time through `avifenc`
(libavif-bin, the same library Darkroom links) with 2 jobs, at one fixed quantizer.

    ~/.cache/darkroom-peers/bin/python Benchmarks/av1_encoders.py PHOTO.png [--quantizer 25] [--runs 3]
"""
import argparse, io, math, os, statistics, subprocess, sys, tempfile, time
import numpy
from PIL import Image


def luma(im):
    a = numpy.asarray(im.convert("RGB"), dtype=numpy.float64)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("photo")
    ap.add_argument("--quantizer", type=int, default=25)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--configs", default="aom:6,aom:7,aom:8,rav1e:8,rav1e:10,svt:8,svt:10")
    args = ap.parse_args()
    ref = luma(Image.open(args.photo))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "o.avif")
        print("| encoder | speed | bytes | luma PSNR | encode ms (median) |")
        print("|---|---:|---:|---:|---:|")
        for config in args.configs.split(","):
            codec, speed = config.split(":")
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                r = subprocess.run(["avifenc", "-c", codec, "-s", speed, "-j", "2", "--min", str(args.quantizer),
                                    "--max", str(args.quantizer), "-y", "420", "--tilecolslog2", "1", args.photo, out],
                                   capture_output=True, text=True)
                times.append((time.perf_counter() - t) * 1000)
                if r.returncode != 0:
                    break
            if r.returncode != 0:
                print(f"| {codec} | {speed} | failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode} | | |")
                continue
            data = open(out, "rb").read()
            y = luma(Image.open(io.BytesIO(data)))
            mse = float(numpy.mean((ref - y) ** 2))
            print(f"| {codec} | {speed} | {len(data):,} | {10 * math.log10(255 * 255 / mse):.2f} | {statistics.median(times):.0f} |")


if __name__ == "__main__":
    sys.exit(main())
