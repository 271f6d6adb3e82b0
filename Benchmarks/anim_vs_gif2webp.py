#!/usr/bin/env python3
"""GIF → animated WebP: Darkroom against gif2webp at its default settings (lossless, like
Darkroom's default for a GIF at its own size), on every animated GIF of the shared corpus
(MANIFEST.tsv, frames > 1) and on any extra GIFs named on the command line.

Usage: anim_vs_gif2webp.py [--darkroom .build/release/darkroom] [--rounds 5] [extra.gif ...]

Each round runs both tools once per file, alternating which goes first (whole processes, so
start-up counts for both). Reports per file the output bytes of each and the ratio, and over the
corpus the total bytes and the median time ratio per file (Darkroom / gif2webp; below 1 is faster).
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "shared", "corpus")


def corpus_gifs():
    rows = csv.DictReader(open(os.path.join(CORPUS, "MANIFEST.tsv")), delimiter="\t")
    return [os.path.join(CORPUS, r["path"]) for r in rows
            if r["format"] == "gif" and r["expected"] == "decode-ok" and (r["frames"] or "0").isdigit()
            and int(r["frames"] or 0) > 1]


def timed(cmd):
    start = time.perf_counter()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - start if rc == 0 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--darkroom", default=os.path.join(HERE, "..", ".build", "release", "darkroom"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    files = corpus_gifs() + args.extra
    out = tempfile.mkdtemp()
    a, b = os.path.join(out, "d.webp"), os.path.join(out, "g.webp")
    total_d = total_g = 0
    ratios = []
    print(f"{'file':48} {'darkroom B':>10} {'gif2webp B':>10} {'bytes':>6} {'time':>6}")
    failed = []
    done = []
    for f in files:
        td, tg = [], []
        for r in range(args.rounds):
            runs = [("d", [args.darkroom, "convert", f, "-f", "webp", "-o", a, "--overwrite"]),
                    ("g", ["gif2webp", "-quiet", f, "-o", b])]
            if r % 2:
                runs.reverse()
            for name, cmd in runs:
                (td if name == "d" else tg).append(timed(cmd))
        if None in td or None in tg:
            failed.append((f, "darkroom" if None in td else "gif2webp"))
            continue
        done.append(f)
        bd, bg = os.path.getsize(a), os.path.getsize(b)
        total_d += bd
        total_g += bg
        ratio = statistics.median(td) / statistics.median(tg)
        ratios.append(ratio)
        name = os.path.relpath(f, CORPUS) if f.startswith(CORPUS) else f
        print(f"{name[-48:]:48} {bd:10} {bg:10} {bd / bg:6.3f} {ratio:6.2f}")
    print(f"total: darkroom {total_d} B, gif2webp {total_g} B, ratio {total_d / total_g:.3f}; "
          f"median time ratio {statistics.median(ratios):.2f} over {len(done)} files")
    for f, who in failed:
        print(f"skipped (failed in {who}): {f}")
    # Throughput without per-process start-up on Darkroom's side: one `convert --out-dir` of every
    # file against one gif2webp process per file (what a batch costs with each tool).
    batch_d, batch_g = [], []
    for r in range(args.rounds):
        folder = tempfile.mkdtemp()
        order = ["d", "g"] if r % 2 == 0 else ["g", "d"]
        for who in order:
            start = time.perf_counter()
            if who == "d":
                subprocess.run([args.darkroom, "convert", *done, "-f", "webp", "--out-dir", folder, "--overwrite",
                                "--name", "{index}.{ext}", "-j", "1"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                batch_d.append(time.perf_counter() - start)
            else:
                for i, f in enumerate(done):
                    subprocess.run(["gif2webp", "-quiet", f, "-o", os.path.join(folder, f"g{i}.webp")], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                batch_g.append(time.perf_counter() - start)
    print(f"batch of {len(done)} files: darkroom (one process, -j 1) {statistics.median(batch_d):.3f} s, "
          f"gif2webp (one process per file) {statistics.median(batch_g):.3f} s, "
          f"ratio {statistics.median(batch_d) / statistics.median(batch_g):.2f}")


if __name__ == "__main__":
    sys.exit(main())
