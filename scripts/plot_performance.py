#!/usr/bin/python3
"""PSNR (Set14 x2) against CPU ms/frame for every method: docs/performance.png.

Usage: scripts/plot_performance.py BENCH_JSON EVAL_DIR OUT_PNG
  BENCH_JSON  lerf-bench --json output (the 540p->1080p case, backend cpu is plotted)
  EVAL_DIR    holds eval_<method>.json from `lerf eval --dataset Set14 --scales 2 --json`
              (and optionally ours_<method>.json: learned methods with --model-dir models)
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    bench_path, eval_dir, out = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    bench = json.loads(pathlib.Path(bench_path).read_text())
    ms = {r["method"]: r["ms"] for r in bench["results"]
          if r.get("case") == "540p->1080p" and r.get("backend") == "cpu" and "ms" in r}
    points = []
    # eval_<method>.json: the main evaluation; ours_<method>.json (optional): the same learned
    # method with this project's own models/ (plotted at the same speed: same LUT sizes).
    for prefix in ("eval", "ours"):
        for method, t in ms.items():
            f = eval_dir / f"{prefix}_{method}.json"
            if not f.exists():
                continue
            e = json.loads(f.read_text())
            learned = method not in ("nearest", "bilinear", "bicubic", "lanczos")
            model_dir = e.get("model_dir", "")
            label = method
            if learned and "lerf-official" in model_dir:
                label += " (authors' LUTs)"
            points.append((t, e["results"][0]["psnr_y"], label, learned, prefix == "ours"))
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for t, psnr, label, learned, ours in points:
        color = "tab:green" if ours else ("tab:red" if learned else "tab:blue")
        ax.scatter(t, psnr, s=60, marker="*" if learned else "o", color=color)
        # LIIF, A-LIIF and LMF sit close together: LMF's label goes below its point, LIIF's
        # to its left.
        dy = -12 if (ours or label == "lmf") else 1
        left = label == "liif"
        ax.annotate(label, (t, psnr), textcoords="offset points", xytext=(-7 if left else 7, dy), fontsize=8,
                    ha="right" if left else "left", color=color if learned else "black")
    ax.set_xscale("log")
    ax.margins(x=0.3)
    ax.set_xlabel(f"ms/frame (wall clock), CPU backend, 540p -> 1080p I420, {bench['threads']} threads ({bench['simd_target']}), log scale")
    ax.set_ylabel("PSNR-Y (dB), Set14 x2")
    ax.set_title("lerfscale: quality against speed (CPU backend)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out} ({len(points)} methods)")


if __name__ == "__main__":
    main()
