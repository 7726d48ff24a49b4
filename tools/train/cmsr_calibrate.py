"""Calibrates the CMSR threshold tables of an LMF model (docs/IMPLICIT.md, "CMSR") offline on
the HELD-OUT training photographs only (train.py's VAL_IMAGES; never Set5/Set14) and writes
them into the model's model.json (`cmsr.tables`, `cmsr.mse_target`, `cmsr.calibration`).

For every target scale S the decode scales d < S (from --decode) get thresholds t_d so that
the MSE of the CMSR output against the full rendering (u8 outputs on [0, 1], all output
pixels of all held-out crops pooled) stays <= --mse-target while the rendered work is as
small as possible: greedy coordinate ascent over quantiles of `mod`, each step raising the
threshold that skips the most work per unit of added error. Work = output pixels rendered at
S plus coarse pixels touched (the render MLP runs once per such pixel); skipped = 1 - work /
output pixels.

Inputs are the luma of the held-out photographs: LR = torch's antialiased bicubic (a = -0.5)
downscale of a centre crop of hr.npy by S (so the PSNR against the HR crop can be reported).
Finally it reports, at x8 (--report-scale), the fraction of render work skipped and the
PSNR-Y loss (CMSR vs full rendering, both against the HR crop) with the chosen table,
measured through implicit_torch.upscale_plane_cmsr (the reference implementation).

  /usr/bin/python3 tools/train/cmsr_calibrate.py --model models/lmf
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import implicit_torch as it  # noqa: E402
from train import VAL_IMAGES  # noqa: E402


def heldout_pairs(data, S, lr_side):
    """(LR u8 luma plane, HR luma float crop) per held-out image for scale S (integer or not)."""
    pairs = []
    for name in VAL_IMAGES:
        hr = np.load(os.path.join(data, name, "hr.npy"))
        Y = imgio.luma(hr)
        n = lr_side
        oh = it.scaled_length(n, S)
        H, W = Y.shape
        i0, j0 = (H - oh) // 2, (W - oh) // 2
        gt = Y[i0:i0 + oh, j0:j0 + oh]
        t = torch.from_numpy(gt.astype(np.float32))[None, None]
        lr = F.interpolate(t, size=(n, n), mode="bicubic", align_corners=False, antialias=True)[0, 0]
        pairs.append((np.clip(np.round(lr.numpy()), 0, 255).astype(np.uint8), gt))
    return pairs


def simulate(parts_list, decode, thresholds):
    """Pooled (mse on [0,1] u8 values, skipped fraction) for thresholds (one per d)."""
    se, n, work = 0.0, 0, 0
    for p in parts_list:
        m = p["mod"]
        assign = np.full(m.shape, -1)
        for j, t in enumerate(thresholds):
            assign[(assign < 0) & (m < t)] = j
        err = np.zeros(m.shape)
        work += int((assign < 0).sum())
        for j, d in enumerate(decode):
            sel = assign == j
            if not sel.any():
                continue
            err[sel] = p["err"][d][sel]
            mark = np.zeros(p["ncoarse"][d], bool)
            mark[p["taps"][d][sel].reshape(-1)] = True
            work += int(mark.sum())
        se += err.sum()
        n += m.size
    return se / n, 1.0 - work / n


def calibrate_scale(model, data, S, decode, mse_target, lr_side, steps):
    pairs = heldout_pairs(data, S, lr_side)
    parts_list = []
    for lr, gt in pairs:
        p = it.cmsr_parts(model, lr, S, S, decode)
        full_u8 = it.to_u8(p["full"]).numpy().astype(np.float64)
        q = {"mod": p["mod"].numpy(), "err": {}, "taps": {}, "ncoarse": {}}
        for d in decode:
            v, taps, nc = p["coarse"][d]
            q["err"][d] = ((it.to_u8(v).numpy().astype(np.float64) - full_u8) / 255.0) ** 2
            q["taps"][d], q["ncoarse"][d] = taps.numpy(), nc
        parts_list.append(q)
    mods = np.concatenate([q["mod"] for q in parts_list])
    levels = np.concatenate([[0.0], np.quantile(mods, np.linspace(0, 1, steps + 1)[1:])])
    levels[-1] = levels[-1] * 1.0001 + 1e-9
    idx = [0] * len(decode)
    mse, skip = simulate(parts_list, decode, [levels[i] for i in idx])
    while True:
        best = None
        for j in range(len(decode)):
            if idx[j] + 1 >= len(levels):
                continue
            trial = list(idx)
            trial[j] += 1
            m2, s2 = simulate(parts_list, decode, [levels[i] for i in trial])
            if m2 > mse_target or s2 <= skip:
                continue
            gain = (s2 - skip) / max(m2 - mse, 1e-12)
            if best is None or gain > best[0]:
                best = (gain, trial, m2, s2)
        if best is None:
            break
        _, idx, mse, skip = best
    table, top = [], 0.0
    for d, i in zip(decode, idx):  # entries shadowed by a smaller d with a higher threshold never apply
        if levels[i] > top:
            table.append([d, float("%.6g" % levels[i])])
            top = levels[i]
    return table, mse, skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/lmf")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "data"))
    ap.add_argument("--targets", default="2,3,4,6,8,12")
    ap.add_argument("--decode", default="1,1.5,2,3,4,6,8")
    ap.add_argument("--mse-target", type=float, default=2e-5)
    ap.add_argument("--lr-side", type=int, default=48, help="LR crop side per held-out image")
    ap.add_argument("--steps", type=int, default=20, help="threshold quantile levels")
    ap.add_argument("--report-scale", type=float, default=8.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dry-run", action="store_true", help="do not write model.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model, meta = it.load_model(args.model)
    if model.method != "lmf":
        raise SystemExit(f"{args.model}: CMSR needs an LMF model, not {model.method}")
    decode_all = [float(v) for v in args.decode.split(",")]
    tables, cal = {}, {}
    for S in [float(v) for v in args.targets.split(",")]:
        decode = [d for d in decode_all if d < S - 1e-9]
        table, mse, skip = calibrate_scale(model, args.data, S, decode, args.mse_target, args.lr_side, args.steps)
        key = "%g" % S
        tables[key] = [[float("%g" % d), t] for d, t in table]
        cal[key] = {"mse": float("%.3g" % mse), "skipped": round(skip, 4)}
        print(f"x{key}: table {tables[key]} mse {mse:.3g} skipped {skip:.1%} ({time.time() - t0:.0f} s)", flush=True)

    # report at x8 through the reference implementation
    S = args.report_scale
    table = it.cmsr_table(tables, S, S)
    rows = []
    for lr, gt in heldout_pairs(args.data, S, args.lr_side):
        full = it.upscale_plane(model, lr, S, S)
        cm, st = it.upscale_plane_cmsr(model, lr, S, S, table)
        sh = int(math.ceil(S))
        ps = lambda o: 10 * math.log10(255.0 ** 2 / np.mean((o.astype(np.float64)[sh:-sh, sh:-sh] - gt[sh:-sh, sh:-sh]) ** 2))
        mse = np.mean(((cm.astype(np.float64) - full) / 255.0) ** 2)
        rows.append((ps(full), ps(cm), st["skipped"], mse, st))
    pf, pc = np.mean([r[0] for r in rows]), np.mean([r[1] for r in rows])
    work = sum(r[4]["full"] + r[4]["coarse"] for r in rows)
    out = sum(r[4]["out"] for r in rows)
    report = {"scale": S, "psnr_y_full": round(float(pf), 3), "psnr_y_cmsr": round(float(pc), 3),
              "psnr_loss_db": round(float(pf - pc), 3), "skipped": round(1 - work / out, 4),
              "mse_vs_full": float("%.3g" % np.mean([r[3] for r in rows]))}
    print(f"report x{S:g} on held-out {', '.join(VAL_IMAGES)} (luma, {args.lr_side}x{args.lr_side} LR crops): "
          f"full {pf:.3f} dB, CMSR {pc:.3f} dB, loss {pf - pc:.3f} dB, render work skipped {report['skipped']:.1%}",
          flush=True)
    meta["cmsr"] = {"mse_target": args.mse_target, "tables": tables,
                    "calibration": {"images": list(VAL_IMAGES), "per_scale": cal, "report": report,
                                    "reproduce": "/usr/bin/python3 tools/train/cmsr_calibrate.py " + " ".join(sys.argv[1:])}}
    if not args.dry_run:
        with open(os.path.join(args.model, "model.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        print(f"wrote {args.model}/model.json ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
