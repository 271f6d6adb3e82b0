#!/usr/bin/env python3
"""Compare `darkroom inspect --json` with Pillow's reading of the same files.

    scripts/check-inspect.py [--darkroom .build/debug/darkroom] [--corpus ../shared/corpus] [-v] [FILE...]

Without FILEs: every `decode-ok` and `decode-ok-or-error` row of the corpus's MANIFEST.tsv, plus
the images of testimages/. For every file both read, it compares the format, the stored size,
alpha (Pillow: an alpha mode, or `transparency` in the info of the image or, for a GIF, of any
frame), the frame count, the EXIF/AVIF orientation (Pillow: `getexif()[0x0112]`) and the GPS flag
(Pillow: the GPS IFD pointer 0x8825 in `getexif()`).

A difference is "explained" when a rule below names its reason (printed with -v); any other is a
mismatch, printed, and the exit status is 1. A `decode-ok` file that darkroom refuses is a
mismatch too; files where only one side refuses are otherwise counted, not failed (the bombs are
refused by the pixel limit on purpose; libpng refuses some headers Pillow tolerates).

Needs Pillow 11.3+ built with AVIF (`pip install pillow`; or `pillow-avif-plugin` for older ones).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import warnings

try:
    from PIL import Image, ImageFile
except ImportError:
    sys.exit("check-inspect: Pillow is not installed (pip install pillow)")
try:
    from PIL import features
    if not features.check("avif"):
        import pillow_avif  # noqa: F401  (registers the AVIF plugin on older Pillow)
except ImportError:
    pass

Image.MAX_IMAGE_PIXELS = None  # header reads only; darkroom applies its own limit
warnings.simplefilter("ignore")

FORMATS = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp", "AVIF": "avif", "GIF": "gif"}


def pillow_reading(path):
    """(format, (w, h), alpha, frames, orientation, GPS IFD pointer, APNG default image apart,
    getexif() raised) as Pillow reads the header, or an error text."""
    try:
        with Image.open(path) as im:
            fmt = FORMATS.get(im.format, im.format)
            size = im.size
            frames = getattr(im, "n_frames", 1)
            alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
            if fmt == "gif" and not alpha:
                for i in range(1, frames):
                    im.seek(i)
                    if "transparency" in im.info:
                        alpha = True
                        break
                im.seek(0)
            exif_refused = False
            try:
                exif = im.getexif()
                orientation = int(exif.get(0x0112, 1))
                gps = 0x8825 in exif
            except Exception:
                orientation, gps, exif_refused = 1, False, True
            if orientation not in range(1, 9):
                orientation = 1
            return fmt, size, alpha, frames, orientation, gps, bool(im.info.get("default_image")), exif_refused
    except Exception as e:  # noqa: BLE001 — any refusal is a refusal
        return f"{type(e).__name__}: {e}"


def explain(field, ours, theirs, record, manifest, default_image, exif_refused=False):
    """The reason a difference is expected, or None."""
    path = record["path"]
    damaged = record.get("status") == "damaged"
    fmt = record.get("format")
    if field == "frames" and damaged:
        return "damaged file: Pillow counts the frames it can reach past the damage, the walk stops at it"
    if field == "frames" and fmt == "gif" and ours == 0:
        return "GIF without image blocks: 0 frames (Pillow counts the screen as one)"
    if field == "frames" and fmt == "avif" and manifest and manifest.get("frames") == str(ours):
        return "AVIF sequence: the manifest agrees with libavif's image count"
    if field == "frames" and fmt == "png" and default_image and theirs == ours + 1:
        return "APNG whose default image is no animation frame: Pillow counts it, acTL num_frames does not"
    if field in ("orientation", "gps") and exif_refused and record["metadata"]["exif"]:
        return ("Pillow's getexif() raises on this EXIF (a PNG raw profile whose hex bytes.fromhex refuses: characters "
                "after the declared length); darkroom reads the declared bytes, as exiftool does")
    if field == "orientation" and ours == 1 and record["metadata"]["xmp"] and not record["metadata"]["exif"]:
        return "orientation only in XMP: darkroom reads EXIF and AVIF irot/imir only, as it orients"
    if field == "size" and fmt == "webp" and "corrupt/fuzz/" in path:
        return "fuzzed WebP: the VP8X canvas and the bitstream disagree; darkroom reports libwebp's bitstream size"
    if manifest:
        key = {"size": None, "alpha": "has_alpha", "frames": "frames"}.get(field)
        if field == "size" and manifest.get("width") and [int(manifest["width"]), int(manifest["height"])] == list(ours):
            return "the manifest agrees with darkroom"
        if key and manifest.get(key):
            expected = (manifest[key] == "yes") if key == "has_alpha" else int(manifest[key])
            if expected == ours:
                return "the manifest agrees with darkroom"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--darkroom", default=".build/debug/darkroom")
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the explained differences")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()

    manifest = {}
    mpath = os.path.join(args.corpus, "MANIFEST.tsv")
    if os.path.exists(mpath):
        with open(mpath, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                manifest[os.path.normpath(os.path.join(args.corpus, row["path"]))] = row
    files = args.files
    if not files:
        files = sorted(p for p, row in manifest.items() if row["expected"] in ("decode-ok", "decode-ok-or-error"))
        files += sorted(os.path.join("testimages", n) for n in os.listdir("testimages")
                        if n.rsplit(".", 1)[-1] in ("png", "jpg", "webp", "avif", "gif"))
        if not manifest:
            print(f"check-inspect: no {mpath}: testimages/ only", file=sys.stderr)

    out = subprocess.run([args.darkroom, "inspect", "--json", *files], capture_output=True, text=True)
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    summary = records.pop() if records and "summary" in records[-1] else None
    if summary is None or len(records) != len(files):
        print(f"check-inspect: expected {len(files)} records and a summary, got {len(records)}", file=sys.stderr)
        return 1

    compared = mismatches = explained = only_darkroom_refuses = only_pillow_refuses = 0
    for path, record in zip(files, records):
        row = manifest.get(os.path.normpath(path))
        theirs = pillow_reading(path)
        if record["status"] == "error":
            if isinstance(theirs, str):
                continue
            if row and row["expected"] == "decode-ok":
                mismatches += 1
                print(f"MISMATCH {path}: darkroom refuses a decode-ok file ({record['error']}); Pillow reads it")
            else:
                only_darkroom_refuses += 1
                if args.verbose:
                    print(f"refused  {path}: darkroom: {record['error']}; Pillow reads it")
            continue
        if isinstance(theirs, str):
            only_pillow_refuses += 1
            if args.verbose:
                print(f"refused  {path}: Pillow: {theirs}; darkroom: {record['status']}")
            continue
        compared += 1
        fmt, size, alpha, frames, orientation, gps, default_image, exif_refused = theirs
        ours = {"format": record["format"], "size": (record["width"], record["height"]), "alpha": record["alpha"],
                "frames": record["frames"], "orientation": record["orientation"], "gps": record["metadata"]["gps"]}
        pil = {"format": fmt, "size": tuple(size), "alpha": alpha, "frames": frames, "orientation": orientation, "gps": gps}
        for field in ours:
            if ours[field] == pil[field]:
                continue
            reason = explain(field, ours[field], pil[field], record, row, default_image, exif_refused)
            if reason:
                explained += 1
                if args.verbose:
                    print(f"explained {path}: {field} darkroom {ours[field]} Pillow {pil[field]}: {reason}")
            else:
                mismatches += 1
                print(f"MISMATCH {path}: {field}: darkroom {ours[field]}, Pillow {pil[field]}")

    print(f"check-inspect: {len(files)} files, {compared} read by both and compared; {mismatches} mismatches, "
          f"{explained} explained differences; refused by darkroom only: {only_darkroom_refuses}, by Pillow only: "
          f"{only_pillow_refuses}; darkroom summary {json.dumps(summary['summary'], sort_keys=True)}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
