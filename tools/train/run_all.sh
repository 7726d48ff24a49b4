#!/usr/bin/env bash
# The whole recipe that produced models/lerf-g and models/lerf-l, on a 2-core CPU machine:
#   tools/train/run_all.sh [BUILD_DIR]      (default build-train; ~1.5 h with 2 free cores)
# Steps (wall times of our run in docs/TRAINING.md): build the CLI and train_prep, prepare the
# data, train lerf-g and lerf-l (one thread each, in parallel), evaluate with the engine and
# write model.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BUILD="${1:-build-train}"
W=tools/train/work
PY=/usr/bin/python3
[ -d "$BUILD" ] || meson setup "$BUILD"
ninja -C "$BUILD" tools/lerf tests/train_prep
t0=$(date +%s)
tools/train/prepare_data.sh "$BUILD"
prep=$(( $(date +%s) - t0 ))
"$PY" tools/train/train.py --method lerf-g --out $W/run-g --iters 4500 --lr 1.0 --lr-end 0.02 --quant-from 0.7 \
  --ckpt-every 500 --log-every 200 > $W/train-g.log 2>&1 &
g=$!
"$PY" tools/train/train.py --method lerf-l --out $W/run-l --iters 4000 --lr 1.0 --lr-end 0.02 --quant-from 0.7 \
  --ckpt-every 500 --log-every 200 > $W/train-l.log 2>&1 &
l=$!
wait $g $l
for m in g l; do
  mkdir -p models/lerf-$m
  cp $W/run-$m/LUTft_*.npy models/lerf-$m/
  "$PY" tools/train/finalize.py --method lerf-$m --model models/lerf-$m --cli "$BUILD/tools/lerf" \
    --datasets ../shared/datasets/Set5,../shared/datasets/Set14 --scales 2,3,4,1.5,2.5,3.5 \
    --reference ../shared/reference/lerf-official --train-log $W/run-$m/train_log.json \
    --prep-seconds $prep --table $W/table-$m.md
done
