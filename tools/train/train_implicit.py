"""Joint training of our implicit methods (docs/IMPLICIT.md): ONE shared encoder and the
LIIF, A-LIIF and LMF decoders trained together (loss = sum of the three L1 losses on the
final pixel values, [0, 1] units), so that the three shipped models share the encoder.

Residual over bicubic (the spec's base); every decoder starts as plain bicubic (last layer
zero). Data: tools/train/work/data (prepare_data.sh), the held-out VAL_IMAGES of train.py are
never trained on. Patches: an LR crop at one of the prepared scales (1.5..4, asymmetric
pairs too), the aligned HR crop, random flips and transposition (= the 8 rotations/flips),
a random subset of the HR pixels as queries (engine coordinates, cell = 1/scale). Channel:
luma (BT.601 Y, LR rounded to integers) or one of B, G, R (the engine runs RGB images per
channel). Adam with cosine decay over a wall-clock budget; checkpoints every few minutes;
the models are exported at the end (also when the budget ends or on SIGTERM).

  nohup /usr/bin/python3 tools/train/train_implicit.py --minutes 65 --out models \
      > tools/train/work/implicit.log 2>&1 &
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import implicit_torch as it  # noqa: E402
import train as tr  # noqa: E402
from train import VAL_IMAGES, denominator, load_data  # noqa: E402


class Joint(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.enc = it.Encoder(arch["channels"], arch["blocks"])
        self.decs = nn.ModuleDict({m.replace("-", "_"): it.make_decoder(m, arch) for m in it.METHODS})
        for d in self.decs.values():
            it.zero_last_layers(d)

    def dec(self, method):
        return self.decs[method.replace("-", "_")]

    def single(self, method, arch):
        m = it.ImplicitModel(method, arch)
        m.enc.load_state_dict(self.enc.state_dict())
        m.dec.load_state_dict(self.dec(method).state_dict())
        m.eval()
        return m


def load_widened(joint, state):
    """Loads a joint state into `joint`, whose LMF latent MLP may be wider than the state's: the
    old hidden units keep their weights, the added ones get the default initialisation for their
    inputs and zero output weights, so the widened model computes exactly the old function."""
    own = joint.state_dict()
    for k, v in state.items():
        if k not in own:
            raise SystemExit(f"checkpoint tensor {k} has no place in the model")
        w = own[k]
        if w.shape == v.shape:
            w.copy_(v)
            continue
        if not k.startswith("decs.lmf.latent."):
            raise SystemExit(f"{k}: checkpoint shape {tuple(v.shape)}, model {tuple(w.shape)} (only the LMF latent "
                             f"width can change)")
        if k == "decs.lmf.latent.1.weight":
            w.zero_()
            w[:, :v.shape[1]] = v
        else:
            w[:v.shape[0]] = v
    missing = [k for k in own if k not in state]
    if missing:
        raise SystemExit(f"checkpoint lacks {missing}")


def luma_u8(img):
    return np.clip(np.round(imgio.luma(img)), 0, 255).astype(np.uint8)


class Sampler(tr.Sampler):
    """train.py's patch sampler (one channel, or luma for a fraction luma_frac of the patches)
    plus a random subset of query positions for the implicit decoder."""

    def __init__(self, images, patch, batch, queries, luma_frac, rng):
        super().__init__(images, patch, batch, rng)
        self.queries, self.luma_frac = queries, luma_frac

    def pick(self, lp, hp):
        if self.rng.random() < self.luma_frac:
            return luma_u8(lp).astype(np.float32), imgio.luma(hp).astype(np.float32)
        return super().pick(lp, hp)

    def next(self):
        rng = self.rng
        lr, hr, sh, sw = super().next()
        B, oh, ow = hr.shape
        # random query subset (same positions for the whole batch: cheaper, still unbiased)
        n = min(self.queries, oh * ow)
        sel = torch.from_numpy(rng.choice(oh * ow, n, replace=False))
        oy, ox = (sel // ow).float(), (sel % ow).float()
        coords = torch.stack([(ox + 0.5) / sw - 0.5, (oy + 0.5) / sh - 0.5], -1)  # engine map
        coords = coords[None].expand(B, n, 2).contiguous()
        cells = torch.tensor([1.0 / sw, 1.0 / sh]).expand(B, n, 2).contiguous()
        target = hr.reshape(B, -1)[:, sel] / 255.0
        x = it.normalise(lr)[:, None]
        return x, coords, cells, target, (sh, sw)


def val_crop(e, s, crop):
    lr = e["lr"][s]
    H, W = lr.shape[:2]
    q = denominator(s[0])
    n = min(crop // int(math.ceil(s[0])), H, W) // q * q
    i0, j0 = (H - n) // 2 // q * q, (W - n) // 2 // q * q
    lp = luma_u8(lr[i0:i0 + n, j0:j0 + n])
    oi, oj = int(round(s[0] * i0)), int(round(s[1] * j0))
    gt = imgio.luma(e["hr"][oi:oi + int(round(s[0] * n)), oj:oj + int(round(s[1] * n))])
    return lp, gt


def psnr(out, gt, shave):
    a = out.astype(np.float64)[shave:-shave, shave:-shave]
    b = gt[shave:-shave, shave:-shave]
    return 10 * math.log10(255.0 ** 2 / max(np.mean((a - b) ** 2), 1e-12))


@torch.no_grad()
def validate(joint, arch, images, scales=((2.0, 2.0), (3.0, 3.0), (4.0, 4.0)), crop=128, methods=it.METHODS):
    """PSNR on luma of centre crops of the held-out wallpapers (shave = scale)."""
    models = {m: joint.single(m, arch) for m in methods}
    res = {m: {} for m in ("bicubic",) + tuple(methods)}
    for s in scales:
        vals = {m: [] for m in res}
        for e in images.values():
            if s not in e["lr"]:
                continue
            lp, gt = val_crop(e, s, crop)
            sh = int(math.ceil(s[0]))
            x = it.normalise(lp)[None, None]
            OH, OW = gt.shape
            coords = it.grid_coords(lp.shape[0], lp.shape[1], OH, OW, s[0], s[1])
            vals["bicubic"].append(psnr(it.to_u8(it.bicubic_base(x, coords)).view(OH, OW).numpy(), gt, sh))
            feats = models[methods[0]].enc(x)  # CPU copies: the same encoder in every model
            for m in methods:
                out = it.to_u8(it.render_plane(models[m], lp, s[0], s[1], feats=feats)).numpy()
                vals[m].append(psnr(out, gt, sh))
        for m in res:
            if vals[m]:
                res[m]["x%g" % s[0]] = round(float(np.mean(vals[m])), 3)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "data"))
    ap.add_argument("--out", required=True, help="folder receiving liif/, a-liif/, lmf/")
    ap.add_argument("--work", default="", help="checkpoint folder (default OUT/../tools/train/work/implicit-ckpt)")
    ap.add_argument("--minutes", type=float, default=60.0, help="wall-clock training budget")
    ap.add_argument("--iters", type=int, default=0, help="stop after this many iterations (0: budget only)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=32, help="LR patch side")
    ap.add_argument("--queries", type=int, default=256, help="sampled HR pixels per patch")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-end", type=float, default=1e-5)
    ap.add_argument("--luma-frac", type=float, default=0.5, help="fraction of patches on luma (else B, G or R)")
    ap.add_argument("--arch", default="", help="JSON overriding architecture entries")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--val-minutes", type=float, default=15.0)
    ap.add_argument("--resume", default="")
    ap.add_argument("--no-val", action="store_true")
    ap.add_argument("--images", type=int, default=0, help="use only the first N training images (smoke)")
    ap.add_argument("--export-ckpt", default="", help="only export this checkpoint's models to --out")
    ap.add_argument("--finetune", default="", choices=("",) + it.METHODS,
                    help="train only this method's decoder on the frozen shared encoder of --init "
                         "(the other decoders and the encoder stay as they are; only this method is exported)")
    ap.add_argument("--init", default="", help="joint checkpoint (train_state.pt) that --finetune starts from")
    ap.add_argument("--val-crop", type=int, default=128, help="HR side of the held-out validation crops")
    ap.add_argument("--device", default="cpu",
                    help="torch device for training (cuda on a lent GPU machine; validation and export run on the CPU)")
    args = ap.parse_args()
    if args.export_ckpt:
        st = torch.load(args.export_ckpt, map_location="cpu")
        joint = Joint(st["arch"])
        joint.load_state_dict(st["model"])
        for m in it.METHODS:
            it.export_model(joint.single(m, st["arch"]), os.path.join(args.out, m),
                            {"training": f"checkpoint {args.export_ckpt} at iteration {st['iter']}"})
        print(f"exported iteration {st['iter']} -> {args.out}")
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    arch = dict(it.DEFAULT_ARCH)
    if args.arch:
        arch.update(json.loads(args.arch))
    work = args.work or os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "implicit-ckpt")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    data = load_data(args.data)
    train = {k: v for k, v in data.items() if k not in VAL_IMAGES}
    val = {k: v for k, v in data.items() if k in VAL_IMAGES}
    if args.images:
        train = {k: train[k] for k in sorted(train)[:args.images]}
    if not train:
        raise SystemExit(f"no training images in {args.data} (run tools/train/prepare_data.sh)")
    scales = sorted({s for e in train.values() for s in e["lr"]})
    print(f"data: {len(train)} training, {len(val)} validation images, scales {scales} ({time.time() - t0:.1f} s)",
          flush=True)

    trained = it.METHODS
    if args.finetune:
        if not args.init:
            raise SystemExit("--finetune needs --init (a joint checkpoint, train_state.pt)")
        init = torch.load(args.init, map_location="cpu")
        arch = dict(init["arch"])
        if args.arch:
            arch.update(json.loads(args.arch))
        joint = Joint(arch)
        load_widened(joint, init["model"])
        trained = (args.finetune,)
        joint.requires_grad_(False)
        joint.dec(args.finetune).requires_grad_(True)
        print(f"fine-tuning {args.finetune} alone on the frozen encoder of {args.init} (iteration {init['iter']})",
              flush=True)
    else:
        joint = Joint(arch)
    device = torch.device(args.device)
    joint.to(device)
    opt = torch.optim.Adam([p for p in joint.parameters() if p.requires_grad], lr=args.lr)
    budget = args.minutes * 60.0
    elapsed0, start, log = 0.0, 0, []
    ckpt_path = os.path.join(work, "train_state.pt")
    if args.resume:
        st = torch.load(args.resume, map_location=device)
        joint.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start, elapsed0, log = st["iter"], st["elapsed"], st.get("log", [])
    print(f"params: encoder {sum(p.numel() for p in joint.enc.parameters())}, " +
          ", ".join(f"{m} {sum(p.numel() for p in joint.dec(m).parameters())}" for m in it.METHODS), flush=True)
    sampler = Sampler(train, args.patch, args.batch, args.queries, args.luma_frac, rng)

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__("flag", True))

    def save_ckpt(it_, el):
        torch.save({"model": joint.state_dict(), "opt": opt.state_dict(), "iter": it_, "elapsed": el, "log": log,
                    "arch": arch}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    # a fine-tuned decoder is judged against LIIF on the same encoder (issue #8's comparison)
    val_methods = tuple(dict.fromkeys(("liif",) + trained)) if args.finetune else it.METHODS
    t_start = time.time() - elapsed0
    last_ckpt = last_val = time.time()
    run = {m: 0.0 for m in trained}
    first_losses, cnt = None, 0
    i = start
    while True:
        el = time.time() - t_start
        if el >= budget or stop["flag"] or (args.iters and i >= args.iters):
            break
        frac = min(1.0, el / budget) if not args.iters else i / args.iters
        lr_now = args.lr_end + 0.5 * (args.lr - args.lr_end) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr_now
        x, coords, cells, target, s = (t.to(device) if torch.is_tensor(t) else t for t in sampler.next())
        with torch.set_grad_enabled(not args.finetune):  # a frozen encoder needs no graph
            feats = joint.enc(x)
        losses = {}
        for m in trained:
            y = it.query(joint.dec(m), feats, x, coords, cells)
            losses[m] = torch.mean(torch.abs(y * 0.5 + 0.5 - target))
        loss = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        i += 1
        for m in trained:
            run[m] += losses[m].item()
        cnt += 1
        if cnt == args.log_every or (args.iters and i == args.iters):
            avg = {m: run[m] / cnt for m in trained}
            if first_losses is None:
                first_losses = avg
            print(f"it {i} l1x255 " + " ".join(f"{m} {255 * avg[m]:.3f}" for m in trained) +
                  f" lr {lr_now:.2e} {el:.0f} s ({el / max(1, i - start):.2f} s/it)", flush=True)
            last_losses = avg
            run, cnt = {m: 0.0 for m in trained}, 0
        now = time.time()
        if now - last_ckpt > args.ckpt_minutes * 60:
            save_ckpt(i, time.time() - t_start)
            last_ckpt = now
        if val and not args.no_val and now - last_val > args.val_minutes * 60:
            v = validate(joint, arch, val, crop=args.val_crop, methods=val_methods)
            log.append({"iter": i, "seconds": round(time.time() - t_start), "val": v})
            print(f"it {i} val {json.dumps(v)}", flush=True)
            last_val = time.time()

    wall = time.time() - t_start
    save_ckpt(i, wall)
    final_val = validate(joint, arch, val, crop=args.val_crop, methods=val_methods) if val and not args.no_val else {}
    if final_val:
        log.append({"iter": i, "seconds": round(wall), "val": final_val})
        print(f"final val {json.dumps(final_val)}", flush=True)
    cmd = "/usr/bin/python3 tools/train/train_implicit.py " + " ".join(
        a if a and " " not in a else json.dumps(a) for a in sys.argv[1:])
    desc = (f"joint training (shared encoder, LIIF + A-LIIF + LMF decoders, sum of L1 losses), residual over "
            f"bicubic; {len(train)} Debian wallpaper photographs (tools/train/prepare_data.sh; held out: "
            f"{', '.join(VAL_IMAGES)}), scales {', '.join('%gx%g' % s for s in scales)}; luma or one of B/G/R per "
            f"patch (luma fraction {args.luma_frac}); LR patch {args.patch}, batch {args.batch}, "
            f"{args.queries} sampled queries per patch; Adam {args.lr:g} cosine to {args.lr_end:g}; "
            f"{i} iterations in {wall / 60:.1f} min on 2 CPU cores")
    if args.finetune:
        changed = {k: arch[k] for k in arch if arch[k] != init["arch"].get(k)}
        desc = (f"{args.finetune} decoder fine-tuned alone on the frozen shared encoder of {args.init} "
                f"(joint iteration {init['iter']}; the other methods keep that checkpoint's weights): "
                + (f"architecture changes {json.dumps(changed)} (added units start with zero output weights, so "
                   f"training starts from the joint model's function); " if changed else "same architecture; ")
                + f"same data, patches and scales; Adam {args.lr:g} cosine to {args.lr_end:g}; "
                f"{i - start} iterations in {(wall - elapsed0) / 60:.1f} min")
    for m in trained:
        model = joint.single(m, arch)
        extra = {"training": desc, "reproduce": cmd,
                 "scores": {"heldout_wallpapers_psnr_y_torch": {"note": "centre crops (128 HR px) of "
                            + ", ".join(VAL_IMAGES) + ", luma, shave = scale",
                            m: final_val.get(m, {}), "bicubic": final_val.get("bicubic", {})}}}
        it.export_model(model, os.path.join(args.out, m), extra)
    summary = {"iters": i, "seconds": round(wall), "first_losses": first_losses,
               "last_losses": locals().get("last_losses"), "val_log": log, "args": vars(args)}
    with open(os.path.join(work, "train_log.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"done: {i} iterations in {wall:.0f} s -> {args.out}/{{{','.join(trained)}}}", flush=True)


if __name__ == "__main__":
    main()
