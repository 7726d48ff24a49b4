"""Trains our LeRF-G / LeRF-L LUTs directly (no network): the LUT entries are the parameters
and the forward pass is exactly the engine's inference (lerf_torch.py): 4-simplex
interpolation of the int8 tables, stage-1 and stage-2 rounding (straight-through), the
steerable kernels at random scales x1.5..x4 (asymmetric too), edge clamping.

Recipe: stage 1 starts as the identity, stage 2 as a constant kernel (bilinear-like);
phase 1 trains float entries (Adam, cosine LR), phase 2 rounds the entries to int8 in the
forward pass (straight-through) and fine-tunes, so the exported int8 tables are exactly what
was optimised.

  /usr/bin/python3 tools/train/train.py --method lerf-g --data tools/train/work/data \
      --out models/lerf-g --iters 6000 --threads 1
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import lerf_torch as lt  # noqa: E402

VAL_IMAGES = ("Path", "greentock_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi")  # held out from training


def parse_scale(name):
    # lr_<sh>x<sw>.npy
    sh, sw = name[3:-4].split("x")
    return float(sh), float(sw)


def denominator(s):
    for q in range(1, 11):
        if abs(s * q - round(s * q)) < 1e-6:
            return q
    raise ValueError(s)


def load_data(folder, scales_filter=None):
    images = {}
    for d in sorted(glob.glob(os.path.join(folder, "*"))):
        if not os.path.isfile(os.path.join(d, "hr.npy")):
            continue
        entry = {"hr": np.load(os.path.join(d, "hr.npy")), "lr": {}}
        for f in sorted(glob.glob(os.path.join(d, "lr_*.npy"))):
            s = parse_scale(os.path.basename(f))
            if scales_filter and s not in scales_filter:
                continue
            entry["lr"][s] = np.load(f)
        images[os.path.basename(d)] = entry
    return images


def crop_pair(e, scale, ph, pw, rng):
    """A random ph x pw crop of image entry e's LR at scale (sh, sw), at a position on the
    scale's period (so the HR crop it was made from is exact), and that HR crop; all channels.
    None when the image is smaller than the crop."""
    sh, sw = scale
    qh, qw = denominator(sh), denominator(sw)
    lr = e["lr"][scale]
    H, W = lr.shape[:2]
    if H < ph or W < pw:
        return None
    i0 = qh * rng.integers((H - ph) // qh + 1)
    j0 = qw * rng.integers((W - pw) // qw + 1)
    oi, oj = int(round(sh * i0)), int(round(sw * j0))
    oh, ow = int(round(sh * ph)), int(round(sw * pw))
    return lr[i0:i0 + ph, j0:j0 + pw], e["hr"][oi:oi + oh, oj:oj + ow]


class Sampler:
    """Batches of aligned single-channel LR / HR patches: one random scale per batch (from the
    scales the data has; `scales` may be edited to repeat some), random images, positions and
    flips, and half the batches transposed (which swaps the scales). `pick` chooses the
    channel; train_implicit.py's sampler overrides it (luma for some patches)."""

    def __init__(self, images, patch, batch, rng):
        self.images = images
        self.names = sorted(images)
        self.scales = sorted({s for e in images.values() for s in e["lr"]})
        self.patch, self.batch, self.rng = patch, batch, rng

    def pick(self, lp, hp):
        c = self.rng.integers(3)
        return lp[..., c].astype(np.float32), hp[..., c].astype(np.float32)

    def next(self):
        rng = self.rng
        sh, sw = self.scales[rng.integers(len(self.scales))]
        qh, qw = denominator(sh), denominator(sw)
        P = self.patch
        ph, pw = P - P % qh, P - P % qw
        lrs, hrs = [], []
        while len(lrs) < self.batch:
            crop = crop_pair(self.images[self.names[rng.integers(len(self.names))]], (sh, sw), ph, pw, rng)
            if crop is None:
                continue
            lp, hp = self.pick(*crop)
            if rng.random() < 0.5:
                lp, hp = lp[:, ::-1], hp[:, ::-1]
            if rng.random() < 0.5:
                lp, hp = lp[::-1], hp[::-1]
            lrs.append(np.ascontiguousarray(lp))
            hrs.append(np.ascontiguousarray(hp))
        lr = torch.from_numpy(np.stack(lrs))
        hr = torch.from_numpy(np.stack(hrs))
        if rng.random() < 0.5:  # transpose the batch: swaps the scales
            lr, hr, sh, sw = lr.transpose(1, 2).contiguous(), hr.transpose(1, 2).contiguous(), sw, sh
        return lr, hr, sh, sw


def validate(model, images, scales=((2.0, 2.0), (3.0, 3.0), (4.0, 4.0)), crop=480):
    """PSNR-Y on the centre crops of the held-out images (not benchmark images)."""
    res = {}
    was = model.quantised
    model.quantised = True
    for s in scales:
        vals = []
        for e in images.values():
            if s not in e["lr"]:
                continue
            lr = e["lr"][s]
            H, W = lr.shape[:2]
            q = denominator(s[0])
            n = min(crop // int(math.ceil(s[0])), H, W) // q * q
            i0, j0 = (H - n) // 2 // q * q, (W - n) // 2 // q * q
            lp = np.ascontiguousarray(lr[i0:i0 + n, j0:j0 + n])
            out = lt.upscale_image(model, lp, s[0], s[1])
            oi, oj = int(round(s[0] * i0)), int(round(s[1] * j0))
            gt = e["hr"][oi:oi + out.shape[0], oj:oj + out.shape[1]]
            vals.append(imgio.psnr_y(out, gt, int(math.ceil(s[0]))))
        res["x%g" % s[0]] = round(float(np.mean(vals)), 3)
    model.quantised = was
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["lerf-g", "lerf-l"], required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "data"))
    ap.add_argument("--out", required=True, help="model folder to write (authors' layout)")
    ap.add_argument("--iters", type=int, default=6000)
    ap.add_argument("--quant-from", type=float, default=0.5, help="fraction of iters after which entries are rounded")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2.0, help="Adam step in LUT units")
    ap.add_argument("--lr-end", type=float, default=0.1)
    ap.add_argument("--s1-lr-mult", type=float, default=1.0, help="step-size factor of the stage-1 tables")
    ap.add_argument("--s2-lr-mult", type=float, default=1.0, help="step-size factor of the stage-2 tables")
    ap.add_argument("--init-from", default="", help="start from the LUTs of this model folder")
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--ckpt-every", type=int, default=500)
    ap.add_argument("--resume", default="")
    ap.add_argument("--no-val", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    data = load_data(args.data)
    train = {k: v for k, v in data.items() if k not in VAL_IMAGES}
    val = {k: v for k, v in data.items() if k in VAL_IMAGES}
    if not train:
        raise SystemExit(f"no training images in {args.data} (run tools/train/prepare_data.sh)")
    print(f"data: {len(train)} training, {len(val)} validation images, scales "
          f"{sorted({s for e in train.values() for s in e['lr']})} ({time.time() - t0:.1f} s)", flush=True)

    outputs = 3 if args.method == "lerf-g" else 1
    model = lt.LerfLuts(outputs)
    # Stage 2 start: G rho = 0 (h 127), sigma ~2.1 (h 54: bilinear-like blending);
    # L: a ~ 1 (h 254, the bilinear kernel).
    model.init_identity([0.0, -73.0, -73.0] if outputs == 3 else [127.0])
    if args.init_from:
        model.load(args.init_from)
    start = 0
    groups = [{"params": list(model.s1), "mult": args.s1_lr_mult}, {"params": list(model.s2), "mult": args.s2_lr_mult}]
    opt = torch.optim.Adam(groups, lr=args.lr, betas=(args.beta1, 0.99), eps=1e-10)
    ckpt_path = os.path.join(args.out, "train_state.pt")
    if args.resume:
        st = torch.load(args.resume)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start = st["iter"]
    sampler = Sampler(train, args.patch, args.batch, rng)
    os.makedirs(args.out, exist_ok=True)
    log = []
    quant_at = int(args.quant_from * args.iters)
    if val and not args.no_val:
        print(f"it {start} val {validate(model, val)}", flush=True)
    t_train = time.time()
    run_loss = 0.0
    for it in range(start, args.iters):
        model.quantised = it >= quant_at
        frac = it / max(1, args.iters - 1)
        lr_now = args.lr_end + 0.5 * (args.lr - args.lr_end) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr_now * g["mult"]
        lr, hr, sh, sw = sampler.next()
        out = model(lr, sh, sw, hr.shape[1], hr.shape[2])
        # MSE in grey levels^2: per-entry gradients of the sparse tables are tiny (~1e-10 with
        # a [0,1] scale), below Adam's eps, which would freeze the stage-2 tables.
        loss = torch.mean((out - hr) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.clamp_()
        run_loss += loss.item()
        if (it + 1) % args.log_every == 0:
            el = time.time() - t_train
            psnr = 10 * math.log10(255.0 ** 2 / max(run_loss / args.log_every, 1e-12))
            msg = f"it {it + 1} loss-psnr {psnr:.2f} lr {lr_now:.3f} quant {int(model.quantised)} {el:.0f} s"
            run_loss = 0.0
            if (it + 1) % args.ckpt_every == 0 or it + 1 == args.iters:
                model.save(args.out)
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "iter": it + 1}, ckpt_path)
                if val and not args.no_val:
                    v = validate(model, val)
                    msg += f" val {v}"
                    log.append({"iter": it + 1, "val": v, "seconds": round(el)})
            print(msg, flush=True)
    model.quantised = True
    model.save(args.out)
    wall = time.time() - t_train
    summary = {"iters": args.iters, "train_seconds": round(wall), "val_log": log,
               "args": {k: v for k, v in vars(args).items()}}
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if os.path.exists(ckpt_path):
        os.remove(ckpt_path)
    print(f"done: {args.iters} iterations in {wall:.0f} s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
