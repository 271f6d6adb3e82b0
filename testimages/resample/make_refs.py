#!/usr/bin/env python3
"""Regenerate the resampling reference outputs (raw interleaved 8-bit, no header).

Run with a Python that has Pillow and numpy (e.g. ~/.cache/darkroom-peers/bin/python):
    python testimages/resample/make_refs.py
Writes, next to this script:
  src-WxH.rgba / src-WxH.rgb       deterministic synthetic sources (alpha with fully transparent
                                   holes whose colour is garbage, so premultiplication matters)
  pil-FILTER-WxH.rgba / .rgb       Pillow Image.resize(FILTER) outputs (Pillow premultiplies RGBA)
  go-*.rgb/.rgba                   raw copies of the Go x/image/draw references in
                                   /work/shared/corpus/resize (decoded with Pillow), when present
The tests in Tests/DarkroomTests/Resample/ResampleReferenceTests.swift read these files.
"""
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = "/work/shared/corpus/resize"


def synth(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 255 * x / (w - 1)
    b = 255 * y / (h - 1)
    img = np.stack([r, g, b], axis=-1)
    img[(x // 8 + y // 8) % 3 == 0] = [250, 30, 20]           # hard-edged blocks
    img[:, 31] = 255                                            # a 1 px line
    img += rng.normal(0, 6, img.shape)                          # grain
    rgb = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    a = np.clip(np.rint(64 + 191 * (x + y) / (w + h - 2)), 0, 255)
    a[(x > 40) & (y > 20) & (y < 36)] = 0                       # transparent hole...
    hole = a == 0
    rgb_hole = rgb.copy()
    rgb_hole[hole] = rng.integers(0, 256, (int(hole.sum()), 3))  # ...with garbage colour
    a[(x < 12)] = 255                                           # opaque band
    rgba = np.dstack([rgb_hole, a.astype(np.uint8)])
    return rgb, rgba


def write(name, arr):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(np.ascontiguousarray(arr).tobytes())


def main():
    w, h = 64, 48
    rgb, rgba = synth(w, h, 20240601)
    write(f"src-{w}x{h}.rgb", rgb)
    write(f"src-{w}x{h}.rgba", rgba)
    filters = {"lanczos3": Image.LANCZOS, "catmull-rom": Image.BICUBIC, "bilinear": Image.BILINEAR, "box": Image.BOX}
    targets = [(27, 20), (101, 75)]
    for name, f in filters.items():
        for tw, th in targets:
            if name != "lanczos3" and (tw, th) != (27, 20):
                continue
            for mode, arr, ext in (("RGB", rgb, "rgb"), ("RGBA", rgba, "rgba")):
                out = Image.fromarray(arr, mode).resize((tw, th), f)
                write(f"pil-{name}-{tw}x{th}.{ext}", np.asarray(out))
    if os.path.isdir(CORPUS):
        pairs = [("golang/go-turns-two-14x18.png", "go-src-14x18"), ("golang/go-turns-two-up-cr.png", "go-up-cr-75x100"),
                 ("golang/go-turns-two-up-bl.png", "go-up-bl-75x100"),
                 ("image-rs/resize-with-alpha-original.png", "irs-src-129x66"),
                 ("image-rs/resize-with-alpha-original-half-size.png", "irs-half-65x33")]
        for rel, stem in pairs:
            im = Image.open(os.path.join(CORPUS, rel))
            mode = "RGBA" if stem.startswith("irs") else "RGB"
            write(f"{stem}.{mode.lower()}", np.asarray(im.convert(mode)))
    else:
        print("corpus not found; Go/image-rs references not refreshed", file=sys.stderr)


if __name__ == "__main__":
    main()
