#!/usr/bin/env python3
"""Rate–distortion table: Darkroom against Pillow and libvips for JPEG, WebP and AVIF (issue #20).

Run with the peers' venv (../shared/bench/setup.sh) after `swift build -c release`:

    ~/.cache/darkroom-peers/bin/python Benchmarks/rd_table.py [--darkroom .build/release/darkroom]
        [--formats jpeg,webp,avif] [--photos kodim23,synthetic] [--darkroom-arg=--speed=6 ...]

Each tool encodes each photo at a sweep of qualities (its own scale; each at its default
settings otherwise). Every output is decoded by Pillow and compared with the source: luma PSNR
(BT.601 Y of 8-bit RGB) and luma SSIM (11-tap Gaussian window, sigma 1.5, Wang et al.). The
"at equal bytes" columns interpolate each peer's PSNR and SSIM at the bytes of Darkroom's output
(linear in log bytes between the two sweep points around it): positive = Darkroom better.
Encode times are the median of `--runs` in-process encodes (Darkroom: `darkroom bench encode`),
at Darkroom's default quality for Darkroom and at each peer's default quality for the peer.
"""
import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "shared" / "bench"))
try:
    import bench_resize  # noqa: E402  (deterministic synthetic photo)
except Exception:  # pragma: no cover
    bench_resize = None
try:
    import pyvips
except Exception:  # pragma: no cover
    pyvips = None

QUALITIES = [20, 35, 50, 60, 70, 80, 88, 95]
DARKROOM_DEFAULT = {"jpeg": 85, "webp": 80, "avif": 60}
PEER_DEFAULT = {"pillow": {"jpeg": 75, "webp": 80, "avif": 75}, "libvips": {"jpeg": 75, "webp": 75, "avif": 50}}


def luma(rgb):
    a = numpy.asarray(rgb.convert("RGB"), dtype=numpy.float64)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def psnr(a, b):
    mse = float(numpy.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def _blur(x):
    r = numpy.arange(-5, 6)
    k = numpy.exp(-(r ** 2) / (2 * 1.5 ** 2))
    k /= k.sum()
    x = numpy.apply_along_axis(lambda v: numpy.convolve(v, k, mode="valid"), 0, x)
    return numpy.apply_along_axis(lambda v: numpy.convolve(v, k, mode="valid"), 1, x)


def ssim(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = _blur(a), _blur(b)
    va, vb, cov = _blur(a * a) - ma * ma, _blur(b * b) - mb * mb, _blur(a * b) - ma * mb
    return float(numpy.mean(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))))


def pillow(img, fmt, q):
    b = io.BytesIO()
    if fmt == "jpeg":
        img.save(b, "JPEG", quality=q)
    elif fmt == "webp":
        img.save(b, "WEBP", quality=q, method=4)
    else:
        img.save(b, "AVIF", quality=q)
    return b.getvalue()


def vips(vimg, fmt, q):
    if fmt == "jpeg":
        return vimg.jpegsave_buffer(Q=q)
    if fmt == "webp":
        return vimg.webpsave_buffer(Q=q)
    return vimg.heifsave_buffer(Q=q, compression="av1")


def median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def at_bytes(curve, target):
    """The metrics of `curve` [(bytes, metric, ...)] (here PSNR and SSIM) at `target` bytes, by
    linear interpolation in log bytes; None outside the curve."""
    pts = sorted(curve)
    for c0, c1 in zip(pts, pts[1:]):
        if c0[0] <= target <= c1[0] and c1[0] > c0[0]:
            t = (math.log(target) - math.log(c0[0])) / (math.log(c1[0]) - math.log(c0[0]))
            return [x0 + t * (x1 - x0) for x0, x1 in zip(c0[1:], c1[1:])]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--darkroom", default=str(HERE.parent / ".build/release/darkroom"))
    ap.add_argument("--formats", default="jpeg,webp,avif")
    ap.add_argument("--photos", default="landscape,synthetic")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--darkroom-arg", action="append", default=[], help="an extra argument for darkroom convert and bench encode")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-rd-"))
    photos = {}
    for name in args.photos.split(","):
        if name == "kodim23":
            # Kodak's parrots photo, stored as a JPEG: halved (box filter) first so its own 8x8
            # blocks and quantisation are gone and every encoder starts from clean pixels.
            src = Image.open(HERE.parent / "testimages" / "kodim23.jpg").convert("RGB")
            path = tmp / "kodim23-half.png"
            src.reduce(2).save(path, compress_level=1)
            photos[name] = path
        elif name == "landscape":
            # A 1800x1200 camera photo of the shared corpus (EXIF orientation set), halved the same way.
            src = Image.open(HERE.parent.parent / "shared" / "corpus" / "orientation" / "recurser" / "Landscape_1.jpg").convert("RGB")
            path = tmp / "landscape-half.png"
            src.reduce(2).save(path, compress_level=1)
            photos[name] = path
        elif name == "synthetic":
            arr = bench_resize.make_image(1254, 836, 3)
            path = tmp / "synthetic.png"
            Image.fromarray(arr).save(path, compress_level=1)
            photos[name] = path
        else:
            photos[Path(name).stem] = Path(name)
    summary = []
    for name, path in photos.items():
        src = Image.open(path).convert("RGB")
        png = tmp / f"{name}.png"
        src.save(png, compress_level=1)
        ref = luma(src)
        vimg = pyvips.Image.new_from_file(str(png)).copy_memory() if pyvips else None
        for fmt in args.formats.split(","):
            curves = {"darkroom": [], "pillow": [], "libvips": []}
            for q in QUALITIES:
                out = tmp / f"out.{fmt}"
                subprocess.run([args.darkroom, "convert", str(png), "-f", fmt, "-q", str(q), "-o", str(out), "--overwrite", "--quiet"]
                               + args.darkroom_arg, check=True)
                encoded = {"darkroom": out.read_bytes(), "pillow": pillow(src, fmt, q)}
                if vimg is not None:
                    encoded["libvips"] = vips(vimg, fmt, q)
                for tool, data in encoded.items():
                    y = luma(Image.open(io.BytesIO(data)))
                    curves[tool].append((len(data), psnr(ref, y), ssim(ref, y)))
            dq = DARKROOM_DEFAULT[fmt]
            out = tmp / f"default.{fmt}"
            subprocess.run([args.darkroom, "convert", str(png), "-f", fmt, "-o", str(out), "--overwrite", "--quiet"] + args.darkroom_arg, check=True)
            data = out.read_bytes()
            y = luma(Image.open(io.BytesIO(data)))
            default = (len(data), psnr(ref, y), ssim(ref, y))
            speed_args = [a for a in args.darkroom_arg if a.startswith("--speed")]
            bench = subprocess.run([args.darkroom, "bench", "encode", str(png), "-f", fmt, "--runs", str(args.runs), "--json"] + speed_args,
                                   capture_output=True, text=True, check=True)
            d_ms = json.loads(bench.stdout)["median_ms"]
            p_ms = median_ms(lambda: pillow(src, fmt, PEER_DEFAULT["pillow"][fmt]), args.runs)
            v_ms = median_ms(lambda: vips(vimg, fmt, PEER_DEFAULT["libvips"][fmt]), args.runs) if vimg is not None else None
            print(f"\n### {name} ({src.width}x{src.height}), {fmt}\n")
            print("| quality | Darkroom bytes · dB · SSIM | Pillow bytes · dB · SSIM | libvips bytes · dB · SSIM |")
            print("|---:|---|---|---|")
            for i, q in enumerate(QUALITIES):
                cells = []
                for tool in ("darkroom", "pillow", "libvips"):
                    c = curves[tool][i] if curves[tool] else None
                    cells.append(f"{c[0]:,} · {c[1]:.2f} · {c[2]:.4f}" if c else "-")
                print(f"| {q} | " + " | ".join(cells) + " |")
            line = [f"{name} {fmt}: Darkroom default (q{dq}) {default[0]:,} B {default[1]:.2f} dB {default[2]:.4f}, {d_ms:.0f} ms"]
            for tool in ("pillow", "libvips"):
                if not curves[tool]:
                    continue
                at = at_bytes(curves[tool], default[0])
                ms = p_ms if tool == "pillow" else v_ms
                if at:
                    line.append(f"{tool} at equal bytes {at[0]:.2f} dB {at[1]:.4f} (Darkroom {default[1] - at[0]:+.2f} dB, {default[2] - at[1]:+.4f} SSIM); {tool} default {ms:.0f} ms")
                else:
                    line.append(f"{tool}: bytes outside its sweep; default {ms:.0f} ms")
            summary.append("; ".join(line))
            print("\n" + summary[-1])
    print("\n## Summary\n")
    for s in summary:
        print("- " + s)


if __name__ == "__main__":
    main()
