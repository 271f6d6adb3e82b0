"""PSNR of shrink-on-load against a full decode + Lanczos3, darkroom next to Pillow (issue #10).

For each SOURCE TARGET pair (TARGET = WxH): darkroom default and --fast against darkroom
--no-shrink-on-load, and Pillow draft + LANCZOS against Pillow's full decode + LANCZOS, on 8-bit RGB.

    swift build -c release --product darkroom
    ~/.cache/darkroom-peers/bin/python Benchmarks/psnr_shrink_on_load.py \
        /tmp/peer_bench_cache/synth_v2_6000x4000_s20240601_q92.jpg 2508x1672 testimages/kodim23.jpg 300x200
"""
import subprocess, sys, numpy as np, PIL.Image as I
import os
B=os.environ.get('DARKROOM', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.build', 'release', 'darkroom'))
def psnr(a,b):
    m=np.mean((a.astype(np.float64)-b.astype(np.float64))**2); return 99.0 if m==0 else 10*np.log10(255**2/m)
def dr(src, target, extra):
    out=os.path.join(os.environ.get('TMPDIR', '/tmp'), 'psnr_shrink_on_load.png')
    subprocess.run([B,'convert',src,'-r',f'{target[0]}x{target[1]}!','-f','png','-o',out,'--overwrite']+extra,check=True,stderr=subprocess.DEVNULL)
    return np.asarray(I.open(out).convert('RGB'))
for src, target in [(a, tuple(map(int,b.split('x')))) for a,b in zip(sys.argv[1::2], sys.argv[2::2])]:
    full=dr(src,target,['--no-shrink-on-load']); d=dr(src,target,[]); f=dr(src,target,['--fast'])
    im=I.open(src); pf=np.asarray(im.convert('RGB').resize(target, I.LANCZOS))
    im=I.open(src); im.draft('RGB',target); pd=np.asarray(im.convert('RGB').resize(target, I.LANCZOS))
    print(f'{src.split("/")[-1]} -> {target[0]}x{target[1]}: darkroom default {psnr(d,full):.2f} dB, --fast {psnr(f,full):.2f} dB (vs darkroom full decode); Pillow draft {psnr(pd,pf):.2f} dB (vs Pillow full decode); draft scale {im.size}')
