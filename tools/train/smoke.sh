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

"$PY" "$HERE/smoke_lib.py" images "$TMP" 3 240x320

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
  "$PY" "$HERE/smoke_lib.py" check-eval "$TMP/$m.json"
done
echo "train-smoke: ok"
