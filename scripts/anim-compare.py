#!/usr/bin/env python3
"""Compares an animation Darkroom wrote with Pillow's reading of its source, frame by frame.

Usage: anim-compare.py SOURCE OUTPUT   (run with a Python that has Pillow, e.g.
~/.cache/darkroom-peers/bin/python). OUTPUT is an image file, or a folder of frames as Darkroom
read them: frames.json ({"width", "height", "durations": [ms], "loop": plays}) and 0.rgba, 1.rgba,
… (straight 8-bit RGBA, row by row). Prints one JSON object:

  frames      [source, output] frame counts (Pillow's n_frames, less an APNG's default image)
  durations   [source, output] lists of per-frame durations in ms (Pillow's info['duration'])
  loop        [source, output] Pillow's info['loop'] (GIF: the raw NETSCAPE2.0 value, absent = null;
              WebP: the ANIM loop count)
  max_diff    per frame, the largest difference of any RGBA sample between the two composited
              frames (RGBA via Pillow's convert), ignoring RGB where both pixels are fully transparent
  mismatched  per frame, the pixels whose alpha differs by more than 127 (transparent vs opaque)
  psnr        per frame, PSNR in dB of the RGB samples of pixels opaque in both (99 when identical)
  errors      [source, output]: what stopped Pillow reading frames (null when it read them all);
              the frames before are compared

An APNG whose IDAT image is no animation frame (Pillow's info['default_image']): Pillow counts
that image as frame 0; browsers do not show it, nor does Darkroom, so it is left out here and
"default_image_skipped" says so. Pillow 13 draws the first animation frame over it with
blend_op OVER (browsers over transparent black).
"""
import json
import math
import os
import sys

from PIL import Image


def frames(path):
    """Pillow's image, its frames (RGBA, duration) up to the first it cannot read, whether an
    APNG default image was left out, and the error that stopped the reading (or None)."""
    im = Image.open(path)
    skip = 1 if im.info.get("default_image") else 0
    apng = im.format == "PNG" and getattr(im, "n_frames", 1) > 1
    out = []
    try:
        for i in range(getattr(im, "n_frames", 1)):
            frame = im
            if apng:
                # Pillow 13 composites an APNG differently when each frame is loaded in turn
                # (dispose_op PREVIOUS after blend_op OVER restores the wrong canvas): each frame
                # is read by seeking straight to it from a fresh open.
                frame = Image.open(path)
            frame.seek(i)
            frame.load()
            if i >= skip:
                out.append((frame.convert("RGBA"), frame.info.get("duration")))
    except (EOFError, OSError, SyntaxError, ValueError) as e:
        return im, out, skip == 1, f"{type(e).__name__}: {e}"
    return im, out, skip == 1, None


class RawFrames:
    """A folder of raw frames, standing in for Pillow's image of an output."""

    def __init__(self, folder):
        with open(os.path.join(folder, "frames.json")) as f:
            self.meta = json.load(f)
        self.size = (self.meta["width"], self.meta["height"])
        self.info = {"loop": self.meta.get("loop")}
        self.frames = []
        for k, duration in enumerate(self.meta["durations"]):
            with open(os.path.join(folder, f"{k}.rgba"), "rb") as f:
                self.frames.append((Image.frombytes("RGBA", self.size, f.read()), duration))


def main():
    src_im, src, skipped, src_error = frames(sys.argv[1])
    out_error = None
    if os.path.isdir(sys.argv[2]):
        out_im = RawFrames(sys.argv[2])
        out = out_im.frames
    else:
        out_im, out, _, out_error = frames(sys.argv[2])
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
        "default_image_skipped": skipped,
        "errors": [src_error, out_error],
    }))


if __name__ == "__main__":
    main()
