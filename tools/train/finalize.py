"""Evaluates a trained model with the lerf CLI (the engine, not torch) next to the authors'
LUTs and our lanczos, and writes model.json (method, version, training data, recipe, measured
scores, the command that reproduces them).

  /usr/bin/python3 tools/train/finalize.py --method lerf-g --model models/lerf-g \
      --cli build-train/tools/lerf --datasets ../shared/datasets/Set5,../shared/datasets/Set14 \
      --scales 2,3,4,1.5,2.5,3.5 --reference ../shared/reference/lerf-official
"""
import argparse
import json
import os
import subprocess
import sys

TRAINING_DATA = ("40 photographs from Debian 12 wallpaper packages (lomiri-wallpapers-16.04 (15), "
                 "lomiri-wallpapers-20.04 Kleiber + Infinite-Sea, mate-backgrounds nature/ (12), "
                 "plasma-workspace-wallpapers 2560x1600 photos (11)), downsampled by max(2, longer side "
                 "/ 1000) with the antialiased MATLAB bicubic; 37 for training, 3 held out for validation "
                 "(Path, greentock, friends); LR by the engine's matlab_imresize; tools/train/prepare_data.sh")

# OpenCV INTER_LANCZOS4 on the shared pairs (methods.md section 0), for the comparison table.
OPENCV_LANCZOS4 = {"Set5": {"x2": 34.45, "x3": 30.91, "x4": 28.89}, "Set14": {"x2": 30.87, "x3": 27.98, "x4": 26.36}}


def run_eval(cli, method, model_dir, dataset, scales, threads):
    cmd = [cli, "eval", "--method", method, "--dataset", dataset, "--scales", scales, "--json",
           "--threads", str(threads)]
    if model_dir:
        cmd += ["--model-dir", model_dir]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for r in json.loads(out)["results"]:
        label = "x%g" % r["scale_h"] if r["scale_h"] == r["scale_w"] else "x%gx%g" % (r["scale_h"], r["scale_w"])
        res[label] = {"psnr_y": round(r["psnr_y"], 2), "ssim_y": round(r["ssim_y"], 4)}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True, choices=["lerf-g", "lerf-l"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--datasets", required=True, help="comma-separated dataset folders")
    ap.add_argument("--scales", default="2,3,4,1.5,2.5,3.5")
    ap.add_argument("--reference", default="", help="folder with the authors' <method>/ LUTs (comparison only)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-log", default="", help="train_log.json of train.py (recipe, wall time); a second, comma-separated: the fine-tune")
    ap.add_argument("--prep-seconds", type=float, default=0, help="wall time of prepare_data.sh, recorded")
    ap.add_argument("--table", default="", help="also write a markdown results table here")
    args = ap.parse_args()

    scores, ref, lanczos = {}, {}, {}
    for ds in args.datasets.split(","):
        name = os.path.basename(os.path.normpath(ds))
        scores[name] = run_eval(args.cli, args.method, args.model, ds, args.scales, args.threads)
        lanczos[name] = run_eval(args.cli, "lanczos", "", ds, args.scales, args.threads)
        if args.reference and os.path.isdir(os.path.join(args.reference, args.method)):
            ref[name] = run_eval(args.cli, args.method, os.path.join(args.reference, args.method), ds, args.scales,
                                 args.threads)

    meta_path = os.path.join(args.model, "model.json")
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    recipe = {}
    logs = []
    for path in filter(None, args.train_log.split(",")):
        with open(path) as f:
            logs.append(json.load(f))
    if logs:
        tl = logs[0]
        a = tl["args"]
        recipe = {
            "training_data": TRAINING_DATA,
            "recipe": {
                "design": "LUT entries trained directly (no network): the forward pass is the engine's "
                          "inference (4-simplex interpolation of the int8 tables, stage-1 round/clip and "
                          "stage-2 h = round(clip(sum/12+127,0,255))/255 with straight-through rounding, "
                          "2x2 steerable kernels of kernels.inc, edge clamping), tools/train/lerf_torch.py",
                "init": "stage 1 identity (each of the 12 lookups returns anchor/4); stage 2 constant "
                        + ("(rho 0, sigma 2.1: bilinear-like)" if args.method == "lerf-g" else "(a = 1: bilinear)"),
                "iterations": a["iters"], "batch": a["batch"], "lr_patch": a["patch"],
                "channel": "one random colour channel per crop; flips and transposition",
                "scales": "random per batch among 1.5, 2, 2.5, 3, 3.5, 4, 2x3, 3x2, 2x4, 4x2, 3x4, 4x3",
                "loss": "MSE to the HR crop",
                "optimiser": f"Adam (beta1 {a.get('beta1', 0.9)}, beta2 0.99), cosine {a['lr']} -> {a['lr_end']} "
                             "LUT units per step",
                "quantisation": f"float entries for the first {a['quant_from']:.0%} of the iterations, then "
                                "int8 rounding in the forward pass (straight-through) = the exported tables",
                "threads": a["threads"], "seed": a["seed"],
                "wall_seconds": {"prepare_data": round(args.prep_seconds), "train": tl["train_seconds"]},
                "validation_psnr_y_heldout": tl.get("val_log", []),
            },
        }
        for ft in logs[1:]:
            b = ft["args"]
            recipe["recipe"].setdefault("fine_tune", []).append({
                "what": "int8 tables (straight-through rounding throughout) from the previous step, larger batches",
                "iterations": b["iters"], "batch": b["batch"], "lr_patch": b["patch"],
                "optimiser": f"Adam, cosine {b['lr']} -> {b['lr_end']} LUT units per step",
                "wall_seconds": ft["train_seconds"], "validation_psnr_y_heldout": ft.get("val_log", []),
            })
    kind = "steerable Gaussian (rho, sigma_x, sigma_y)" if args.method == "lerf-g" else "amplified linear (a)"
    meta.update({
        "method": args.method,
        "version": meta.get("version", "1"),
        "description": f"lerfscale's own LeRF {args.method[-1].upper()} LUTs ({kind}), trained directly "
                       "on the engine's LUT inference maths from Debian wallpaper photographs",
        "training_data": recipe.get("training_data", meta.get("training_data", "")),
        "recipe": recipe.get("recipe", meta.get("recipe", {})),
        "scores": {"psnr_y_ssim_y": scores, "note": "PSNR-Y dB / SSIM-Y by `lerf eval`; x1.5, x2.5, x3.5 "
                   "use LR generated from HR with the MATLAB-compatible bicubic"},
        "comparison": {"authors_luts": ref, "lerfscale_lanczos": lanczos, "opencv_lanczos4": OPENCV_LANCZOS4},
        "reproduce": {
            "train": "tools/train/run_all.sh  (prepare_data.sh, train.py for lerf-g and lerf-l, finalize.py)",
            "evaluate": f"build/tools/lerf eval --method {args.method} --dataset ../shared/datasets/Set5 "
                        f"--scales {args.scales}   (and --dataset ../shared/datasets/Set14; default model dir models/)",
        },
    })
    os.makedirs(args.model, exist_ok=True)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")

    lines = [f"| {args.method} | dataset | " + " | ".join(scores[next(iter(scores))].keys()) + " |",
             "|---|---|" + "---|" * len(scores[next(iter(scores))])]
    for name in scores:
        def row(label, d):
            return f"| {label} | {name} | " + " | ".join(
                f"{d[k]['psnr_y']:.2f}" if k in d else "" for k in scores[name]) + " |"
        lines.append(row("ours", scores[name]))
        if name in ref:
            lines.append(row("authors' LUTs", ref[name]))
            lines.append(f"| ours - authors | {name} | " + " | ".join(
                f"{scores[name][k]['psnr_y'] - ref[name][k]['psnr_y']:+.2f}" for k in scores[name]) + " |")
        lines.append(row("lanczos (ours, 3 lobes)", lanczos[name]))
        if name in OPENCV_LANCZOS4:
            lines.append(f"| OpenCV lanczos4 | {name} | " + " | ".join(
                f"{OPENCV_LANCZOS4[name][k]:.2f}" if k in OPENCV_LANCZOS4[name] else "" for k in scores[name]) + " |")
    table = "\n".join(lines)
    print(table)
    if args.table:
        with open(args.table, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    sys.exit(main())
