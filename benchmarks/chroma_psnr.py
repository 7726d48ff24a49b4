#!/usr/bin/env python3
"""PSNR of each method on 4:2:0 chroma planes (docs/PERFORMANCE.md, "Quiet re-run"): for every
HR image of a dataset, its Cb and Cr planes (PIL YCbCr, 2x2 averaged = the chroma of a 4:2:0
frame) are downscaled by 2 with PIL's bicubic and upscaled back by `lerf resize`; PSNR over
the plane with a 2-pixel border shaved, averaged over planes. Needs python3-pil.

  /usr/bin/python3 benchmarks/chroma_psnr.py build-rel/tools/lerf ../shared/datasets/Set14/x2/HR [METHOD,...]
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

METHODS = ["bilinear", "bicubic", "lanczos", "lerf-g", "lerf-l"]


def main():
    cli, hr_dir = sys.argv[1], sys.argv[2]
    methods = sys.argv[3].split(",") if len(sys.argv) > 3 else METHODS
    res = {m: [] for m in methods}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(hr_dir, "*.png"))):
            im = Image.open(path).convert("RGB")
            w, h = im.size
            w, h = w - w % 4, h - h % 4
            ycc = np.asarray(im.crop((0, 0, w, h)).convert("YCbCr")).astype(np.float64)
            for c in (1, 2):
                hr = ycc[:, :, c].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
                hr8 = np.clip(np.round(hr), 0, 255).astype(np.uint8)
                lr_path = os.path.join(tmp, "lr.png")
                Image.fromarray(hr8).resize((w // 4, h // 4), Image.BICUBIC).save(lr_path)
                for m in methods:
                    out_path = os.path.join(tmp, "out.png")
                    subprocess.run([cli, "resize", "--method", m, "--size", f"{w // 2}x{h // 2}", lr_path, out_path],
                                   check=True, capture_output=True)
                    out = np.asarray(Image.open(out_path).convert("L")).astype(np.float64)
                    mse = np.mean((out[2:-2, 2:-2] - hr8[2:-2, 2:-2]) ** 2)
                    res[m].append(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))
    for m in methods:
        print(f"{m:9s} mean chroma PSNR {np.mean(res[m]):.2f} dB over {len(res[m])} planes")


if __name__ == "__main__":
    main()
