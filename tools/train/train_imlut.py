"""Trains IM-LUT mixing-logit tables directly (no network): the LUT entries are the
parameters and the forward pass is exactly the engine's inference (imlut_torch.py): the K
component interpolations (fixed: classical kernels and our frozen lerf-g), 4-simplex
interpolation of the int8 tables per pattern and rotation, scale bins interpolated linearly,
logits bilinearly interpolated to the output pixels, softmax (or affine) mixing. Random scales
x1.5..x4 incl. asymmetric (the data of tools/train/prepare_data.sh, never a benchmark image).

Phase 1 trains float entries (Adam, cosine step size), phase 2 rounds them to int8 in the
forward pass (straight-through): the exported int8 tables are what was optimised.

  /usr/bin/python3 tools/train/train_imlut.py --data tools/train/work/data --out models/im-lut \
      --lerf-dir models/lerf-g --iters 3000 --threads 1
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imlut_torch as it  # noqa: E402
import train as tr  # noqa: E402  (data loading, sampler, validation of the LeRF training)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--lerf-dir", default="", help="LeRF-G LUT folder of the lerf-g component (copied to OUT/lerf-g)")
    ap.add_argument("--components", default="nearest,bilinear,bicubic,lanczos,lerf-g",
                    help="of nearest, bilinear, bicubic, lanczos, lerf-g; lerf-l for ablations only (torch)")
    ap.add_argument("--lerf-l-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                          "models", "lerf-l"),
                    help="LeRF-L LUT folder of a lerf-l component (ablations)")
    ap.add_argument("--bins", default="1.5,2,2.5,3,3.5,4", help="scale bins (one value: no scale input)")
    ap.add_argument("--mixing", choices=["softmax", "affine"], default="softmax")
    ap.add_argument("--quadrants", type=int, choices=[1, 4], default=1,
                    help="4: one logit vector per quadrant around each input pixel (experiment)")
    ap.add_argument("--index", choices=["input", "stage1"], default="input",
                    help="index the logit tables by the input, or by the lerf-g component's stage-1 plane")
    ap.add_argument("--train-lerf", action="store_true",
                    help="also train the lerf-g component's tables (OUT/lerf-g), jointly with the mixing tables")
    ap.add_argument("--lerf-lr-scale", type=float, default=0.3,
                    help="step size of the lerf-g tables relative to --lr (with --train-lerf)")
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--quant-from", type=float, default=0.7)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--lr-end", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--ckpt-every", type=int, default=500)
    ap.add_argument("--no-val", action="store_true")
    ap.add_argument("--val-scales", default="2,3,4", help="held-out validation scales (symmetric)")
    ap.add_argument("--init-from", default="", help="start from the tables of this im-lut folder")
    ap.add_argument("--scale-repeat", default="", help="sample these symmetric scales more often, e.g. 1.5=3,4=2")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    val_scales = tuple((float(v), float(v)) for v in args.val_scales.split(","))
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    comps = args.components.split(",")
    bins = [float(b) for b in args.bins.split(",")]
    os.makedirs(args.out, exist_ok=True)
    lerf_dir = os.path.join(args.out, "lerf-g")
    if "lerf-g" in comps:
        if args.lerf_dir and os.path.abspath(args.lerf_dir) != os.path.abspath(lerf_dir):
            os.makedirs(lerf_dir, exist_ok=True)
            for f in os.listdir(args.lerf_dir):
                if f.endswith(".npy"):
                    shutil.copy(os.path.join(args.lerf_dir, f), lerf_dir)
        if not os.path.exists(os.path.join(lerf_dir, "LUTft_s1_sr0.npy")):
            raise SystemExit(f"{lerf_dir}: no LeRF-G tables (pass --lerf-dir)")
    if args.train_lerf and "lerf-g" not in comps:
        raise SystemExit("--train-lerf needs a lerf-g component")
    model = it.ImLut(comps, bins, lerf_dir, args.mixing, args.lerf_l_dir, args.index, args.quadrants,
                     args.train_lerf)
    K = len(comps)
    if args.mixing == "softmax":  # start near lerf-g (else lanczos, else uniform)
        init = [48.0 if c == "lerf-g" else (24.0 if c == "lanczos" else 0.0) for c in comps]
    else:
        best = "lerf-g" if "lerf-g" in comps else ("lanczos" if "lanczos" in comps else comps[-1])
        init = [16.0 * ((1.0 if c == best else 0.0) - 1.0 / K) for c in comps]
    model.init_bias(init)
    if args.init_from:
        model.load(args.init_from)

    t0 = time.time()
    data = tr.load_data(args.data)
    train = {k: v for k, v in data.items() if k not in tr.VAL_IMAGES}
    val = {k: v for k, v in data.items() if k in tr.VAL_IMAGES}
    if not train:
        raise SystemExit(f"no training images in {args.data} (run tools/train/prepare_data.sh)")
    print(f"data: {len(train)} training, {len(val)} validation images ({time.time() - t0:.1f} s); "
          f"K={K} {comps}, bins {bins}, {args.mixing}", flush=True)
    groups = [{"params": list(model.tables), "scale": 1.0}]
    if args.train_lerf:
        groups.append({"params": list(model.lerf.parameters()), "scale": args.lerf_lr_scale})
    opt = torch.optim.Adam(groups, lr=args.lr, betas=(0.9, 0.99), eps=1e-10)
    sampler = tr.Sampler(train, args.patch, args.batch, rng)
    for item in filter(None, args.scale_repeat.split(",")):
        sc, rep = item.split("=")
        sampler.scales += [(float(sc), float(sc))] * (int(rep) - 1)
    log = []
    quant_at = int(args.quant_from * args.iters)
    if val and not args.no_val:
        v = tr.validate(model, val, val_scales)
        print(f"it 0 val {v}", flush=True)
        log.append({"iter": 0, "val": v, "seconds": 0})
    t_train = time.time()
    run_loss = 0.0
    for i in range(args.iters):
        model.quantised = i >= quant_at
        frac = i / max(1, args.iters - 1)
        lr_now = args.lr_end + 0.5 * (args.lr - args.lr_end) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr_now * g["scale"]
        lr, hr, sh, sw = sampler.next()
        out = model(lr, sh, sw, hr.shape[1], hr.shape[2])
        loss = torch.mean((out - hr) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.clamp_()
        if args.train_lerf:
            model.lerf.clamp_()
        run_loss += loss.item()
        if (i + 1) % args.log_every == 0:
            el = time.time() - t_train
            psnr = 10 * math.log10(255.0 ** 2 / max(run_loss / args.log_every, 1e-12))
            msg = f"it {i + 1} loss-psnr {psnr:.2f} lr {lr_now:.3f} quant {int(model.quantised)} {el:.0f} s"
            run_loss = 0.0
            if (i + 1) % args.ckpt_every == 0 or i + 1 == args.iters:
                model.save(args.out)
                if val and not args.no_val:
                    v = tr.validate(model, val, val_scales)
                    msg += f" val {v}"
                    log.append({"iter": i + 1, "val": v, "seconds": round(el)})
            print(msg, flush=True)
    model.quantised = True
    model.save(args.out)
    wall = time.time() - t_train
    meta = {"method": "im-lut", "version": "dev", "components": comps, "scale_bins": bins, "mixing": args.mixing,
            "index": args.index, "lerf_trained_jointly": args.train_lerf,
            "description": "lerfscale's IM-LUT (work in progress)"}
    mj = os.path.join(args.out, "model.json")
    if not os.path.exists(mj):
        with open(mj, "w") as f:
            json.dump(meta, f, indent=1)
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump({"iters": args.iters, "train_seconds": round(wall), "val_log": log, "args": vars(args)}, f, indent=1)
    print(f"done: {args.iters} iterations in {wall:.0f} s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
