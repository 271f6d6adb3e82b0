#!/usr/bin/env python3
"""JPEG quantisation tables at equal bytes (issue #20): JPEG Annex K's against the tables mozjpeg lists.

Run with the peers' venv (../shared/bench/setup.sh); needs `cjpeg` (libjpeg-turbo-progs):

    ~/.cache/darkroom-peers/bin/python Benchmarks/jpeg_quant_tables.py [--candidates tuned,msssim,...]
        [--qualities 40,50,...] [--cjpeg-arg=-optimize ...] [extra photos ...]

Every table set is given to libjpeg-turbo's `cjpeg -qtables` (luma in slot 0, chroma in slot 1),
so only the tables differ: the same libjpeg, the same quality scaling (`jpeg_quality_scaling`),
4:2:0, integer DCT. Each photo is encoded at each quality with each set and compared with the
source: luma PSNR and SSIM (BT.601 Y, as `rd_table.py`) and Cb/Cr PSNR. A candidate's values at
Annex K's byte counts are interpolated (linear in log bytes); the table prints candidate − Annex K,
so positive = better at equal bytes. Photos: the corpus's `Landscape_1.jpg`, `paris_extended_xmp.jpg`
and `icc_profile_big.jpg` and `testimages/kodim23.jpg`, each halved (box filter) so their own JPEG
blocks are gone, and `../shared/bench`'s deterministic synthetic photo.

The tables are the published ones as mozjpeg's `jcparam.c` lists them (natural order).
"""
import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "shared" / "bench"))
import rd_table  # noqa: E402  (luma, psnr, ssim, at_bytes)

ANNEX_K_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
ANNEX_K_CHROMA = [17, 18, 24, 47] + [99] * 4 + [18, 21, 26, 66] + [99] * 4 + [24, 26, 56] + [99] * 5 + [47, 66] + [99] * 38
# mozjpeg -quant-table 2: "tuned for MS-SSIM on the Kodak image set".
MSSSIM_LUMA = [12, 17, 20, 21, 30, 34, 56, 63, 18, 20, 20, 26, 28, 51, 61, 55, 19, 20, 21, 26, 33, 58, 69, 55,
               26, 26, 26, 30, 46, 87, 86, 66, 31, 33, 36, 40, 46, 96, 100, 73, 40, 35, 46, 62, 81, 100, 111, 91,
               46, 66, 76, 86, 102, 121, 120, 101, 68, 90, 90, 96, 113, 102, 105, 103]
MSSSIM_CHROMA = [8, 12, 15, 15, 86, 96, 96, 98, 13, 13, 15, 26, 90, 96, 99, 98, 12, 15, 18, 96, 99, 99, 99, 99,
                 17, 16, 90, 96, 99, 99, 99, 99, 96, 96, 99, 99, 99, 99, 99, 99] + [99] * 24
# mozjpeg -quant-table 3 (its default): N. Robidoux's table from the ImageMagick forum, luma and chroma.
ROBIDOUX = [16, 16, 16, 18, 25, 37, 56, 85, 16, 17, 20, 27, 34, 40, 53, 75, 16, 20, 24, 31, 43, 62, 91, 135,
            18, 27, 31, 40, 53, 74, 106, 156, 25, 34, 43, 53, 69, 94, 131, 189, 37, 40, 62, 74, 94, 124, 169, 238,
            56, 53, 91, 106, 131, 169, 226, 311, 85, 75, 135, 156, 189, 238, 311, 418]
# mozjpeg -quant-table 4: tuned for PSNR-HVS-M.
HVSM_LUMA = [9, 10, 12, 14, 27, 32, 51, 62, 11, 12, 14, 19, 27, 44, 59, 73, 12, 14, 18, 25, 42, 59, 79, 78,
             17, 18, 25, 42, 61, 92, 87, 92, 23, 28, 42, 75, 79, 112, 112, 99, 40, 42, 59, 84, 88, 124, 132, 111,
             42, 64, 78, 95, 105, 126, 125, 99, 70, 75, 100, 102, 116, 100, 107, 98]
HVSM_CHROMA = [9, 10, 17, 19, 62, 89, 91, 97, 12, 13, 18, 29, 84, 91, 88, 98, 14, 19, 29, 93, 95, 95, 98, 97,
               20, 26, 84, 88, 95, 95, 98, 94, 26, 86, 91, 93, 97, 99, 98, 99, 99, 100, 98, 99, 99, 99, 99, 99,
               99, 99, 99, 99, 99, 99, 99, 99, 97, 97, 99, 99, 99, 99, 97, 99]
# mozjpeg -quant-table 5: Klein, Silverstein and Carney (1992), the same for chroma.
KLEIN = [10, 12, 14, 19, 26, 38, 57, 86, 12, 18, 21, 28, 35, 41, 54, 76, 14, 21, 25, 32, 44, 63, 92, 136,
         19, 28, 32, 41, 54, 75, 107, 157, 26, 35, 44, 54, 70, 95, 132, 190, 38, 41, 63, 75, 95, 125, 170, 239,
         57, 54, 92, 107, 132, 170, 227, 312, 86, 76, 136, 157, 190, 239, 312, 419]
# mozjpeg -quant-table 8: Peterson, Ahumada and Watson (1993), the same for chroma.
PETERSON = [14, 10, 11, 14, 19, 25, 34, 45, 10, 11, 11, 12, 15, 20, 26, 33, 11, 11, 15, 18, 21, 25, 31, 38,
            14, 12, 18, 24, 28, 33, 39, 47, 19, 15, 21, 28, 36, 43, 51, 59, 25, 20, 25, 33, 43, 54, 64, 74,
            34, 26, 31, 39, 51, 64, 77, 91, 45, 33, 38, 47, 59, 74, 91, 108]

SETS = {
    "annexk": (ANNEX_K_LUMA, ANNEX_K_CHROMA),
    "tuned": (MSSSIM_LUMA, ANNEX_K_CHROMA),         # Darkroom's: mozjpeg table 2 luma, Annex K chroma
    "msssim": (MSSSIM_LUMA, MSSSIM_CHROMA),
    "robidoux": (ROBIDOUX, ROBIDOUX),
    "robidoux-luma": (ROBIDOUX, ANNEX_K_CHROMA),
    "hvsm": (HVSM_LUMA, HVSM_CHROMA),
    "hvsm-luma": (HVSM_LUMA, ANNEX_K_CHROMA),
    "klein": (KLEIN, KLEIN),
    "peterson": (PETERSON, PETERSON),
}


def chroma(img):
    a = numpy.asarray(img.convert("RGB"), dtype=numpy.float64)
    return (-0.168736 * a[..., 0] - 0.331264 * a[..., 1] + 0.5 * a[..., 2],
            0.5 * a[..., 0] - 0.418688 * a[..., 1] - 0.081312 * a[..., 2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", default="tuned,msssim,robidoux,robidoux-luma,hvsm,hvsm-luma,klein,peterson")
    ap.add_argument("--qualities", default="20,30,40,50,60,70,80,85,90,95")
    ap.add_argument("--cjpeg-arg", action="append", default=[], help="an extra cjpeg argument, e.g. -optimize")
    ap.add_argument("photos", nargs="*")
    args = ap.parse_args()
    qualities = [int(q) for q in args.qualities.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-qt-"))
    for name, (luma_t, chroma_t) in SETS.items():
        (tmp / f"{name}.txt").write_text(" ".join(map(str, luma_t)) + "\n" + " ".join(map(str, chroma_t)) + "\n")
    corpus = HERE.parent.parent / "shared" / "corpus"
    sources = {"landscape": corpus / "orientation/recurser/Landscape_1.jpg", "kodim23": HERE.parent / "testimages/kodim23.jpg",
               "paris": corpus / "conform/jpeg/libavif/paris_extended_xmp.jpg", "icc_big": corpus / "color/jpeg/icc_profile_big.jpg"}
    photos = {}
    for name, path in sources.items():
        photos[name] = tmp / f"{name}.ppm"
        Image.open(path).convert("RGB").reduce(2).save(photos[name])
    photos["synthetic"] = tmp / "synthetic.ppm"
    Image.fromarray(rd_table.bench_resize.make_image(1254, 836, 3)).save(photos["synthetic"])
    for extra in args.photos:
        photos[Path(extra).stem] = tmp / (Path(extra).stem + ".ppm")
        Image.open(extra).convert("RGB").save(photos[Path(extra).stem])
    candidates = args.candidates.split(",")
    totals = {c: [] for c in candidates}
    print("candidate − Annex K at Annex K's bytes, mean over the qualities (per quality: luma dB)\n")
    print("| photo | tables | luma dB | luma SSIM | Cb dB | Cr dB | luma dB per quality " + ",".join(map(str, qualities)) + " |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, path in photos.items():
        src = Image.open(path)
        ref, (ref_cb, ref_cr) = rd_table.luma(src), chroma(src)
        curves = {}
        for tables in ["annexk"] + candidates:
            curve = []
            for q in qualities:
                data = subprocess.run(["cjpeg", *args.cjpeg_arg, "-quality", str(q), "-qtables", str(tmp / f"{tables}.txt"),
                                       "-qslots", "0,1,1", "-dct", "int", str(path)], capture_output=True, check=True).stdout
                img = Image.open(io.BytesIO(data))
                cb, cr = chroma(img)
                y = rd_table.luma(img)
                curve.append((len(data), rd_table.psnr(ref, y), rd_table.ssim(ref, y), rd_table.psnr(ref_cb, cb), rd_table.psnr(ref_cr, cr)))
            curves[tables] = curve
        for c in candidates:
            deltas = []
            for point in curves["annexk"]:
                at = rd_table.at_bytes(curves[c], point[0])
                deltas.append([a - b for a, b in zip(at, point[1:])] if at else None)
            known = [d for d in deltas if d]
            mean = [sum(d[i] for d in known) / len(known) for i in range(4)]
            totals[c].append(mean)
            per_q = " ".join(f"{d[0]:+.2f}" if d else "·" for d in deltas)
            print(f"| {name} | {c} | {mean[0]:+.2f} | {mean[1]:+.4f} | {mean[2]:+.2f} | {mean[3]:+.2f} | {per_q} |")
    print("\n| all photos | tables | luma dB | luma SSIM | Cb dB | Cr dB |\n|---|---|---:|---:|---:|---:|")
    for c, rows in totals.items():
        m = [sum(r[i] for r in rows) / len(rows) for i in range(4)]
        print(f"| mean | {c} | {m[0]:+.2f} | {m[1]:+.4f} | {m[2]:+.2f} | {m[3]:+.2f} |")


if __name__ == "__main__":
    main()
