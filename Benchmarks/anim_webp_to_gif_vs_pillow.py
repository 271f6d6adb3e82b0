#!/usr/bin/env python3
"""Animated WebP -> animated GIF: Darkroom against Pillow, bytes and PSNR (issue #19's target:
bytes <= Pillow's at equal or better PSNR).

Usage (a Python with Pillow, e.g. ~/.cache/darkroom-peers/bin/python):

    anim_webp_to_gif_vs_pillow.py [--darkroom .build/release/darkroom] [--rounds 3] WEBP...

For each animated WebP: `darkroom convert IN -f gif -o OUT` and Pillow's
`Image.open(IN).save(OUT, save_all=True)` (its defaults: each frame quantised to an adaptive
palette, unchanged areas cropped away). Each output's frames are compared with Pillow's reading of
the source: PSNR over the RGB of pixels opaque in both (frames weighted equally; 99 dB when
identical). Times are whole processes for Darkroom and the save call for Pillow (the smaller of
`--rounds`, alternating which runs first). Prints one line per file and a total.
"""
import argparse
import io
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy
from PIL import Image


def frames(data_or_path):
    im = Image.open(data_or_path)
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        im.load()
        out.append(im.convert("RGBA"))
    return out


def psnr(source, output):
    """Mean over frames of the PSNR of RGB where both pixels are opaque (alpha >= 128)."""
    values = []
    for a, b in zip(source, output):
        pa = numpy.asarray(a, dtype=numpy.int32)
        pb = numpy.asarray(b, dtype=numpy.int32)
        both = (pa[..., 3] >= 128) & (pb[..., 3] >= 128)
        n = int(both.sum()) * 3
        se = int(((pa[..., :3] - pb[..., :3]) ** 2)[both].sum())
        values.append(99.0 if n == 0 or se == 0 else min(99.0, 10 * math.log10(255 * 255 * n / se)))
    return sum(values) / len(values), len(source) == len(output)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--darkroom", default=".build/release/darkroom")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--darkroom-arg", action="append", default=[], help="an extra argument for darkroom convert")
    parser.add_argument("--stills", action="store_true", help="also compare single-frame inputs (a still GIF each)")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args()
    total = {"darkroom": 0, "pillow": 0}
    times = {"darkroom": 0.0, "pillow": 0.0}
    worse = 0
    psnr_sum = {"darkroom": 0.0, "pillow": 0.0}
    files = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.inputs:
            source = frames(path)
            if len(source) < 2 and not args.stills:
                continue
            ours, theirs = os.path.join(tmp, "d.gif"), io.BytesIO()
            best = {"darkroom": math.inf, "pillow": math.inf}
            for r in range(args.rounds):
                order = ["darkroom", "pillow"] if r % 2 == 0 else ["pillow", "darkroom"]
                for tool in order:
                    start = time.perf_counter()
                    if tool == "darkroom":
                        subprocess.run([args.darkroom, "convert", path, "-f", "gif", "-o", ours, "--overwrite", "--quiet"] + args.darkroom_arg,
                                       check=True, stdout=subprocess.DEVNULL)
                    else:
                        theirs = io.BytesIO()
                        Image.open(path).save(theirs, format="GIF", save_all=len(source) > 1)
                    best[tool] = min(best[tool], time.perf_counter() - start)
            ours_bytes = open(ours, "rb").read()
            theirs_bytes = theirs.getvalue()
            p_ours, same_ours = psnr(source, frames(io.BytesIO(ours_bytes)))
            p_theirs, same_theirs = psnr(source, frames(io.BytesIO(theirs_bytes)))
            total["darkroom"] += len(ours_bytes)
            psnr_sum["darkroom"] += p_ours
            psnr_sum["pillow"] += p_theirs
            files += 1
            total["pillow"] += len(theirs_bytes)
            times["darkroom"] += best["darkroom"]
            times["pillow"] += best["pillow"]
            if p_ours + 0.05 < p_theirs or len(ours_bytes) > len(theirs_bytes):
                worse += 1
            print(f"{os.path.basename(path)}: {len(source)} frames; darkroom {len(ours_bytes)} B {p_ours:.2f} dB"
                  f"{'' if same_ours else ' (frame count differs)'} {best['darkroom'] * 1000:.0f} ms;"
                  f" pillow {len(theirs_bytes)} B {p_theirs:.2f} dB{'' if same_theirs else ' (frame count differs)'}"
                  f" {best['pillow'] * 1000:.0f} ms; bytes ratio {len(ours_bytes) / len(theirs_bytes):.3f}")
    if total["pillow"]:
        print(f"total: darkroom {total['darkroom']} B, pillow {total['pillow']} B, bytes ratio"
              f" {total['darkroom'] / total['pillow']:.3f}; time ratio {times['darkroom'] / times['pillow']:.2f};"
              f" files where darkroom is larger or lower in PSNR: {worse};"
              f" mean PSNR darkroom {psnr_sum['darkroom'] / files:.2f} dB, pillow {psnr_sum['pillow'] / files:.2f} dB")


if __name__ == "__main__":
    sys.exit(main())
