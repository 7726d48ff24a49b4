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

"$PY" "$HERE/smoke_lib.py" images "$TMP" 2 200x240

"$PREP" "$TMP/data" 2 2,3,2x3 "$TMP"/src/*.bmp >/dev/null
for mixing in affine softmax; do
  "$PY" "$HERE/train_imlut.py" --data "$TMP/data" --out "$TMP/models/$mixing/im-lut" --lerf-dir "$ROOT/models/lerf-g" \
    --mixing "$mixing" --iters 6 --quant-from 0.5 --batch 4 --patch 24 --log-every 3 --ckpt-every 6 --no-val
  test -f "$TMP/models/$mixing/im-lut/model.json"
  "$CLI" eval --method im-lut --model-dir "$TMP/models/$mixing" --dataset "$TMP/eval" --scales 2,2.5 --json --threads 1 \
    > "$TMP/$mixing.json"
  "$PY" "$HERE/smoke_lib.py" check-eval "$TMP/$mixing.json"
done
# Joint training of the lerf-g component (--train-lerf): its tables in OUT/lerf-g must have
# moved from models/lerf-g, and the folder must still load and evaluate.
"$PY" "$HERE/train_imlut.py" --data "$TMP/data" --out "$TMP/models/joint/im-lut" --lerf-dir "$ROOT/models/lerf-g" \
  --mixing affine --iters 6 --quant-from 0 --batch 4 --patch 24 --log-every 3 --ckpt-every 6 --no-val \
  --train-lerf --lerf-lr-scale 1.0
"$PY" - "$ROOT/models/lerf-g" "$TMP/models/joint/im-lut/lerf-g" <<'PYEOF'
import sys, glob, os, numpy as np
moved = sum(int((np.load(f) != np.load(os.path.join(sys.argv[2], os.path.basename(f)))).sum())
            for f in glob.glob(os.path.join(sys.argv[1], "LUTft_*.npy")))
print(f"joint training changed {moved} lerf-g entries")
sys.exit(0 if moved > 0 else 1)
PYEOF
"$CLI" eval --method im-lut --model-dir "$TMP/models/joint" --dataset "$TMP/eval" --scales 2,2.5 --json --threads 1 \
  > "$TMP/joint.json"
"$PY" "$HERE/smoke_lib.py" check-eval "$TMP/joint.json"
echo "train-imlut-smoke: ok"
