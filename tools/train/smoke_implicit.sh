#!/usr/bin/env bash
# CI smoke run of the implicit-method training (LIIF, A-LIIF, LMF on one encoder; < 1 min,
# no downloads, no engine needed): two synthetic photographs downscaled with torch's
# antialiased bicubic, a few joint training iterations of a tiny architecture, export to a
# temporary folder, re-load of the three safetensors models, finite outputs, training loss
# below the bicubic start on the training images, LMF fine-tuned alone on the frozen encoder
# with a widened latent MLP, CMSR calibration runs on the LMF model.
#
#   tools/train/smoke_implicit.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=/usr/bin/python3
"$PY" -c "import torch, numpy" 2>/dev/null || { echo "train-implicit-smoke: no torch for $PY, skipped"; exit 77; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

HERE_DIR="$HERE" "$PY" - "$TMP" <<'PYEOF'
import os, sys
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, os.environ["HERE_DIR"])
tmp = sys.argv[1]
from smoke_lib import image
rng = np.random.default_rng(0)
# two training images plus the three held-out names of train.py (validation and CMSR)
from train import VAL_IMAGES
for name in ("synth0", "synth1") + tuple(VAL_IMAGES):
    hr = image(rng, 96, 120, noise=2.0)
    d = os.path.join(tmp, "data", name)
    os.makedirs(d)
    np.save(os.path.join(d, "hr.npy"), hr)
    t = torch.from_numpy(hr.astype(np.float32)).permute(2, 0, 1)[None]
    for sh, sw in ((2, 2), (3, 3), (2, 3)):
        lr = F.interpolate(t, size=(96 // sh, 120 // sw), mode="bicubic", align_corners=False, antialias=True)
        lr = np.clip(np.round(lr[0].permute(1, 2, 0).numpy()), 0, 255).astype(np.uint8)
        np.save(os.path.join(d, f"lr_{sh}x{sw}.npy"), lr)
PYEOF

ARCH='{"channels": 8, "blocks": 1, "mlp_hidden": 16, "basis": 3, "basis_hidden": 16, "latent_hidden": 32, "render_layers": 2, "render_hidden": 16}'
"$PY" "$HERE/train_implicit.py" --data "$TMP/data" --out "$TMP/models" --work "$TMP/work" --arch "$ARCH" \
  --iters 40 --batch 4 --patch 24 --queries 128 --lr 3e-3 --lr-end 1e-3 --log-every 10 --threads 1 --minutes 5

HERE_DIR="$HERE" "$PY" - "$TMP" <<'PYEOF'
import json, os, sys
import numpy as np
import torch
sys.path.insert(0, os.environ["HERE_DIR"])
import implicit_torch as it
import imgio
tmp = sys.argv[1]
torch.set_num_threads(1)
log = json.load(open(os.path.join(tmp, "work", "train_log.json")))
first, last = log["first_losses"], log["last_losses"]
print("smoke losses first", first, "last", last)
assert sum(last.values()) < sum(first.values()), "training loss did not decrease"
hr = np.load(os.path.join(tmp, "data", "synth0", "hr.npy"))
lr = np.load(os.path.join(tmp, "data", "synth0", "lr_2x2.npy"))
for m in it.METHODS:
    model, meta = it.load_model(os.path.join(tmp, "models", m))
    assert meta["method"] == m and model.arch["channels"] == 8, meta
    y = it.render_plane(model, lr[..., 1], 2, 2)
    assert torch.isfinite(y).all(), m
    out = it.upscale_image(model, lr, 2, 2)
    assert out.shape == hr.shape, (out.shape, hr.shape)
    print("smoke", m, "psnr-y x2 on a training image", round(imgio.psnr_y(out, hr, 2), 2))
PYEOF

# LMF fine-tuned alone on the frozen encoder, its latent MLP widened (v1.2's recipe, small):
# the widened model starts as the same function, the encoder is untouched, the decoder moves.
"$PY" "$HERE/train_implicit.py" --data "$TMP/data" --out "$TMP/ft" --work "$TMP/ftwork" --finetune lmf \
  --init "$TMP/work/train_state.pt" --arch '{"latent_hidden": 48}' --iters 10 --batch 4 --patch 24 --queries 128 \
  --lr 3e-3 --lr-end 1e-3 --log-every 5 --threads 1 --minutes 5 --no-val
HERE_DIR="$HERE" "$PY" - "$TMP" <<'PYEOF'
import os, sys
import torch
sys.path.insert(0, os.environ["HERE_DIR"])
import implicit_torch as it
import train_implicit as ti
tmp = sys.argv[1]
joint_lmf, _ = it.load_model(os.path.join(tmp, "models", "lmf"))
ft, meta = it.load_model(os.path.join(tmp, "ft", "lmf"))
assert sorted(os.listdir(os.path.join(tmp, "ft"))) == ["lmf"], os.listdir(os.path.join(tmp, "ft"))
assert ft.arch["latent_hidden"] == 48 and "fine-tuned alone" in meta["training"], meta
a, b = joint_lmf.state_dict(), ft.state_dict()
assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("enc.")), "the frozen encoder changed"
assert not torch.equal(a["dec.render.0.weight"], b["dec.render.0.weight"]), "the LMF decoder did not train"
st = torch.load(os.path.join(tmp, "work", "train_state.pt"))
wide = ti.Joint(dict(st["arch"], latent_hidden=48))
ti.load_widened(wide, st["model"])
base = ti.Joint(st["arch"])
base.load_state_dict(st["model"])
x = it.normalise(torch.randint(0, 256, (1, 12, 15)).float())[:, None]
d = (base.dec("lmf").latent_field(base.enc(x)) - wide.dec("lmf").latent_field(wide.enc(x))).abs().max().item()
assert d < 1e-5, d
print("smoke fine-tune: encoder frozen, decoder trained, widening preserves the function (max diff %.1e)" % d)
PYEOF

"$PY" "$HERE/cmsr_calibrate.py" --model "$TMP/models/lmf" --data "$TMP/data" --targets 3,8 --lr-side 12 --steps 5 \
  --threads 1 --report-scale 8 | tail -2
"$PY" -c "import json,sys; t=json.load(open(sys.argv[1]))['cmsr']['tables']; assert set(t)=={'3','8'}, t" \
  "$TMP/models/lmf/model.json"
echo "train-implicit-smoke: ok"
