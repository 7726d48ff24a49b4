"""What the training smoke runs (smoke.sh, smoke_imlut.sh, smoke_implicit.sh) share: synthetic
"photographs" (smooth shading, oriented edges, texture and noise; no downloads) and the check
that a produced model evaluates in the engine.

  /usr/bin/python3 smoke_lib.py images DIR TRAIN_COUNT HxW   # DIR/src/synth*.bmp, DIR/eval/HR/img{0,1}.bmp
  /usr/bin/python3 smoke_lib.py check-eval EVAL.json          # every PSNR-Y of `lerf eval --json` > 15 dB
"""
import json
import os
import sys

import numpy as np


def image(rng, h, w, noise=4.0):
    """(h, w, 3) uint8: per channel a sine pattern plus a striped half-plane edge, and noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(3):
        a, b, t = rng.uniform(3, 15, 3)
        v = 120 + 60 * np.sin(x / a + c) * np.cos(y / b) + 50 * ((x * np.cos(t) + y * np.sin(t)) % 60 > 30)
        chans.append(v + rng.normal(0, noise, v.shape))
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def write_images(folder, train_count, h, w):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import imgio
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(folder, "src"), exist_ok=True)
    os.makedirs(os.path.join(folder, "eval", "HR"), exist_ok=True)
    for i in range(train_count):
        imgio.write_bmp(os.path.join(folder, "src", f"synth{i}.bmp"), image(rng, h, w))
    for i in range(2):
        imgio.write_bmp(os.path.join(folder, "eval", "HR", f"img{i}.bmp"), image(rng, 60, 72))


def check_eval(path):
    r = json.load(open(path))
    p = [x["psnr_y"] for x in r["results"]]
    assert all(v > 15 for v in p), p
    print("smoke eval", r["method"], p)


if __name__ == "__main__":
    if sys.argv[1] == "images":
        h, w = (int(v) for v in sys.argv[4].split("x"))
        write_images(sys.argv[2], int(sys.argv[3]), h, w)
    elif sys.argv[1] == "check-eval":
        check_eval(sys.argv[2])
    else:
        raise SystemExit(__doc__)
