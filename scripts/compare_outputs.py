#!/usr/bin/env python3
"""Byte-for-byte comparison of two darkroom binaries (see scripts/compare-outputs.sh).

    compare_outputs.py OLD_BINARY NEW_BINARY [--quick] [--only TEXT] [--jobs N] [--list] [--timing] [--keep-work]

Builds a list of inputs (shared corpus, testimages/, generated photo-like images), runs every
(input, option set) conversion with both binaries, each run in its own temporary folder with
`timeout 60`, and compares: exit status, every file and folder the run left (name and sha256),
standard output (sha256), and standard error (a failure's first line, then every line; the
success line names the output size, warnings are compared too). One line per conversion that
differs, a coverage block, a summary line; exit status 1 when anything differs.

Nondeterminism found with OLD = NEW: only the line order of `convert -j 2` with several inputs
(each input's line is printed when it finishes), so those runs compare sorted stderr lines.
`--json` output is not compared (it carries "ms" timings).

The two binaries are copied into the work folder first, so a rebuild during the run does not
change what is compared. DARKROOM_KERNEL is removed from the environment (the default kernel
choice is compared; some option sets force one explicitly). No process runs longer than 60 s;
at most --jobs (default 2) darkroom processes run at once.
"""

import argparse
import collections
import concurrent.futures
import csv
import hashlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))
TESTIMAGES = os.path.join(REPO, "testimages")
TIME_LIMIT = 60

EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def stable_pick(key, keep, of):
    """Deterministic sample: the same key is always in or out (keep out of `of`)."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % of < keep


def sniff(path):
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError:
        return ""
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"\xff\xd8"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"GIF8",):
        return "gif"
    if head[4:8] == b"ftyp":
        return "avif"
    return ""


def jpeg_restart_interval(path):
    """Walks the JPEG marker segments (skipping entropy-coded data) and returns the interval of
    the first DRI (FF DD) segment, or None when there is none."""
    with open(path, "rb") as f:
        data = f.read()
    n = len(data)
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 1 < n:
        if data[i] != 0xFF:
            i += 1
            continue
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m in (0x00, 0x01, 0xD8) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        if m == 0xD9 or i + 3 >= n:
            return None
        length = (data[i + 2] << 8) | data[i + 3]
        if m == 0xDD:
            return (data[i + 4] << 8) | data[i + 5] if i + 5 < n else 0
        i += 2 + length
        if m == 0xDA:  # entropy-coded data up to the next marker that is not a stuffed byte or RSTn
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                nm = data[j + 1]
                if nm == 0x00 or 0xD0 <= nm <= 0xD7:
                    i = j + 2
                    continue
                if nm == 0xFF:
                    i = j + 1
                    continue
                i = j
                break
    return None


# ---------------------------------------------------------------------------------------------
# Inputs


class Input:
    def __init__(self, path, label, folder, fmt, w, h, alpha=False, tier="full", tags=()):
        self.path = path
        self.label = label          # printed name (corpus-relative, or gen/..., testimages/...)
        self.folder = folder        # coverage bucket
        self.fmt = fmt
        self.w = w
        self.h = h
        self.alpha = alpha
        self.tier = tier            # full, color, orient, conform, corrupt
        self.tags = set(tags)

    @property
    def pixels(self):
        return (self.w or 0) * (self.h or 0)

    @property
    def small(self):
        return self.pixels <= 300_000

    @property
    def large(self):
        return self.pixels > 5_000_000


def corpus_inputs(quick, notes):
    manifest = os.path.join(CORPUS, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        notes.append(f"no corpus at {CORPUS}: corpus inputs skipped")
        return []
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    restart_found = 0
    for r in rows:
        p = r["path"]
        parts = p.split("/")
        top = parts[0]
        name = parts[-1]
        sub = "/".join(parts[:2])
        full = os.path.join(CORPUS, p)
        if top == "bomb" or not os.path.exists(full):
            continue
        fmt = r["format"]
        w = int(r["width"]) if r["width"].isdigit() else 0
        h = int(r["height"]) if r["height"].isdigit() else 0
        alpha = r["has_alpha"] == "yes"
        tags = set()
        restart = None
        if fmt == "jpeg":
            restart = jpeg_restart_interval(full)
            if restart is not None:
                tags.add("restart")
                restart_found += 1
        take, tier = False, "conform"
        if top == "resize":
            take, tier = True, "full"
        elif top == "crossformat":
            take, tier = True, "color"
            if quick:
                take = stable_pick(p, 1, 3)
        elif top == "orientation":
            take, tier = True, "orient"
            if quick:
                take = stable_pick(p, 1, 3) or name in ("Landscape_6.jpg", "Portrait_5.jpg")
        elif top == "color":
            libpng_matrix = "libpng-testpngs" in p
            take, tier = True, ("conform" if libpng_matrix else "color")
            if libpng_matrix:
                take = stable_pick(p, 1, 6 if quick else 2)
            elif quick:
                take = stable_pick(p, 1, 3)
        elif top == "conform":
            take, tier = conform_pick(p, sub, name, quick), "conform"
        elif top == "corrupt":
            tier = "corrupt"
            take = stable_pick(p, 1, 10 if quick else 4) or (sub == "corrupt/jpeg" and not quick)
        if "restart" in tags:  # every restart-marker JPEG, in both modes
            take = True
        if take:
            out.append(Input(full, p, sub, fmt, w, h, alpha, tier, tags))
    notes.append(f"corpus: {restart_found} JPEGs with a DRI (restart) marker found outside bomb/")
    return out


def conform_pick(p, sub, name, quick):
    n = name.lower()
    if sub == "conform/png":
        if "/pngsuite/" in p:
            key = n.startswith(("basn", "basi", "bgai", "bgan", "tbbn", "tbrn", "tp1n")) or "16" in n or "3p" in n
            return (key and stable_pick(p, 1, 8)) if quick else (key or stable_pick(p, 1, 3))
        if "/apng/" in p:
            return stable_pick(p, 1, 12 if quick else 5)
        return stable_pick(p, 1, 4 if quick else 2) or (not quick and "/sbit/" in p)
    if sub == "conform/jpeg":
        if "/jpegsuite/" in p:
            d = p.split("/")[3]
            if d in ("baseline", "progressive_huffman", "extended_huffman"):
                key = n.startswith("32x32") or "x12_" in n or n.startswith(("1x1", "8x8x8_grayscale.", "15x15"))
                return (key and stable_pick(p, 1, 8)) if quick else key
            return stable_pick(p, 1, 16 if quick else 6)  # arithmetic, lossless, JPEG-LS: mostly refused
        return stable_pick(p, 1, 8) if quick else True
    if sub == "conform/webp":
        return stable_pick(p, 1, 6) if quick else True
    if sub == "conform/avif":
        return stable_pick(p, 1, 6 if quick else 2)
    if sub == "conform/gif":
        if "/pygif-suite/" in p:
            return stable_pick(p, 1, 25 if quick else 8)
        return stable_pick(p, 1, 8 if quick else 3)
    return False


def testimage_inputs(quick):
    out = []
    if not os.path.isdir(TESTIMAGES):
        return out
    for name in sorted(os.listdir(TESTIMAGES)):
        full = os.path.join(TESTIMAGES, name)
        fmt = sniff(full)
        if not os.path.isfile(full) or not fmt:
            continue
        if quick and name not in ("kodim23.jpg", "rgba.png", "hopper-orientation-6.jpg"):
            continue
        tags = {"restart"} if fmt == "jpeg" and jpeg_restart_interval(full) is not None else set()
        size = {"kodim23.jpg": (768, 512), "rgba.png": (32, 32)}.get(name, (128, 128))
        out.append(Input(full, "testimages/" + name, "testimages", fmt, size[0], size[1],
                         name in ("rgba.png", "palette-trns.png"), "color", tags))
    return out


# ---------------------------------------------------------------------------------------------
# Generated photo-like images


def write_png(path, arr, bitdepth=8):
    import numpy as np
    h, w = arr.shape[:2]
    ch = 1 if arr.ndim == 2 else arr.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[ch]
    if bitdepth == 16:
        raw = arr.astype(">u2").reshape(h, -1).view(np.uint8)
    else:
        raw = arr.astype(np.uint8).reshape(h, -1)
    raw = np.hstack([np.zeros((h, 1), np.uint8), raw])  # filter type 0 on every row

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth, colour_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)))
        f.write(chunk(b"IEND", b""))


def exif_orientation_segment(value):
    """An APP1 Exif segment holding only the Orientation tag (big-endian TIFF, one IFD entry)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def write_pnm(path, arr):
    h, w = arr.shape[:2]
    magic = b"P5" if arr.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (w, h))
        f.write(arr.tobytes())


def photo(w, h, seed, channels=3, sixteen=False):
    """Smooth gradients and low-frequency waves, a sharp wavy horizon, a band of fine texture and
    Gaussian noise: enough structure for resampling and chroma to matter, enough noise for the
    encoders to work."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    horizon = 0.55 + 0.08 * np.sin(x * 7 + seed)
    out = np.empty((h, w, channels), np.float32)
    for c in range(channels):
        a = rng.uniform(0.5, 3, 4)
        ph = rng.uniform(0, 6.3, 4)
        v = 110 + 60 * np.sin(x * a[0] * 3 + ph[0]) * np.cos(y * a[1] * 2 + ph[1])
        v = v + 40 * np.sin((x + y) * a[2] * 5 + ph[2])
        v = v + np.where(y > horizon, -50 + 30 * c, 25)
        v = v + 20 * np.sin(x * a[3] * 60 + ph[3]) * (y > 0.8)
        out[..., c] = v
    out += rng.normal(0, 6, (h, w, channels)).astype(np.float32)
    out = np.clip(out, 0, 255)
    if sixteen:
        return (out * 257).astype(np.uint16)
    return out.astype(np.uint8) if channels > 1 else out[..., 0].astype(np.uint8)


def generated_inputs(gen_dir, old_bin, quick, notes, env):
    try:
        import numpy as np
    except ImportError:
        notes.append("numpy missing: no generated photos")
        return []
    os.makedirs(gen_dir, exist_ok=True)
    out = []

    def add(name, fmt, w, h, alpha=False, tier="full", tags=()):
        out.append(Input(os.path.join(gen_dir, name), "gen/" + name, "generated", fmt, w, h, alpha, tier, tags))

    def old_convert(src, dst, *args):
        r = subprocess.run(["timeout", str(TIME_LIMIT), old_bin, "convert", os.path.join(gen_dir, src),
                            *args, "-o", os.path.join(gen_dir, dst)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if r.returncode != 0:
            notes.append(f"generator: OLD could not write {dst}: {r.stderr.decode(errors='replace').strip()[:200]}")
            return False
        return True

    cjpeg = shutil.which("cjpeg")
    if not cjpeg:
        notes.append("cjpeg not found (apt-get install libjpeg-turbo-progs): no generated restart-marker, "
                     "4:4:4 or progressive JPEGs from libjpeg's own encoder")

    def cj(src_pnm, dst, *args, w=0, h=0, tags=()):
        if not cjpeg:
            return
        r = subprocess.run([cjpeg, *args, "-outfile", os.path.join(gen_dir, dst), os.path.join(gen_dir, src_pnm)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            notes.append(f"generator: cjpeg {' '.join(args)} failed: {r.stderr.decode(errors='replace')[:200]}")
            return
        t = set(tags)
        if jpeg_restart_interval(os.path.join(gen_dir, dst)) is not None:
            t.add("restart")
        add(dst, "jpeg", w, h, tier="full", tags=t)

    sizes = [(6000, 4000, 1), (4032, 3024, 2), (2000, 1333, 3), (1500, 2000, 4)]
    if quick:
        sizes = [(4032, 3024, 2), (2000, 1333, 3)]
    for w, h, seed in sizes:
        stem = f"photo-{w}x{h}"
        img = photo(w, h, seed)
        write_png(os.path.join(gen_dir, stem + ".png"), img)
        plain = not (quick and w == 4032)  # quick: only the 12 MP restart-marker JPEG
        if plain:
            add(stem + ".png", "png", w, h)
        if old_convert(stem + ".png", stem + ".jpg", "-f", "jpeg", "-q", "92") and plain:
            add(stem + ".jpg", "jpeg", w, h)
        if cjpeg and (w, h) in ((2000, 1333), (4032, 3024)):
            write_pnm(os.path.join(gen_dir, stem + ".ppm"), img)
            cj(stem + ".ppm", stem + "-rst1.jpg", "-quality", "90", "-restart", "1", w=w, h=h)
            if (w, h) == (2000, 1333) and os.path.exists(os.path.join(gen_dir, stem + "-rst1.jpg")):
                # The same with an Exif orientation 6 (a rotated restart-band decode).
                with open(os.path.join(gen_dir, stem + "-rst1.jpg"), "rb") as f:
                    data = f.read()
                with open(os.path.join(gen_dir, stem + "-rst1-exif6.jpg"), "wb") as f:
                    f.write(data[:2] + exif_orientation_segment(6) + data[2:])
                add(stem + "-rst1-exif6.jpg", "jpeg", w, h, tags={"restart"})
            if (w, h) == (2000, 1333):
                cj(stem + ".ppm", stem + "-444.jpg", "-quality", "90", "-sample", "1x1", w=w, h=h)
                cj(stem + ".ppm", stem + "-prog.jpg", "-quality", "90", "-progressive", w=w, h=h)
                if not quick:
                    cj(stem + ".ppm", stem + "-444-rst5b.jpg", "-quality", "85", "-sample", "1x1",
                       "-restart", "5B", w=w, h=h)
                    cj(stem + ".ppm", stem + "-prog-rst2.jpg", "-quality", "90", "-progressive",
                       "-restart", "2", w=w, h=h)
            os.remove(os.path.join(gen_dir, stem + ".ppm"))
        if (w, h) == (2000, 1333):
            if old_convert(stem + ".png", stem + ".webp", "-f", "webp", "-q", "90"):
                add(stem + ".webp", "webp", w, h)
        del img

    gray = photo(2000, 1333, 5, channels=1)
    write_png(os.path.join(gen_dir, "gray-2000x1333.png"), gray)
    add("gray-2000x1333.png", "png", 2000, 1333)
    if old_convert("gray-2000x1333.png", "gray-2000x1333.jpg", "-f", "jpeg", "-q", "92"):
        add("gray-2000x1333.jpg", "jpeg", 2000, 1333)
    if cjpeg and not quick:
        write_pnm(os.path.join(gen_dir, "gray.pgm"), gray)
        cj("gray.pgm", "gray-2000x1333-rst2.jpg", "-grayscale", "-restart", "2", w=2000, h=1333)
        os.remove(os.path.join(gen_dir, "gray.pgm"))
    del gray

    rgba = photo(1200, 800, 6, channels=4)
    yy, xx = np.mgrid[0:800, 0:1200].astype(np.float32)
    alpha = np.clip(255 * (0.5 + 0.5 * np.sin(xx / 90.0) * np.cos(yy / 60.0)), 0, 255)
    alpha[:, :150] = 0      # fully transparent strip
    alpha[:, -150:] = 255   # opaque strip
    rgba[..., 3] = alpha.astype(np.uint8)
    write_png(os.path.join(gen_dir, "rgba-1200x800.png"), rgba)
    add("rgba-1200x800.png", "png", 1200, 800, alpha=True)
    if old_convert("rgba-1200x800.png", "rgba-1200x800.webp", "-f", "webp", "-q", "90"):
        add("rgba-1200x800.webp", "webp", 1200, 800, alpha=True)
    if not quick:
        write_png(os.path.join(gen_dir, "graya-800x600.png"), rgba[:600, :800][..., [0, 3]].copy())
        add("graya-800x600.png", "png", 800, 600, alpha=True)
        write_png(os.path.join(gen_dir, "rgb16-1024x768.png"), photo(1024, 768, 7, sixteen=True), bitdepth=16)
        add("rgb16-1024x768.png", "png", 1024, 768)
    del rgba
    return out


def generated_response(gen_dir):
    """An images response whose items are generated photos (for `decode` with conversion flags)."""
    import base64
    import json
    items = []
    for name in ("photo-2000x1333.jpg", "rgba-1200x800.png", "photo-2000x1333.webp"):
        p = os.path.join(gen_dir, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                items.append({"b64_json": base64.b64encode(f.read()).decode(), "revised_prompt": name})
    if not items:
        return None
    path = os.path.join(gen_dir, "response-photos.json")
    with open(path, "w") as f:
        json.dump({"created": 1700000000, "data": items,
                   "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}, f)
    return path


# ---------------------------------------------------------------------------------------------
# Option sets


class Job:
    __slots__ = ("id", "set", "label", "argv", "stdin", "env", "cost", "inputs", "unordered", "seconds", "hidden")

    def __init__(self, set_name, label, argv, stdin=None, env=None, cost=1.0, inputs=(), unordered=False):
        self.id = 0
        self.unordered = unordered  # stderr lines compared as a sorted list (parallel conversions)
        self.seconds = 0.0
        self.hidden = None  # an argument not printed (the label names it)
        self.set = set_name
        self.label = label
        self.argv = argv
        self.stdin = stdin
        self.env = env or {}
        self.cost = cost
        self.inputs = inputs


GEOMETRIES = ["4mp", "800x600", "800x600!", "50%", "1024x", "300x300^", "800x600>", "x600"]
FILTERS = ["nearest", "box", "bilinear", "catmull-rom", "mitchell", "lanczos2", "lanczos3"]


def convert_sets(inp, quick):
    """(set name, args, output format) for one input. An output format of None means the input's
    own (written with --out-dir, so the format comes from the input, not from -o).

    Tiers: full (resize/, generated) gets every set; orient (orientation/) every geometry and the
    orientation-sensitive sets; color (color/ outside the libpng matrix, crossformat/, testimages/)
    formats, metadata and encoder sets; conform (conform/ sample,
    libpng matrix) three base sets plus two from a pool, picked by the file's name so the pool is
    spread over the inputs; corrupt four --fail-on sets."""
    s = []
    fmt = inp.fmt
    small, large = inp.small, inp.large
    tier = inp.tier
    shrink_input = fmt in ("jpeg", "webp")
    ALL = ("full", "orient", "color")

    def add(name, args, out, tiers=ALL, q=False):
        if tier not in tiers or (quick and not q):
            return
        s.append((name, args, out))

    if tier == "corrupt":
        add("corrupt default -f png", [], "png", ("corrupt",), q=True)
        add("--fail-on none -f png", ["--fail-on", "none"], "png", ("corrupt",), q=True)
        add("--fail-on warning -f png", ["--fail-on", "warning"], "png", ("corrupt",))
        add("--fail-on none -f jpeg --resize 50%", ["--fail-on", "none", "--resize", "50%"], "jpeg", ("corrupt",))
        return s

    if tier == "conform":
        C = ("conform",)
        add("keep format", [], None, C, q=True)
        add("-f jpeg", [], "jpeg", C, q=True)
        add("-f jpeg --resize 50%", ["--resize", "50%"], "jpeg", C)
        pool = [
            ("-f png", [], "png"),
            ("-f webp", [], "webp"),
            ("-f avif", [], "avif") if small else ("-f avif --resize 256x256", ["--resize", "256x256"], "avif"),
            ("-f gif", [], "gif") if small else ("-f gif --resize 256x256", ["--resize", "256x256"], "gif"),
            ("-f png --resize 300x300^", ["--resize", "300x300^"], "png"),
            ("--fail-on none -f png", ["--fail-on", "none"], "png"),
            ("--keep all -f jpeg", ["--keep", "all"], "jpeg"),
            ("--fast -f jpeg --resize 50%", ["--fast", "--resize", "50%"], "jpeg"),
            ("--progressive -f jpeg", ["--progressive"], "jpeg"),
            ("--threads 1 -f png --resize 800x600", ["--threads", "1", "--resize", "800x600"], "png"),
            ("--lossless -f webp", ["--lossless"], "webp"),
            ("--filter nearest -f png --resize 800x600!", ["--filter", "nearest", "--resize", "800x600!"], "png"),
        ]
        start = int(hashlib.sha1(inp.label.encode()).hexdigest()[:8], 16) % len(pool)
        for k in range(2):
            name, args, out = pool[(start + 5 * k) % len(pool)]
            add(name, args, out, C, q=k == 0)
        if inp.alpha:
            add("--background #336699 -f jpeg", ["--background", "#336699"], "jpeg", C)
        if "restart" in inp.tags:  # the threaded and the scaled (shrink-on-load) decode
            for t in ("1", "2"):
                add(f"--threads {t} -f png --resize 50%", ["--threads", t, "--resize", "50%"], "png", C,
                    q=t == "2")
            add("--fast -f png --resize 25%", ["--fast", "--resize", "25%"], "png", C)
            add("--no-shrink-on-load -f png --resize 25%", ["--no-shrink-on-load", "--resize", "25%"], "png", C)
        return s

    F, FO = ("full",), ("full", "orient")
    # Formats, no resize. Big inputs skip the slow full-size AVIF/GIF encodes.
    if not (large and fmt == "avif"):
        add("keep format", [], None, q=True)
    add("-f jpeg", [], "jpeg", q=True)
    add("-f png", [], "png", q=True)
    if not (large and fmt != "png"):  # a full-size 24 MP WebP encode takes seconds: once per picture
        add("-f webp", [], "webp", q=not large)
    if small:
        add("-f avif", [], "avif", q=True)
        add("-f gif", [], "gif", q=True)
    else:
        add("-f avif --resize 256x256", ["--resize", "256x256"], "avif", q=True)
        add("-f gif --resize 256x256", ["--resize", "256x256"], "gif")

    # Geometries: JPEG output (all of them for full/orient, where a rotated input makes each
    # geometry a different case); PNG, lossless, for the alpha/16-bit paths; WebP, AVIF, GIF once.
    for g in GEOMETRIES:
        add(f"-f jpeg --resize {g}", ["--resize", g], "jpeg",
            ALL if g in ("800x600", "50%", "300x300^") else FO, q=g in ("800x600", "50%"))
    add("-f png --resize 50%", ["--resize", "50%"], "png", q=True)
    add("-f png --resize 300x300^", ["--resize", "300x300^"], "png", F)
    add("-f png --resize 800x600", ["--resize", "800x600"], "png", F)
    add("-f webp --resize 800x600", ["--resize", "800x600"], "webp", FO, q=True)
    if small:
        add("-f gif --resize 800x600", ["--resize", "800x600"], "gif", F)
    add("-f avif --resize 300x300^", ["--resize", "300x300^"], "avif", F)

    # Filters: to 800x600 (an upscale for small inputs, a downscale for the rest) and a 37%
    # downscale; nearest for orient (a transposed image shows off-by-one rows first).
    for f in FILTERS:
        add(f"--filter {f} -f png --resize 800x600", ["--filter", f, "--resize", "800x600"], "png",
            FO if f == "nearest" else F, q=f in ("nearest", "mitchell"))
        add(f"--filter {f} -f png --resize 37%", ["--filter", f, "--resize", "37%"], "png", F,
            q=f == "catmull-rom")
    for kernel in ("scalar", "baseline"):
        if not large:  # the scalar reference is slow on 24 MP
            add(f"DARKROOM_KERNEL={kernel} -f png --resize 37%", ["--resize", "37%", "@env", kernel], "png", F)

    # Speed and threads.
    add("--fast -f jpeg", ["--fast"], "jpeg", F)
    add("--fast -f jpeg --resize 800x600", ["--fast", "--resize", "800x600"], "jpeg", q=True)
    add("--fast -f webp --resize 300x300^", ["--fast", "--resize", "300x300^"], "webp", F)
    for t in ("1", "2"):
        add(f"--threads {t} -f jpeg --resize 800x600", ["--threads", t, "--resize", "800x600"], "jpeg",
            ALL if t == "1" else FO, q=t == "1")
        add(f"--threads {t} -f png --resize 50%", ["--threads", t, "--resize", "50%"], "png", F)
    if shrink_input:
        add("--no-shrink-on-load -f jpeg --resize 300x300^", ["--no-shrink-on-load", "--resize", "300x300^"],
            "jpeg", q=True)
        add("--no-shrink-on-load --fast -f png --resize 10%", ["--no-shrink-on-load", "--fast", "--resize", "10%"],
            "png", F)
        add("--fast -f png --resize 10%", ["--fast", "--resize", "10%"], "png", FO)

    # Metadata (generated photos carry none: only --keep all -f jpeg for them).
    add("--keep all -f jpeg", ["--keep", "all"], "jpeg", q=True)
    M = ALL if inp.folder != "generated" else ()
    MC = tuple(t for t in ("full", "color") if t in M)
    add("--keep icc -f jpeg", ["--keep", "icc"], "jpeg", M)
    add("--keep exif -f jpeg", ["--keep", "exif"], "jpeg", M)
    add("--keep icc -f png", ["--keep", "icc"], "png", MC)
    add("--keep all -f png --resize 50%", ["--keep", "all", "--resize", "50%"], "png", tuple(t for t in FO if t in M))
    add("--keep all -f webp", ["--keep", "all"], "webp", MC)
    add("--keep all -f avif --resize 256x256", ["--keep", "all", "--resize", "256x256"], "avif", MC)

    # Encoder options.
    add("--quality 95 -f jpeg", ["--quality", "95"], "jpeg")
    add("--quality 95 -f webp --resize 800x600", ["--quality", "95", "--resize", "800x600"], "webp", F)
    add("--chroma 444 -f jpeg", ["--chroma", "444"], "jpeg")
    add("--chroma 444 -f jpeg --resize 800x600", ["--chroma", "444", "--resize", "800x600"], "jpeg", F)
    add("--chroma 444 -f avif --resize 256x256", ["--chroma", "444", "--resize", "256x256"], "avif", ("full", "color"))
    add("--progressive -f jpeg", ["--progressive"], "jpeg")
    add("--progressive -f jpeg --resize 50%", ["--progressive", "--resize", "50%"], "jpeg", F)
    add("--no-optimize-coding -f jpeg", ["--no-optimize-coding"], "jpeg", F)
    add("--lossless -f webp --resize 800x600", ["--lossless", "--resize", "800x600"], "webp", F)
    if small:
        add("--lossless -f webp", ["--lossless"], "webp", F)
        add("--no-dither -f gif", ["--no-dither"], "gif", ("full", "color"))
    else:
        add("--no-dither -f gif --resize 256x256", ["--no-dither", "--resize", "256x256"], "gif", F)
    add("--fail-on none -f png --resize 50%", ["--fail-on", "none", "--resize", "50%"], "png", F)

    # Alpha flattened into JPEG.
    if inp.alpha:
        add("--background #336699 -f jpeg", ["--background", "#336699"], "jpeg", q=True)
        add("--background black -f jpeg --resize 50%", ["--background", "black", "--resize", "50%"], "jpeg")
        add("--background #fff -f jpeg --resize 800x600", ["--background", "#fff", "--resize", "800x600"], "jpeg", F)

    # Restart-marker JPEGs: the threaded decode and the scaled (shrink-on-load) decode.
    if "restart" in inp.tags:
        for t in ("1", "2"):
            add(f"--threads {t} -f png --resize 50%", ["--threads", t, "--resize", "50%"], "png", q=t == "2")
        add("--fast -f png --resize 25%", ["--fast", "--resize", "25%"], "png")
        add("--no-shrink-on-load -f png --resize 25%", ["--no-shrink-on-load", "--resize", "25%"], "png")

    # Limits (refusals are compared too).
    if inp.pixels > 1_000_000:
        add("--max-pixels 1000000 -f jpeg", ["--max-pixels", "1000000"], "jpeg", q=True)
        add("--max-pixels 1000000 -f jpeg --resize 800x600", ["--max-pixels", "1000000", "--resize", "800x600"],
            "jpeg")
    return s


def build_jobs(inputs, quick, gen_response):
    jobs = []
    for inp in inputs:
        for name, args, out in convert_sets(inp, quick):
            args = list(args)
            env = {}
            if "@env" in args:
                k = args.index("@env")
                env["DARKROOM_KERNEL"] = args[k + 1]
                del args[k:k + 2]
            if out is None:
                argv = ["convert", inp.path, *args, "--out-dir", "out"]
            else:
                argv = ["convert", inp.path, "-f", out, *args, "-o", "out." + EXT[out]]
            cost = max(inp.pixels, 10_000) / 1e6 if inp.tier != "corrupt" else 0.01  # declared sizes lie
            if "--resize" not in args:
                cost *= 3 if out in ("png", "webp", "gif") else 1
                cost *= 8 if out == "avif" else 1
            jobs.append(Job(name, inp.label, argv, env=env, cost=cost, inputs=(inp,)))

    by_label = {i.label: i for i in inputs}

    def pick(*labels):
        return [by_label[x] for x in labels if x in by_label]

    # Standard input and standard output (the streaming paths).
    stream_inputs = pick("gen/photo-2000x1333.jpg", "gen/rgba-1200x800.png", "gen/photo-2000x1333.webp",
                         "orientation/recurser/Landscape_6.jpg", "crossformat/wuffs/bricks-color.png",
                         "resize/golang/go-turns-two-280x360.jpeg", "testimages/kodim23.jpg",
                         "gen/photo-2000x1333-rst1.jpg", "conform/gif/wuffs/bricks-dither.gif")
    for inp in stream_inputs:
        jobs.append(Job("stdin -> -f png --resize 50%", inp.label,
                        ["convert", "-", "-f", "png", "--resize", "50%", "-o", "out.png"], stdin=inp.path,
                        cost=inp.pixels / 1e6, inputs=(inp,)))
        jobs.append(Job("stdin -> stdout -f jpeg --resize 800x600", inp.label,
                        ["convert", "-", "-f", "jpeg", "--resize", "800x600", "-o", "-"], stdin=inp.path,
                        cost=inp.pixels / 1e6, inputs=(inp,)))
        if not quick:
            jobs.append(Job("file -> stdout -f webp", inp.label, ["convert", inp.path, "-f", "webp", "-o", "-"],
                            cost=3 * inp.pixels / 1e6, inputs=(inp,)))

    # Several inputs in one process (-j 2: parallel conversions inside darkroom).
    groups = collections.defaultdict(list)
    for inp in inputs:
        if inp.tier in ("full", "orient", "color") and not inp.large:
            groups[inp.folder].append(inp)
    for folder, members in sorted(groups.items()):
        stems, unique = set(), []
        for m in members:  # one output name per input: distinct stems only
            stem = os.path.splitext(os.path.basename(m.path))[0]
            if stem not in stems:
                stems.add(stem)
                unique.append(m)
        members = unique[:12]
        if len(members) < 2 or (quick and folder not in ("resize/golang", "generated")):
            continue
        paths = [m.path for m in members]
        label = f"{folder} ({len(paths)} files)"
        cost = sum(m.pixels for m in members) / 1e6
        jobs.append(Job("batch -j 2 -f webp --resize 800x600 --out-dir", label,
                        ["convert", *paths, "-j", "2", "-f", "webp", "--resize", "800x600", "--out-dir", "out"],
                        cost=cost, inputs=tuple(members), unordered=True))
        jobs.append(Job("batch -j 1 --suffix -s -f jpeg --resize 50% --out-dir", label,
                        ["convert", *paths, "-j", "1", "--suffix", "-s", "-f", "jpeg", "--resize", "50%",
                         "--out-dir", "out"], cost=cost, inputs=tuple(members)))

    # prep-refs: one image at a time with each format and a few options, then several at once.
    ref_inputs = pick("gen/photo-6000x4000.jpg", "gen/photo-4032x3024.png", "gen/photo-2000x1333.jpg",
                      "gen/rgba-1200x800.png", "gen/photo-2000x1333.webp", "gen/rgb16-1024x768.png",
                      "gen/photo-2000x1333-rst1.jpg",
                      "orientation/recurser/Landscape_6.jpg", "orientation/recurser/Portrait_8.jpg",
                      "orientation/pillow/hopper_orientation_6.webp", "color/jpeg/adobe-rgb-1998_xmp_test.jpg",
                      "color/cmyk/jpg-cmyk-2.jpg", "color/png/icc_profile.png", "color/avif/display-p3_3024x4032.avif",
                      "testimages/hopper-orientation-6.jpg", "testimages/gray16.png", "testimages/palette-trns.png",
                      "testimages/kodim23.jpg", "corrupt/jpeg/pillow/ultrahdr.jpg")
    if quick:
        ref_inputs = ref_inputs[:4]
    ref_variants = [("prep-refs", []), ("prep-refs --format jpeg", ["--format", "jpeg"]),
                    ("prep-refs --format webp", ["--format", "webp"]), ("prep-refs --format png", ["--format", "png"]),
                    ("prep-refs --max-mp 1 --optimize-coding", ["--max-mp", "1", "--optimize-coding"]),
                    ("prep-refs --threads 1 --fail-on none", ["--threads", "1", "--fail-on", "none"])]
    for inp in ref_inputs:
        for name, args in (ref_variants[:3] if quick else ref_variants):
            jobs.append(Job(name, inp.label, ["prep-refs", inp.path, *args, "--out-dir", "refs"],
                            cost=inp.pixels / 1e6 * 2, inputs=(inp,)))
    several = [i for i in ref_inputs if not i.large][:8]
    if len(several) >= 2:
        jobs.append(Job("prep-refs (several images)", f"{len(several)} images",
                        ["prep-refs", *[i.path for i in several], "--out-dir", "refs"],
                        cost=sum(i.pixels for i in several) / 1e6, inputs=tuple(several)))

    # decode: the test responses, and a response carrying generated photos.
    responses = []
    for d in (os.path.join(TESTIMAGES, "responses"), os.path.join(TESTIMAGES, "fuzz-regressions", "images-response")):
        if os.path.isdir(d):
            responses += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith((".json", ".sse"))]
    if gen_response:
        responses.append(gen_response)
    decode_variants = [("decode", []), ("decode --sidecar", ["--sidecar"]),
                       ("decode -f jpeg --resize 50%", ["-f", "jpeg", "--resize", "50%"]),
                       ("decode -f webp -q 80 --name {stem}-{n}.{ext}", ["-f", "webp", "-q", "80", "--name",
                                                                         "{stem}-{n}.{ext}"]),
                       ("decode -f png --resize 300x300^ --threads 1", ["-f", "png", "--resize", "300x300^",
                                                                        "--threads", "1"])]
    for r in responses:
        label = os.path.relpath(r, REPO) if r.startswith(REPO) else "gen/" + os.path.basename(r)
        variants = decode_variants
        if quick:
            variants = decode_variants[2:3] if r == gen_response else decode_variants[:3]
        for name, args in variants:
            job = Job(name, label, ["decode", r, "-o", "out", *args], cost=3.0 if r == gen_response else 0.01)
            job.hidden = r
            jobs.append(job)
    return jobs, responses


# ---------------------------------------------------------------------------------------------
# Running


class Runner:
    def __init__(self, work, old, new, base_env):
        self.work = work
        self.bins = {"old": old, "new": new}
        self.base_env = base_env
        self.live = set()
        self.lock = threading.Lock()
        self.stopping = False
        self.timeouts = collections.Counter()

    def run(self, which, job):
        if self.stopping:
            raise KeyboardInterrupt
        d = tempfile.mkdtemp(prefix=f"{job.id}-{which}-", dir=os.path.join(self.work, "run"))
        env = dict(self.base_env)
        env.update(job.env)
        stdin = open(job.stdin, "rb") if job.stdin else subprocess.DEVNULL
        try:
            p = subprocess.Popen(["timeout", "-k", "5", str(TIME_LIMIT), self.bins[which], *job.argv], cwd=d,
                                 stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            with self.lock:
                self.live.add(p)
            try:
                out, err = p.communicate()
            finally:
                with self.lock:
                    self.live.discard(p)
            if p.returncode in (124, 137):
                self.timeouts[which] += 1
            files = {}
            for root, dirs, names in os.walk(d):
                for n in dirs:
                    files[os.path.relpath(os.path.join(root, n), d) + "/"] = "dir"
                for n in names:
                    fp = os.path.join(root, n)
                    with open(fp, "rb") as f:
                        files[os.path.relpath(fp, d)] = hashlib.sha256(f.read()).hexdigest()
            err_text = err.decode("utf-8", "replace").replace(d, "<TMP>")
            # A batch's summary line gives its wall time ("... in 0.8 s"): not an output.
            err_text = re.sub(r" in [0-9]+(\.[0-9]+)? (s|ms|min)\b", " in <T>", err_text)
            if job.unordered:
                # -j 2 prints one line per input as each finishes: the order is the scheduler's.
                err_text = "\n".join(sorted(err_text.splitlines()))
            return {
                "rc": p.returncode,
                "files": files,
                "stdout": hashlib.sha256(out).hexdigest() if out else "",
                "stdout_len": len(out),
                "stderr_first": err_text.split("\n", 1)[0],
                "stderr": err_text,
            }
        finally:
            if job.stdin:
                stdin.close()
            shutil.rmtree(d, ignore_errors=True)

    def stop(self):
        self.stopping = True
        with self.lock:
            for p in list(self.live):
                try:
                    p.send_signal(signal.SIGTERM)  # `timeout` passes it on to darkroom
                except ProcessLookupError:
                    pass


def short(h):
    return h[:12] if h and h != "dir" else (h or "-")


def describe(a, b):
    """The differences between two runs, or [] when identical."""
    diffs = []
    if a["rc"] != b["rc"]:
        diffs.append(f"exit {a['rc']} vs {b['rc']}")
    for name in sorted(set(a["files"]) | set(b["files"])):
        ha, hb = a["files"].get(name), b["files"].get(name)
        if ha != hb:
            if ha is None or hb is None:
                diffs.append(f"{name} only in {'old' if hb is None else 'new'}")
            else:
                diffs.append(f"{name} sha256 {short(ha)} vs {short(hb)}")
    if a["stdout"] != b["stdout"]:
        diffs.append(f"stdout {a['stdout_len']} bytes {short(a['stdout'])} vs {b['stdout_len']} bytes "
                     f"{short(b['stdout'])}")
    if (a["rc"] != 0 or b["rc"] != 0) and a["stderr_first"] != b["stderr_first"]:
        diffs.append(f"stderr {a['stderr_first']!r} vs {b['stderr_first']!r}")
    elif a["stderr"] != b["stderr"]:
        la, lb = a["stderr"].splitlines(), b["stderr"].splitlines()
        k = next((i for i in range(max(len(la), len(lb)))
                  if (la[i] if i < len(la) else None) != (lb[i] if i < len(lb) else None)), 0)
        diffs.append(f"stderr line {k + 1} {la[k] if k < len(la) else '<none>'!r} vs "
                     f"{lb[k] if k < len(lb) else '<none>'!r}")
    return diffs


def job_text(job):
    args = []
    for x in job.argv:
        if x == job.stdin or x == job.hidden or (job.inputs and any(x == i.path for i in job.inputs)):
            continue
        args.append(x)
    env = " ".join(f"{k}={v}" for k, v in job.env.items())
    return f"{job.label}: {(env + ' ') if env else ''}{' '.join(args)}"


def main():
    ap = argparse.ArgumentParser(description="Compare the outputs of two darkroom binaries byte for byte.")
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--quick", action="store_true", help="a subset (under ~3 minutes on 2 cores)")
    ap.add_argument("--jobs", type=int, default=2, help="conversions in parallel (default 2)")
    ap.add_argument("--keep-work", action="store_true", help="keep the work folder (generated inputs) for a look")
    ap.add_argument("--list", action="store_true", help="print the conversions and the coverage, run nothing")
    ap.add_argument("--timing", action="store_true", help="also print the option sets and jobs that took longest")
    ap.add_argument("--only", metavar="TEXT", help="run only the conversions whose printed line contains TEXT")
    a = ap.parse_args()

    for b in (a.old, a.new):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            log(f"compare-outputs: {b}: not an executable file")
            return 2
    if not shutil.which("timeout"):
        log("compare-outputs: `timeout` (coreutils) is needed")
        return 2

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="compare-outputs.")
    runner = None

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        os.makedirs(os.path.join(work, "bin"))
        os.makedirs(os.path.join(work, "run"))
        # Snapshots, so a rebuild during the run does not swap a binary under us.
        old = os.path.join(work, "bin", "old-darkroom")
        new = os.path.join(work, "bin", "new-darkroom")
        shutil.copy2(a.old, old)
        shutil.copy2(a.new, new)
        same_binary = hashlib.sha256(open(old, "rb").read()).digest() == hashlib.sha256(open(new, "rb").read()).digest()
        base_env = {k: v for k, v in os.environ.items() if k != "DARKROOM_KERNEL"}
        base_env["LC_ALL"] = "C"

        notes = []
        inputs = corpus_inputs(a.quick, notes)
        inputs += testimage_inputs(a.quick)
        gen_started = time.monotonic()
        inputs += generated_inputs(os.path.join(work, "gen"), old, a.quick, notes, base_env)
        gen_seconds = time.monotonic() - gen_started
        gen_response = None
        try:
            gen_response = generated_response(os.path.join(work, "gen"))
        except OSError as e:
            notes.append(f"generated response not written: {e}")
        jobs, responses = build_jobs(inputs, a.quick, gen_response)
        if a.only:
            all_jobs = len(jobs)
            jobs = [j for j in jobs if a.only in job_text(j)]
            notes.append(f"--only {a.only!r}: {len(jobs)} of {all_jobs} conversions (the input counts are the whole list's)")
        # Largest first, so the two workers finish together.
        jobs.sort(key=lambda j: -j.cost)
        for k, j in enumerate(jobs, 1):
            j.id = k

        if a.list:
            try:
                for j in jobs:
                    print(job_text(j))
                print("")
            except BrokenPipeError:  # `| head`: stop listing, still clean up
                sys.stdout = open(os.devnull, "w")
                return 0
        else:
            runner = Runner(work, old, new, base_env)
            differ = []
            done = 0
            last = time.monotonic()

            def one(job):
                t0 = time.monotonic()
                try:
                    a_, b_ = runner.run("old", job), runner.run("new", job)
                except OSError as e:  # counted as a difference: nothing was proved for this one
                    return job, [f"not compared: {e}"]
                finally:
                    job.seconds = time.monotonic() - t0
                return job, describe(a_, b_)

            with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
                futures = [pool.submit(one, j) for j in jobs]
                try:
                    for fut in concurrent.futures.as_completed(futures):
                        job, diffs = fut.result()
                        done += 1
                        if diffs:
                            differ.append(job)
                            print(f"DIFFERENT #{job.id} {job_text(job)} -- {'; '.join(diffs)}", flush=True)
                        if time.monotonic() - last > 30:
                            last = time.monotonic()
                            log(f"compare-outputs: {done}/{len(jobs)} done, {len(differ)} different, "
                                f"{time.monotonic() - started:.0f} s")
                except KeyboardInterrupt:
                    runner.stop()
                    for f in futures:
                        f.cancel()
                    raise

        # Coverage.
        print("")
        print(f"coverage ({'quick' if a.quick else 'full'} run):")
        by_fmt = collections.Counter(i.fmt for i in inputs)
        by_folder = collections.Counter(i.folder for i in inputs)
        print(f"  inputs: {len(inputs)}  by format: " + ", ".join(f"{k} {v}" for k, v in sorted(by_fmt.items())))
        print("  inputs by folder: " + ", ".join(f"{k} {v}" for k, v in sorted(by_folder.items())))
        rst = [i for i in inputs if "restart" in i.tags]
        rst_where = collections.Counter(i.folder.split("/")[0] for i in rst)
        print(f"  restart-marker (DRI) JPEGs: {len(rst)} ("
              + ", ".join(f"{k} {v}" for k, v in sorted(rst_where.items()))
              + "; generated ones by cjpeg -restart)")
        print(f"  responses for decode: {len(responses)}")
        sets = collections.Counter(j.set for j in jobs)
        print(f"  option sets: {len(sets)}")
        for name, n in sorted(sets.items()):
            print(f"    {n:5d}  {name}")
        if any(j.unordered for j in jobs):
            notes.append("batch -j 2: standard error compared as sorted lines (each input's line is printed "
                         "when it finishes, so their order varies run to run)")
        for n in notes:
            print(f"  note: {n}")
        print(f"  generated inputs written in {gen_seconds:.0f} s; total {time.monotonic() - started:.0f} s")
        if a.list:
            print(f"compare-outputs: {len(jobs)} conversions listed, none run")
            return 0
        if a.timing:
            per_set = collections.Counter()
            for j in jobs:
                per_set[j.set] += j.seconds
            print("  slowest option sets (seconds, both binaries):")
            for name, sec in per_set.most_common(20):
                print(f"    {sec:7.1f}  {name}")
            print("  slowest conversions:")
            for j in sorted(jobs, key=lambda j: -j.seconds)[:15]:
                print(f"    {j.seconds:7.1f}  {job_text(j)}")
            per_label = collections.Counter()
            for j in jobs:
                per_label[j.inputs[0].tier if j.inputs else "decode"] += j.seconds
            print("  seconds by tier: " + ", ".join(f"{k} {v:.0f}" for k, v in per_label.most_common()))
        if runner.timeouts:
            print(f"  warning: runs that hit the {TIME_LIMIT} s limit: old {runner.timeouts['old']}, "
                  f"new {runner.timeouts['new']}")
        if same_binary:
            print("  note: OLD and NEW are the same file: any difference is nondeterminism")
        print(f"compare-outputs: {len(jobs)} conversions, {len(jobs) - len(differ)} identical, "
              f"{len(differ)} different")
        return 1 if differ else 0
    except KeyboardInterrupt:
        log("compare-outputs: interrupted")
        return 130
    finally:
        if runner:
            runner.stop()
        if a.keep_work:
            log(f"compare-outputs: work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
