#!/usr/bin/env bash
# CI smoke run of the IM-LUT training recipe on tiny synthetic data (no downloads, < 1 min):
# data preparation with the engine's MATLAB bicubic, a few direct LUT-training iterations
# (float phase, then int8 straight-through), and a check that the produced folder loads and
# evaluates in `lerf eval`. The lerf-g component uses the repository's models/lerf-g tables.
#
#   tools/train/smoke_imlut.sh LERF_CLI TRAIN_PREP
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLI="${1:?usage: smoke_imlut.sh LERF_CLI TRAIN_PREP}"
PREP="${2:?usage: smoke_imlut.sh LERF_CLI TRAIN_PREP}"
PY=/usr/bin/python3
"$PY" -c "import torch, numpy" 2>/dev/null || { echo "train-imlut-smoke: no torch for $PY, skipped"; exit 77; }
[ -f "$ROOT/models/lerf-g/LUTft_s1_sr0.npy" ] || { echo "train-imlut-smoke: no models/lerf-g, skipped"; exit 77; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

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
for i in range(2):
    imgio.write_bmp(f"{tmp}/src/synth{i}.bmp", image(200, 240))
for i in range(2):
    imgio.write_bmp(f"{tmp}/eval/HR/img{i}.bmp", image(60, 72))
PYEOF

"$PREP" "$TMP/data" 2 2,3,2x3 "$TMP"/src/*.bmp >/dev/null
for mixing in affine softmax; do
  "$PY" "$HERE/train_imlut.py" --data "$TMP/data" --out "$TMP/models/$mixing/im-lut" --lerf-dir "$ROOT/models/lerf-g" \
    --mixing "$mixing" --iters 6 --quant-from 0.5 --batch 4 --patch 24 --log-every 3 --ckpt-every 6 --no-val
  test -f "$TMP/models/$mixing/im-lut/model.json"
  "$CLI" eval --method im-lut --model-dir "$TMP/models/$mixing" --dataset "$TMP/eval" --scales 2,2.5 --json --threads 1 \
    > "$TMP/$mixing.json"
  "$PY" - "$TMP/$mixing.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
p = [x["psnr_y"] for x in r["results"]]
assert all(v > 15 for v in p), p
print("smoke eval", r["method"], p)
PYEOF
done
echo "train-imlut-smoke: ok"
