"""Measures the implicit models (liif, a-liif, lmf) with the engine (`lerf eval`, CPU) and
writes the scores into each model.json (`scores.lerf_eval`); prints the markdown tables of
docs/TRAINING.md. Evaluation only: Set5/Set14 never feed training or model selection.

  /usr/bin/python3 tools/train/finalize_implicit.py --models models --cli build/tools/lerf \
      --datasets ../shared/datasets/Set5,../shared/datasets/Set14
"""
import argparse
import json
import os
import subprocess

METHODS = ("liif", "a-liif", "lmf")
NOTE = ("PSNR-Y by the engine (lerf eval, CPU, shave = scale; x2-x4 shared MATLAB LR, x6-x12 LR from HR by the "
        "engine's MATLAB bicubic); evaluation only, never used for training or selection")


def run_eval(cli, method, model_dir, dataset, scales, threads, extra=()):
    cmd = [cli, "eval", "--method", method, "--dataset", dataset, "--scales", scales, "--json",
           "--threads", str(threads), *extra]
    if model_dir:
        cmd += ["--model-dir", model_dir]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {"x%g" % r["scale_h"]: round(r["psnr_y"], 3) for r in json.loads(out)["results"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models", help="folder holding liif/, a-liif/, lmf/")
    ap.add_argument("--cli", default="build/tools/lerf")
    ap.add_argument("--datasets", required=True, help="comma-separated dataset folders")
    ap.add_argument("--scales", default="2,3,4,6,8,12")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    sets = [(os.path.basename(os.path.normpath(d)), d) for d in args.datasets.split(",")]
    table = {}
    for m in METHODS:
        folder = os.path.join(args.models, m)
        # LMF's plain numbers are without CMSR (the decoder itself); with_cmsr: the default.
        plain = ("--no-cmsr",) if m == "lmf" else ()
        ev = {"note": NOTE, "reproduce": f"{args.cli} eval --method {m} --dataset {sets[0][1]} --scales {args.scales}"
                                         + (" --no-cmsr" if plain else "")}
        for name, d in sets:
            ev[name] = run_eval(args.cli, m, folder, d, args.scales, args.threads, plain)
            table[(m + (" (no CMSR)" if plain else ""), name)] = ev[name]
        if m == "lmf":
            ev["with_cmsr"] = {}
            for name, d in sets:
                ev["with_cmsr"][name] = run_eval(args.cli, m, folder, d, args.scales, args.threads)
                table[("lmf (CMSR, default)", name)] = ev["with_cmsr"][name]
        path = os.path.join(folder, "model.json")
        with open(path) as f:
            meta = json.load(f)
        meta.setdefault("scores", {})["lerf_eval"] = ev
        with open(path, "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
    for name, d in sets:
        table[("bicubic", name)] = run_eval(args.cli, "bicubic", "", d, args.scales, args.threads)
    keys = ["x%g" % float(s) for s in args.scales.split(",")]
    for name, _ in sets:
        print(f"\n| {name} | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for (label, n), res in sorted(table.items(), key=lambda kv: kv[0][0] != "bicubic"):
            if n == name:
                print(f"| {label} | " + " | ".join(f"{res[k]:.2f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
