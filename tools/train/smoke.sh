#!/usr/bin/env bash
# CI smoke run of the whole training recipe on tiny synthetic data (no downloads, ~1 min):
# data preparation with the engine's MATLAB bicubic, a few LUT-training iterations for
# lerf-g and lerf-l (float phase, then int8 straight-through phase), model.json via
# finalize.py, and a check that the produced folders load and evaluate in `lerf eval`.
#
#   tools/train/smoke.sh LERF_CLI TRAIN_PREP
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CLI="${1:?usage: smoke.sh LERF_CLI TRAIN_PREP}"
PREP="${2:?usage: smoke.sh LERF_CLI TRAIN_PREP}"
PY=/usr/bin/python3
"$PY" -c "import torch, numpy" 2>/dev/null || { echo "train-smoke: no torch for $PY, skipped"; exit 77; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Synthetic "photographs": smooth shading, edges, texture and noise (BMP, read by OpenCV).
HERE_DIR="$HERE" "$PY" - "$TMP" <<'PYEOF'
import os, sys
import numpy as np
sys.path.insert(0, os.environ["HERE_DIR"])
import imgio
tmp = sys.argv[1]
rng = np.random.default_rng(0)
def image(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(3):
        a, b, t = rng.uniform(3, 15, 3)
        v = 120 + 60 * np.sin(x / a + c) * np.cos(y / b) + 50 * ((x * np.cos(t) + y * np.sin(t)) % 60 > 30)
        chans.append(v + rng.normal(0, 4, v.shape))
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)
os.makedirs(f"{tmp}/src", exist_ok=True)
os.makedirs(f"{tmp}/eval/HR", exist_ok=True)
for i in range(3):
    imgio.write_bmp(f"{tmp}/src/synth{i}.bmp", image(240, 320))
for i in range(2):
    imgio.write_bmp(f"{tmp}/eval/HR/img{i}.bmp", image(60, 72))
PYEOF

"$PREP" "$TMP/data" 2 2,3,2.5,2x3 "$TMP"/src/*.bmp >/dev/null
for m in lerf-g lerf-l; do
  "$PY" "$HERE/train.py" --method "$m" --data "$TMP/data" --out "$TMP/models/$m" --iters 12 --quant-from 0.5 \
    --batch 4 --patch 24 --log-every 4 --ckpt-every 8 --no-val
  "$PY" "$HERE/finalize.py" --method "$m" --model "$TMP/models/$m" --cli "$CLI" --datasets "$TMP/eval" \
    --scales 2,2.5 >/dev/null
  test -f "$TMP/models/$m/model.json"
  # the produced folder loads and evaluates in the engine
  "$CLI" eval --method "$m" --model-dir "$TMP/models" --dataset "$TMP/eval" --scales 2,3 --json --threads 1 \
    > "$TMP/$m.json"
  "$PY" - "$TMP/$m.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
p = [x["psnr_y"] for x in r["results"]]
assert all(v > 15 for v in p), p
print("smoke eval", r["method"], p)
PYEOF
done
echo "train-smoke: ok"
