"""Evaluates an IM-LUT model folder with `lerf eval` on the benchmark sets (only here, after
training) next to our lerf-g, and writes its model.json (method, layout, training data, recipe,
measured scores, the reproducing commands).

  /usr/bin/python3 tools/train/finalize_imlut.py --model models/im-lut --cli build-imlut/tools/lerf \
      --datasets ../shared/datasets/Set5,../shared/datasets/Set14 --scales 1.5,2,2.5,3,4 \
      --train-log tools/train/work/imlut-v1/train_log.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from finalize import run_eval  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--datasets", required=True)
    ap.add_argument("--scales", default="1.5,2,2.5,3,4")
    ap.add_argument("--lerf-g", default="", help="lerf-g model folder to compare with (default: the search path)")
    ap.add_argument("--train-log", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra", default="", help="JSON file merged into model.json (ablations, timings)")
    ap.add_argument("--version", default="1")
    ap.add_argument("--component-version", default="v1.1", help="version of models/lerf-g copied into lerf-g/")
    ap.add_argument("--train-out", default="tools/train/work/imlut-v1", help="train_imlut.py --out of the recipe")
    args = ap.parse_args()

    mj = os.path.join(args.model, "model.json")
    meta = json.load(open(mj)) if os.path.exists(mj) else {}
    scores, lerfg, delta = {}, {}, {}
    for ds in args.datasets.split(","):
        name = os.path.basename(ds.rstrip("/"))
        scores[name] = run_eval(args.cli, "im-lut", args.model, ds, args.scales, args.threads)
        lerfg[name] = run_eval(args.cli, "lerf-g", args.lerf_g, ds, args.scales, args.threads)
        delta[name] = {s: round(scores[name][s]["psnr_y"] - lerfg[name][s]["psnr_y"], 2) for s in scores[name]}
        print(name, "im-lut", {s: v["psnr_y"] for s, v in scores[name].items()}, flush=True)
        print(name, "lerf-g", {s: v["psnr_y"] for s, v in lerfg[name].items()}, flush=True)
        print(name, "delta ", delta[name], flush=True)
    log = json.load(open(args.train_log)) if args.train_log else {}
    targs = log.get("args", {})
    meta.update({
        "method": "im-lut",
        "version": args.version,
        "description": "lerfscale's IM-LUT: per pixel an affine mix (weights sum to 1) of nearest, bilinear, "
                       "bicubic, lanczos and our lerf-g, the mixing logits looked up from s/c/t pattern LUTs "
                       "(4 rotations, 4-simplex) per scale bin, trained directly on the engine's inference maths",
        "layout": "imlut_{s,c,t}.npy int8 (83521, bins x components), column = bin * K + k; lerf-g/ = the lerf-g "
                  "component's LeRF-G tables (frozen copy of models/lerf-g " + args.component_version + "); docs/IMLUT.md",
        "training_data": "the LeRF training's photographs (tools/train/prepare_data.sh: 40 Debian 12 wallpaper "
                         "photographs, 37 train, 3 held out: Path, greentock, friends); no benchmark image",
        "recipe": {
            "iterations": log.get("iters"), "batch": targs.get("batch"), "lr_patch": targs.get("patch"),
            "optimiser": f"Adam (0.9, 0.99), cosine {targs.get('lr')} -> {targs.get('lr_end')} LUT units per step",
            "quantisation": f"float entries for the first {int(100 * (targs.get('quant_from') or 0))}% of the "
                            "iterations, then int8 rounding in the forward pass (straight-through)",
            "init": "every entry = lerf-g weight 1 (affine: 16 (onehot - 1/K)): training starts from lerf-g",
            "scales": "random per batch among 1.5, 2, 2.5, 3, 3.5, 4, 2x3, 3x2, 2x4, 4x2, 3x4, 4x3 (+ transposition)",
            "loss": "MSE (grey levels) to the HR crop, one random channel per crop, flips",
            "threads": targs.get("threads"), "seed": targs.get("seed"),
            "wall_seconds": log.get("train_seconds"),
            "validation_psnr_y_heldout": log.get("val_log"),
        },
        "scores": {"psnr_y_ssim_y": scores,
                   "note": "PSNR-Y dB / SSIM-Y by `lerf eval`; x1.5 and x2.5 use LR generated from HR with the "
                           "MATLAB-compatible bicubic"},
        "comparison": {"lerf-g (models/lerf-g at evaluation time)": lerfg, "im-lut minus lerf-g, dB": delta},
        "reproduce": {
            "train": f"/usr/bin/python3 tools/train/train_imlut.py --out {args.train_out} --lerf-dir "
                     "models/lerf-g --mixing affine --iters 4000 --log-every 100 --ckpt-every 1000 --threads 1 "
                     "(data: tools/train/prepare_data.sh build-imlut), then copy imlut_*.npy, lerf-g/ to models/im-lut",
            "evaluate": "build-imlut/tools/lerf eval --method im-lut --dataset ../shared/datasets/Set5 "
                        "--scales 1.5,2,2.5,3,4   (and Set14; vs --method lerf-g)",
            "finalize": "/usr/bin/python3 tools/train/finalize_imlut.py --model models/im-lut --cli "
                        "build-imlut/tools/lerf --datasets ../shared/datasets/Set5,../shared/datasets/Set14 "
                        f"--train-log {args.train_out}/train_log.json",
        },
    })
    if args.extra:
        meta.update(json.load(open(args.extra)))
    with open(mj, "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote", mj)


if __name__ == "__main__":
    main()
