#!/usr/bin/env python3
"""Writes a synthetic animated GIF for the animation measurements (needs Pillow: run it with
~/.cache/darkroom-peers/bin/python): moving discs and a progress bar, 64 colours per frame,
40 ms per frame, looping forever.

Usage: make_anim_gif.py OUT.gif [--frames 200] [--size 512x384]
"""
import argparse

from PIL import Image, ImageDraw

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--frames", type=int, default=200)
ap.add_argument("--size", default="512x384")
args = ap.parse_args()
w, h = map(int, args.size.split("x"))
frames = []
for k in range(args.frames):
    im = Image.new("RGB", (w, h), (20, 30, 60))
    d = ImageDraw.Draw(im)
    for j in range(6):
        x, y = (k * 7 + j * 80) % w, (k * 3 + j * 60) % h
        d.ellipse([x - 30, y - 30, x + 30, y + 30], fill=((j * 40) % 256, 200 - j * 20, (k * 5) % 256))
    d.rectangle([0, h - 34, (k * w) // args.frames, h], fill=(250, 250, 0))
    frames.append(im.quantize(64))
frames[0].save(args.out, save_all=True, append_images=frames[1:], duration=40, loop=0)
