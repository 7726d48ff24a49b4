#!/usr/bin/env bash
# Regenerates the quality table of docs/RESULTS.md: PSNR-Y / SSIM-Y of every method on
# Set5 and Set14 at the shared x2, x3, x4 pairs and the generated x1.5, x2.5, x3.5.
# Usage: scripts/results.sh [SHARED_DIR]   (default ../shared); prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${1:-../shared}
LERF=${LERF:-build/tools/lerf}
SCALES=2,3,4,1.5,2.5,3.5

row() {  # label, then lerf eval arguments
  local label=$1; shift
  for set in Set5 Set14; do
    "$LERF" eval --dataset "$SHARED/datasets/$set" --scales $SCALES --json "$@" |
      python3 -c '
import json, sys
label, set_ = sys.argv[1], sys.argv[2]
r = {e["scale_h"]: e for e in json.load(sys.stdin)["results"]}
cells = " | ".join(f"{r[s]['"'"'psnr_y'"'"']:.2f} / {r[s]['"'"'ssim_y'"'"']:.4f}" for s in (2.0, 3.0, 4.0, 1.5, 2.5, 3.5))
print(f"| {label} | {set_} | {cells} |")' "$label" "$set"
  done
}

echo "| method | set | x2 | x3 | x4 | x1.5 | x2.5 | x3.5 |"
echo "|---|---|---|---|---|---|---|---|"
for m in nearest bilinear bicubic lanczos; do row "$m" --method $m; done
row "bicubic (a = -0.75, OpenCV)" --method bicubic --cubic-a -0.75
for m in lerf-l lerf-g; do
  if [ -d "models/$m" ]; then row "$m (ours)" --method $m --model-dir models; fi
  if [ -d "$SHARED/reference/lerf-official/$m" ]; then
    row "$m (authors' LUTs)" --method $m --model-dir "$SHARED/reference/lerf-official"
  fi
done
# Our other learned methods (models/): IM-LUT and the implicit networks (LMF with its default CMSR).
for m in im-lut liif a-liif lmf; do
  if [ -d "models/$m" ]; then row "$m (ours)" --method $m --model-dir models; fi
done
