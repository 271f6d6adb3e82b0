#!/usr/bin/env python3
"""Compares an animation Darkroom wrote with Pillow's reading of its source, frame by frame.

Usage: anim-compare.py SOURCE OUTPUT   (run with a Python that has Pillow, e.g.
~/.cache/darkroom-peers/bin/python). Prints one JSON object:

  frames      [source, output] frame counts (Pillow's n_frames)
  durations   [source, output] lists of per-frame durations in ms (Pillow's info['duration'])
  loop        [source, output] Pillow's info['loop'] (GIF: the raw NETSCAPE2.0 value, absent = null;
              WebP: the ANIM loop count)
  max_diff    per frame, the largest difference of any RGBA sample between the two composited
              frames (RGBA via Pillow's convert), ignoring RGB where both pixels are fully transparent
  mismatched  per frame, the pixels whose alpha differs by more than 127 (transparent vs opaque)
  psnr        per frame, PSNR in dB of the RGB samples of pixels opaque in both (99 when identical)
"""
import math
import json
import sys

from PIL import Image


def frames(path):
    im = Image.open(path)
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        im.load()
        out.append((im.convert("RGBA"), im.info.get("duration")))
    return im, out


def main():
    src_im, src = frames(sys.argv[1])
    out_im, out = frames(sys.argv[2])
    max_diff, mismatched, psnr = [], [], []
    for (a, _), (b, _) in zip(src, out):
        if a.size != b.size:
            b = b.resize(a.size)
        pa, pb = a.tobytes(), b.tobytes()
        worst, bad, squared, samples = 0, 0, 0, 0
        for i in range(0, len(pa), 4):
            if pa[i + 3] == 0 and pb[i + 3] == 0:
                continue
            if abs(pa[i + 3] - pb[i + 3]) > 127:
                bad += 1
            worst = max(worst, *(abs(pa[i + k] - pb[i + k]) for k in range(4)))
            if pa[i + 3] == 255 and pb[i + 3] == 255:
                squared += sum((pa[i + k] - pb[i + k]) ** 2 for k in range(3))
                samples += 3
        max_diff.append(worst)
        mismatched.append(bad)
        psnr.append(99.0 if squared == 0 else round(10 * math.log10(255 ** 2 * samples / squared), 2))
    print(json.dumps({
        "frames": [len(src), len(out)],
        "durations": [[d for _, d in src], [d for _, d in out]],
        "loop": [src_im.info.get("loop"), out_im.info.get("loop")],
        "size": [list(src_im.size), list(out_im.size)],
        "max_diff": max_diff,
        "mismatched": mismatched,
        "psnr": psnr,
    }))


if __name__ == "__main__":
    main()
