#!/usr/bin/env bash
# The recipe that turned models/im-lut v1.1 into v1.2: stages of joint fine-tuning, where the
# mixing tables and the lerf-g component's own LeRF-G tables (OUT/lerf-g) are trained together
# (train_imlut.py --train-lerf). Each stage starts from the previous one; the variants we tried
# at each stage, and why each was kept, are in docs/IMLUT.md (chosen on the 3 held-out
# photographs, mean PSNR-Y over x1.5 .. x4, never on a benchmark).
#
#   tools/train/imlut_joint.sh V11_DIR [WORK_DIR]
#
# V11_DIR: im-lut v1.1 (the 4000-iteration recipe of docs/IMLUT.md, or the files of commit
# a9c796f: git archive a9c796f models/im-lut | tar -x -C /tmp/v11 and pass /tmp/v11/models/im-lut).
# Data: tools/train/prepare_data.sh. About 45 min on one core; stages are sequential.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
V11="${1:?usage: imlut_joint.sh V11_DIR [WORK_DIR]}"
W="${2:-tools/train/work/imlut-joint}"
PY=/usr/bin/python3
mkdir -p "$W"
common=(--mixing affine --quant-from 0 --threads 1 --train-lerf --lerf-lr-scale 1.0 --log-every 100
        --val-scales 1.5,2,2.5,3,4)
stage() {  # stage NAME FROM [train_imlut.py options]
  local name=$1 from=$2
  shift 2
  "$PY" tools/train/train_imlut.py --out "$W/$name" --lerf-dir "$from/lerf-g" --init-from "$from" "${common[@]}" "$@" \
    > "$W/$name.log" 2>&1
  cp "$V11/model.json" "$W/$name/model.json"  # components, bins, mixing: unchanged
  tail -n 2 "$W/$name.log"
}
stage j1 "$V11" --iters 2000 --ckpt-every 500 --lr 0.3 --lr-end 0.02 --seed 0
stage j2 "$W/j1" --iters 2000 --ckpt-every 500 --lr 0.2 --lr-end 0.02 --seed 1 --scale-repeat 1.5=3,2=2,4=2
stage j3 "$W/j2" --iters 3000 --ckpt-every 1000 --lr 0.15 --lr-end 0.01 --seed 2 --scale-repeat 1.5=3,2=3,2.5=2,4=3
stage j4 "$W/j3" --iters 1500 --ckpt-every 500 --lr 0.1 --lr-end 0.005 --seed 3 --patch 48 \
  --scale-repeat 1.5=3,2=3,2.5=2,4=3
echo "done: $W/j4 (copy imlut_*.npy and lerf-g/ to models/im-lut, then tools/train/finalize_imlut.py)"
