#!/usr/bin/env python3
"""Batch throughput on 2 cores: a folder of 12 MP phone-size JPEGs -> fit 4 MP -> JPEG q80.

    ~/.cache/darkroom-peers/bin/python Benchmarks/batch_peers.py --darkroom .build/release/darkroom [--files 24] [--rounds 3]

Peers as users run them on 2 cores: libvips `thumbnail` and Pillow `draft` + fast_image_resize
(cykooz_resizer), each in a warmed pool of 2 worker processes (one image per task, one thread each),
against `darkroom convert DIR -j 2` (one process for the whole folder) and `--fast`. The rounds are
interleaved (darkroom, vips, pillow+fir, darkroom --fast, ...), so drift hits all alike; the
ratios are per round, then the median and the range are printed. Peak memory: darkroom's max RSS
(the one process), the pool's as the sum of its two workers' VmHWM. `vipsthumbnail` and
`mogrify` (from Debian's libvips-tools and imagemagick, when installed) run once per round over
the whole folder, as users type them (their own threading).

The photos are synthetic (shapes, lines, grain) at 4032x3024, JPEG q92 4:2:0, made once with Pillow
into $TMPDIR/darkroom_batch_bench. Output size: 4 MP fit, both sides floored (2364x1773).
"""
import argparse
import math
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

W, H = 4032, 3024
LIMIT = 4_194_304
s = math.sqrt(LIMIT / (W * H))
TW, TH = int(W * s), int(H * s)
while TW * TH > LIMIT:
    TW -= 1


def make_photos(folder, count):
    import numpy as np
    from PIL import Image, ImageDraw
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        path = os.path.join(folder, f"photo{i:03d}.jpg")
        if os.path.exists(path):
            continue
        y, x = np.mgrid[0:H, 0:W]
        base = np.stack([(x * 255 // W), (y * 255 // H), ((x + y + 97 * i) % 256)], axis=-1).astype(np.uint8)
        img = Image.fromarray(base, "RGB")
        d = ImageDraw.Draw(img)
        for k in range(60):
            x0, y0 = rng.integers(0, W - 200), rng.integers(0, H - 200)
            d.ellipse([x0, y0, x0 + rng.integers(20, 600), y0 + rng.integers(20, 600)],
                      fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
            d.line([rng.integers(0, W), rng.integers(0, H), rng.integers(0, W), rng.integers(0, H)], fill=(255, 255, 255), width=2)
        noise = rng.integers(-12, 12, (H, W, 3))
        arr = np.clip(np.asarray(img).astype(np.int16) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(arr, "RGB").save(path, quality=92, subsampling=2)


def vips_one(args):
    src, dst = args
    import pyvips
    cpu = time.process_time()
    img = pyvips.Image.thumbnail(src, TW, height=TH, size="down")
    img.write_to_file(dst, Q=80)
    return time.process_time() - cpu


def pillow_fir_one(args):
    src, dst = args
    from PIL import Image
    import cykooz_resizer as cr
    cpu = time.process_time()
    img = Image.open(src)
    img.draft("RGB", (TW, TH))
    img = img.convert("RGB")
    src_image = cr.ImageData(img.width, img.height, cr.PixelType.U8x3, img.tobytes())
    dst_image = cr.ImageData(TW, TH, cr.PixelType.U8x3)
    cr.Resizer().resize(src_image, dst_image, cr.ResizeOptions(resize_alg=cr.ResizeAlg.convolution(cr.FilterType.lanczos3)))
    Image.frombuffer("RGB", (TW, TH), bytes(dst_image.get_buffer()), "raw", "RGB", 0, 1).save(dst, quality=80)
    return time.process_time() - cpu


def worker_init():
    os.environ["VIPS_CONCURRENCY"] = "1"
    try:
        import pyvips
        pyvips.cache_set_max(0)
    except Exception:
        pass


def hwm(_):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_pool(pool, fn, photos, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.perf_counter()
    cpu = pool.map(fn, [(p, os.path.join(out, os.path.basename(p))) for p in photos], chunksize=1)
    return time.perf_counter() - start, sum(cpu)


def run_darkroom(binary, folder, out, extra):
    """Wall time, CPU time (user + system) and darkroom's own peak RSS.

    The peak comes from `/usr/bin/time -f %M`, not from this process's wait4: Linux carries the
    parent's peak RSS into a child's ru_maxrss through fork and exec, so a child of this Python
    process (over 1 GB after it made the photos) would report the parent's peak."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", binary, "convert", folder, "-f", "jpeg", "-q", "80", "-r",
                          f"{LIMIT}@", "--out-dir", out, "-j", "2", "--quiet"] + extra, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode()
    if status != 0:
        sys.exit(f"darkroom failed: {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, int(err.strip().splitlines()[-1]) * 1024


def run_command(argv, out):
    """A command-line peer over the whole folder; None when its binary is missing."""
    if shutil.which(argv[0]) is None:
        return None
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.perf_counter()
    r = subprocess.run([a.replace("{out}", out) for a in argv], capture_output=True)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        print(f"{argv[0]} failed: {r.stderr.decode()[-300:]}", file=sys.stderr)
        return None
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--darkroom", required=True)
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--darkroom-arg", action="append", default=[],
                    help="an extra argument for both darkroom runs (repeat; e.g. --darkroom-arg=--optimize-coding)")
    a = ap.parse_args()
    cache = os.path.join(tempfile.gettempdir(), "darkroom_batch_bench", f"{W}x{H}")
    make_photos(cache, a.files)
    photos = sorted(os.path.join(cache, f) for f in os.listdir(cache) if f.endswith(".jpg"))[: a.files]
    folder = os.path.join(tempfile.gettempdir(), "darkroom_batch_bench", f"in-{a.files}")
    if not os.path.isdir(folder) or len(os.listdir(folder)) != len(photos):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        for p in photos:
            os.link(p, os.path.join(folder, os.path.basename(p)))
    out = os.path.join(tempfile.gettempdir(), "darkroom_batch_bench", "out")
    print(f"{len(photos)} photos {W}x{H} -> {TW}x{TH} JPEG q80, 2 workers each; {a.rounds} interleaved rounds", flush=True)
    ctx = mp.get_context("fork")
    vips = ctx.Pool(2, initializer=worker_init)
    pil = ctx.Pool(2, initializer=worker_init)
    # Warm the pools (imports, first-call costs).
    vips.map(vips_one, [(photos[0], out + "-warm-v.jpg")] * 2)
    pil.map(pillow_fir_one, [(photos[0], out + "-warm-p.jpg")] * 2)
    rows = {"darkroom": [], "darkroom --fast": [], "vips": [], "pillow+fir": [], "vipsthumbnail": [], "mogrify": []}
    # As users type them on a folder: vipsthumbnail (libvips-tools) and ImageMagick's mogrify.
    commands = {
        "vipsthumbnail": ["vipsthumbnail", "--size", f"{TW}x{TH}", "-o", "{out}/%s.jpg[Q=80]"] + photos,
        "mogrify": ["mogrify", "-path", "{out}", "-filter", "Lanczos", "-resize", f"{TW}x{TH}", "-quality", "80"] + photos,
    }
    rss = {"darkroom": 0, "darkroom --fast": 0}
    # CPU seconds (user + system) of the whole batch: darkroom's process, the pool's tasks (each
    # task's process_time). Unlike wall time, it holds when the two cores are not both free.
    cpu = {"darkroom": [], "darkroom --fast": [], "vips": [], "pillow+fir": []}
    for _ in range(a.rounds):
        w, c, m = run_darkroom(a.darkroom, folder, out, a.darkroom_arg)
        rows["darkroom"].append(w); cpu["darkroom"].append(c); rss["darkroom"] = max(rss["darkroom"], m)
        w, c = run_pool(vips, vips_one, photos, out)
        rows["vips"].append(w); cpu["vips"].append(c)
        w, c = run_pool(pil, pillow_fir_one, photos, out)
        rows["pillow+fir"].append(w); cpu["pillow+fir"].append(c)
        w, c, m = run_darkroom(a.darkroom, folder, out, ["--fast"] + a.darkroom_arg)
        rows["darkroom --fast"].append(w); cpu["darkroom --fast"].append(c)
        rss["darkroom --fast"] = max(rss["darkroom --fast"], m)
        for name, argv in commands.items():
            w = run_command(argv, out)
            if w is not None:
                rows[name].append(w)
    pool_rss = {"vips": sum(vips.map(hwm, [0, 1], chunksize=1)), "pillow+fir": sum(pil.map(hwm, [0, 1], chunksize=1))}
    vips.close(); pil.close()
    print(f"{'':18} {'median s':>9} {'files/s':>8} {'range s':>14} {'peak MB':>8} {'CPU ms/file':>12}")
    for name, times in rows.items():
        if not times:
            print(f"{name:18} (not installed)")
            continue
        med = statistics.median(times)
        mem = (rss.get(name) or pool_rss.get(name, 0)) / 1e6
        c = f"{statistics.median(cpu[name]) * 1000 / len(photos):12.0f}" if cpu.get(name) else ""
        print(f"{name:18} {med:9.2f} {len(photos) / med:8.1f} {min(times):6.2f}-{max(times):6.2f} {mem:8.0f} {c}")
    for mine, peer in [("darkroom", "vips"), ("darkroom --fast", "pillow+fir"), ("darkroom", "vipsthumbnail"), ("darkroom", "mogrify")]:
        if not rows[peer]:
            continue
        ratios = [m / p for m, p in zip(rows[mine], rows[peer])]
        print(f"ratio {mine} / {peer}: median {statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
        if cpu.get(mine) and cpu.get(peer):
            ratios = [m / p for m, p in zip(cpu[mine], cpu[peer])]
            print(f"  CPU time {mine} / {peer}: median {statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
