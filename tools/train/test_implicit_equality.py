"""Equality of the torch reference of our implicit methods (tools/train/implicit_torch.py,
what training optimises; docs/IMPLICIT.md) and the C++ engine.

Two uses:

1. Reference outputs for a C++ test (no engine needed):

     /usr/bin/python3 tools/train/test_implicit_equality.py render --model MODEL_DIR \
         --image IN.(bmp|npy) --scale 2|2x3 --out OUT.(npy|bmp) [--cmsr]

   writes the u8 output (H, W[, C]) of the torch forward pass (per channel; --cmsr: LMF with
   the model.json CMSR table of that target scale). IN.npy: (H, W) or (H, W, C) uint8.

2. The engine test (unittest), like test_engine_equality.py:

     /usr/bin/python3 tools/train/test_implicit_equality.py LERF_CLI [TRAIN_PREP]

   runs `LERF_CLI resize in.bmp out.bmp --scale S --method M --model-dir DIR --backend cpu`
   for liif, a-liif, lmf (random models of the shipped and of a tiny architecture, and the
   shipped models when present) at several scales, asymmetric ones included, and compares:
   max |diff| <= 1 grey level, < 0.5 % of the values differ. Exit 77 (skip) without torch.
"""
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import torch
except ImportError:  # scripts/setup.sh installs python3-torch; without it: skipped
    print("train-implicit-equality: no numpy/torch, skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import implicit_torch as it  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg"  # not a benchmark image


def parse_scale(text):
    if "x" in text:
        sh, sw = [float(v) for v in text.split("x")]
        return sh, sw
    return float(text), float(text)


def render(model, meta, img, sh, sw, cmsr=False):
    if not cmsr:
        return it.upscale_image(model, img, sh, sw)
    table = it.cmsr_table(meta.get("cmsr", {}).get("tables", {}), sh, sw)
    chans = img[..., None] if img.ndim == 2 else img
    outs = [it.upscale_plane_cmsr(model, chans[..., c], sh, sw, table)[0] for c in range(chans.shape[2])]
    return outs[0] if img.ndim == 2 else np.stack(outs, -1)


def render_main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="test_implicit_equality.py render")
    ap.add_argument("--model", required=True, help="models/<method> folder")
    ap.add_argument("--image", required=True)
    ap.add_argument("--scale", required=True, help="S or SHxSW")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cmsr", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, meta = it.load_model(a.model)
    img = np.load(a.image) if a.image.endswith(".npy") else imgio.read_bmp(a.image)
    sh, sw = parse_scale(a.scale)
    out = render(model, meta, img, sh, sw, a.cmsr)
    if a.out.endswith(".npy"):
        np.save(a.out, out)
    else:
        imgio.write_bmp(a.out, out)
    print(f"{a.model} x{a.scale}{' cmsr' if a.cmsr else ''}: {img.shape} -> {out.shape} -> {a.out}")


CLI = PREP = None


def test_image(tmp):
    if PREP and os.path.exists(PHOTO) and os.path.exists(PREP):
        subprocess.run([PREP, tmp, "1", "2", PHOTO], check=True, stdout=subprocess.DEVNULL)
        img = np.load(os.path.join(tmp, "fruits", "hr.npy"))
        return np.ascontiguousarray(img[100:148, 150:214])  # 64 x 48, textured
    rng = np.random.default_rng(1)  # fallback: smooth random image with edges
    y, x = np.mgrid[0:48, 0:64]
    base = 128 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0) + 40 * (x > 30)
    img = np.stack([base + rng.normal(0, 8, base.shape) for _ in range(3)], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


class ImplicitEquality(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.tmp = tempfile.mkdtemp(prefix="lerf-implicit-eq-")
        cls.img = test_image(cls.tmp)
        cls.inp = os.path.join(cls.tmp, "in.bmp")
        imgio.write_bmp(cls.inp, cls.img)

    def compare(self, folder, scale):
        model, meta = it.load_model(folder)
        method = meta["method"]
        out = os.path.join(self.tmp, f"out-{method}.bmp")
        subprocess.run([CLI, "resize", self.inp, out, "--scale", scale, "--method", method,
                        "--model-dir", folder, "--backend", "cpu"], check=True, stdout=subprocess.DEVNULL)
        cpp = imgio.read_bmp(out).astype(int)
        sh, sw = parse_scale(scale)
        # the engine applies CMSR by default when model.json has a table for the scale
        ours = render(model, meta, self.img, sh, sw, cmsr=(method == "lmf")).astype(int)
        self.assertEqual(cpp.shape, ours.shape)
        diff = np.abs(cpp - ours)
        self.assertLessEqual(diff.max(), 1, f"{folder} x{scale}: max diff {diff.max()}")
        self.assertLess((diff > 0).mean(), 0.005, f"{folder} x{scale}: {(diff > 0).mean():.4%} differ")

    def check_set(self, root):
        for m in it.METHODS:
            for scale in ("2", "3", "1.5", "2x3", "4"):
                with self.subTest(model=m, scale=scale):
                    self.compare(os.path.join(root, m), scale)

    def test_random_shipped_architecture(self):
        root = os.path.join(self.tmp, "random")
        it.export_random(root, tiny=False, seed=3)
        self.check_set(root)

    def test_random_tiny_architecture(self):
        root = os.path.join(self.tmp, "random-tiny")
        it.export_random(root, tiny=True, seed=4)
        self.check_set(root)

    def test_cmsr_levels_and_odd_scales(self):
        # (Merged from tests/implicit_torch_equality.py.) LMF at x5 on the tiny architecture
        # (a scale between the table's targets: two decode levels) with the engine reporting
        # CMSR on; fractional and asymmetric scales without CMSR.
        root = os.path.join(self.tmp, "random-odd")
        it.export_random(root, tiny=True, seed=3)
        folder = os.path.join(root, "lmf")
        model, meta = it.load_model(folder)
        out = os.path.join(self.tmp, "out-cmsr.bmp")
        r = subprocess.run([CLI, "resize", self.inp, out, "--scale", "5", "--method", "lmf", "--model-dir", folder,
                            "--backend", "cpu", "--stats"], check=True, capture_output=True, text=True)
        self.assertIn("cmsr on", r.stdout)
        cpp = imgio.read_bmp(out).astype(int)
        ours = render(model, meta, self.img, 5.0, 5.0, cmsr=True).astype(int)
        diff = np.abs(cpp - ours)
        # a pixel whose modulation is within float noise of a threshold may pick another level
        self.assertLess(float((diff > 1).mean()), 0.002, f"lmf cmsr x5: {(diff > 1).mean():.3%} > 1")
        self.assertLess(float((diff > 0).mean()), 0.03, "lmf cmsr x5")
        for m in it.METHODS:
            for scale in ("1.7", "2.5x3.5"):
                with self.subTest(model=m, scale=scale):
                    model, meta = it.load_model(os.path.join(root, m))
                    out = os.path.join(self.tmp, f"out-odd-{m}.bmp")
                    subprocess.run([CLI, "resize", self.inp, out, "--scale", scale, "--method", m, "--model-dir",
                                    os.path.join(root, m), "--backend", "cpu", "--no-cmsr"], check=True,
                                   stdout=subprocess.DEVNULL)
                    diff = np.abs(imgio.read_bmp(out).astype(int) - render(model, meta, self.img, *parse_scale(scale)))
                    self.assertLessEqual(int(diff.max()), 1, f"{m} x{scale}")
                    self.assertLess(float((diff > 0).mean()), 0.005, f"{m} x{scale}")

    def test_shipped_models(self):
        root = os.path.join(ROOT, "models")
        if not all(os.path.exists(os.path.join(root, m, "model.safetensors")) for m in it.METHODS):
            self.skipTest("no shipped implicit models")
        self.check_set(root)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "render":
        render_main(sys.argv[2:])
        sys.exit(0)
    CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/tools/lerf")
    PREP = sys.argv[2] if len(sys.argv) > 2 else None
    if not os.path.exists(CLI):
        print(f"train-implicit-equality: no {CLI}, skipped")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]])
