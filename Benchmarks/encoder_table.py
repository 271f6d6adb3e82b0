#!/usr/bin/env python3
"""Encoder defaults table: darkroom vs Pillow vs libvips, time and size per format on a 1 MP and a
4 MP photo (the deterministic synthetic photo of ../shared/bench/bench_resize.py).

Run with the peers' venv (../shared/bench/setup.sh) after `swift build -c release`:
    ~/.cache/darkroom-peers/bin/python Benchmarks/encoder_table.py [--runs 3] [--darkroom .build/release/darkroom]

Settings, the same intent everywhere (darkroom's CLI defaults):
  JPEG q85 4:2:0 with optimised Huffman tables; WebP q80 method 4; AVIF q60 (each library's own curve)
  aom speed 7 (vips effort 2); PNG zlib level 6 with adaptive filters; GIF 256 colours with dithering.
Times are medians of in-process encodes of an already decoded image (darkroom: `darkroom bench encode`).
"""
import argparse, io, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "shared" / "bench"))
import bench_resize  # noqa: E402  (deterministic synthetic photo)
from PIL import Image  # noqa: E402

try:
    import pyvips
except Exception:  # pragma: no cover
    pyvips = None

QUALITY = {"jpeg": 85, "webp": 80, "avif": 60}


def timed(fn, runs):
    fn()
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), len(out)


def pillow_encode(img, fmt):
    def run():
        b = io.BytesIO()
        if fmt == "jpeg":
            img.save(b, "JPEG", quality=85, optimize=True, subsampling="4:2:0")
        elif fmt == "webp":
            img.save(b, "WEBP", quality=80, method=4)
        elif fmt == "avif":
            img.save(b, "AVIF", quality=60, speed=7)
        elif fmt == "png":
            img.save(b, "PNG", compress_level=6)
        elif fmt == "gif":
            img.quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(b, "GIF")
        return b.getvalue()
    return run


def vips_encode(img, fmt):
    def run():
        if fmt == "jpeg":
            return img.jpegsave_buffer(Q=85, optimize_coding=True)
        if fmt == "webp":
            return img.webpsave_buffer(Q=80, effort=4)
        if fmt == "avif":
            return img.heifsave_buffer(Q=60, effort=2, compression="av1")
        if fmt == "png":
            return img.pngsave_buffer(compression=6, filter="all")
        if fmt == "gif":
            return img.gifsave_buffer(dither=1.0)
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--darkroom", default=str(HERE.parent / ".build/release/darkroom"))
    ap.add_argument("--formats", default="jpeg,webp,avif,png,gif")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-enc-"))
    rows = []
    for label, (w, h) in {"1 MP": (1254, 836), "4 MP": (2508, 1672)}.items():
        arr = bench_resize.make_image(w, h, 3)
        src = tmp / f"photo-{w}x{h}.png"
        Image.fromarray(arr).save(src, compress_level=1)
        pil = Image.open(src); pil.load()
        vimg = pyvips.Image.new_from_file(str(src)).copy_memory() if pyvips else None
        for fmt in args.formats.split(","):
            out = subprocess.run([args.darkroom, "bench", "encode", str(src), "-f", fmt, "--runs", str(args.runs), "--json"],
                                 capture_output=True, text=True)
            d = json.loads(out.stdout) if out.returncode == 0 else None
            p = timed(pillow_encode(pil, fmt), args.runs)
            v = timed(vips_encode(vimg, fmt), args.runs) if vimg is not None else None
            rows.append((label, fmt, d, p, v))
            print(f"{label} {fmt}: darkroom {d and d['median_ms']} ms {d and d['bytes']} B | "
                  f"pillow {p[0]:.0f} ms {p[1]} B | vips {v and round(v[0])} ms {v and v[1]} B", file=sys.stderr)
    print("| photo | format | darkroom ms | darkroom KB | Pillow ms | Pillow KB | libvips ms | libvips KB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, fmt, d, p, v in rows:
        dm = f"{d['median_ms']:.0f}" if d else "ERROR"
        db = f"{d['bytes'] / 1000:.0f}" if d else "-"
        vm = f"{v[0]:.0f}" if v else "-"
        vb = f"{v[1] / 1000:.0f}" if v else "-"
        print(f"| {label} | {fmt} | {dm} | {db} | {p[0]:.0f} | {p[1] / 1000:.0f} | {vm} | {vb} |")


if __name__ == "__main__":
    main()
