#!/usr/bin/env python3
"""PSNR of JPEG -> JPEG conversions by two darkroom binaries against a float reference.

The reference is a full decode by Pillow (libjpeg-turbo, fancy upsampling) resized with Lanczos-3
per channel in 32-bit float (mode "F"), at the size the binaries made. Each output is decoded by
Pillow and compared on RGB (and on Y, BT.601 full range as JFIF). Use it to compare the planar
YCbCr route (issue #17) with the RGB route: OLD = a build of main, NEW = a build of the branch.

    P=~/.cache/darkroom-peers/bin/python
    $P Benchmarks/psnr_planar.py OLD_BINARY NEW_BINARY IMAGE:GEOMETRY... [--quality 80] [--args=--fast]

Prints one line per image and the mean difference NEW - OLD in dB.
"""
import argparse
import math
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def reference(path, size, gray):
    im = Image.open(path)
    im = im.convert("L" if gray else "RGB")
    bands = [b.convert("F").resize(size, Image.LANCZOS) for b in im.split()]
    return np.stack([np.asarray(b, dtype=np.float64) for b in bands], -1)


def luma(a):
    if a.shape[-1] == 1:
        return a[..., 0]
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def sampling(im):
    try:
        from PIL import JpegImagePlugin
        return {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(JpegImagePlugin.get_sampling(im), "gray/other")
    except Exception:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("images", nargs="+", help="PATH:GEOMETRY, e.g. photo.jpg:4194304@")
    ap.add_argument("--quality", type=int, default=80)
    ap.add_argument("--args", default="", help="extra convert arguments for both binaries")
    o = ap.parse_args()
    diffs, ydiffs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'image':34} {'geometry':10} {'size':>10} {'samp':>6} {'old RGB':>8} {'new RGB':>8} {'diff':>6}"
              f" {'old Y':>7} {'new Y':>7} {'diff':>6} {'old B':>8} {'new B':>8}")
        for spec in o.images:
            path, geometry = spec.rsplit(":", 1)
            outs = []
            for tag, binary in (("old", o.old), ("new", o.new)):
                out = Path(tmp) / f"{tag}.jpg"
                out.unlink(missing_ok=True)
                cmd = [binary, "convert", path, "-r", geometry, "-q", str(o.quality), "-f", "jpeg", "-o", str(out)]
                cmd += o.args.split()
                subprocess.run(cmd, check=True, capture_output=True)
                outs.append(out)
            ims = [Image.open(p) for p in outs]
            gray = ims[0].mode == "L"
            assert ims[0].size == ims[1].size, (ims[0].size, ims[1].size)
            ref = reference(path, ims[0].size, gray)
            arrs = [np.asarray(im.convert("L" if gray else "RGB"), dtype=np.float64).reshape(ref.shape) for im in ims]
            p = [psnr(a, ref) for a in arrs]
            py = [psnr(luma(a), luma(ref)) for a in arrs]
            sizes = [p.stat().st_size for p in outs]
            diffs.append(p[1] - p[0])
            ydiffs.append(py[1] - py[0])
            print(f"{Path(path).name:34} {geometry:10} {'%dx%d' % ims[0].size:>10} {sampling(ims[1]):>6} "
                  f"{p[0]:8.2f} {p[1]:8.2f} {p[1] - p[0]:+6.2f} {py[0]:7.2f} {py[1]:7.2f} {py[1] - py[0]:+6.2f} "
                  f"{sizes[0]:8d} {sizes[1]:8d}")
    print(f"mean diff new - old: RGB {np.mean(diffs):+.3f} dB (min {min(diffs):+.3f}), Y {np.mean(ydiffs):+.3f} dB "
          f"(min {min(ydiffs):+.3f})")


if __name__ == "__main__":
    main()
