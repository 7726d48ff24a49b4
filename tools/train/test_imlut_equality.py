"""The torch IM-LUT inference (tools/train/imlut_torch.py, what train_imlut.py optimises)
equals the C++ engine's output (lerf resize --method im-lut) on a real photograph: random
tables with softmax and affine mixing (all five components, every scale regime incl. clamped
and asymmetric) and the shipped models/im-lut.

  /usr/bin/python3 tools/train/test_imlut_equality.py LERF_CLI TRAIN_PREP
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import torch
except ImportError:
    print("train-imlut-equality: no numpy/torch, skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import imlut_torch as it  # noqa: E402
from test_engine_equality import test_image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-imlut/tools/lerf")
PREP = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build-imlut/tests/train_prep")
import test_engine_equality as tee  # noqa: E402
tee.PREP = PREP
COMPONENTS = ["nearest", "bilinear", "bicubic", "lanczos", "lerf-g"]
BINS = [1.5, 2.0, 2.5, 3.0, 3.5, 4.0]


class ImLutEngineEquality(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.tmp = tempfile.mkdtemp(prefix="imlut-eq-")
        cls.img = test_image(cls.tmp)
        cls.inp = os.path.join(cls.tmp, "in.bmp")
        imgio.write_bmp(cls.inp, cls.img)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def compare(self, model, folder, scale):
        out = os.path.join(self.tmp, "out.bmp")
        subprocess.run([CLI, "resize", self.inp, out, "--scale", scale, "--method", "im-lut",
                        "--model-dir", folder, "--backend", "cpu"], check=True, stdout=subprocess.DEVNULL)
        cpp = imgio.read_bmp(out).astype(int)
        sh, sw = [float(v) for v in scale.split("x")] if "x" in scale else (float(scale),) * 2
        ours = it.upscale_image(model, self.img, sh, sw).astype(int)
        self.assertEqual(cpp.shape, ours.shape)
        diff = np.abs(cpp - ours)
        # float summation order may flip a rounding now and then; nothing more
        self.assertLessEqual(diff.max(), 1, f"x{scale}: max diff {diff.max()}")
        self.assertLess((diff > 0).mean(), 0.001, f"x{scale}: {(diff > 0).mean():.4%} differ")

    def random_model(self, mixing, seed):
        folder = os.path.join(self.tmp, f"rand-{mixing}")
        shutil.copytree(os.path.join(ROOT, "models", "lerf-g"), os.path.join(folder, "lerf-g"),
                        ignore=shutil.ignore_patterns("*.json"))
        m = it.ImLut(COMPONENTS, BINS, os.path.join(folder, "lerf-g"), mixing)
        torch.manual_seed(seed)
        with torch.no_grad():
            for t in m.tables:
                t.copy_(torch.randint(-128, 128, t.shape).float() * (1.0 if mixing == "softmax" else 0.1))
        m.save(folder)
        m.load(folder)
        with open(os.path.join(folder, "model.json"), "w") as f:
            json.dump({"method": "im-lut", "components": COMPONENTS, "scale_bins": BINS, "mixing": mixing}, f)
        return m, folder

    def test_random_tables(self):
        for mixing, seed in (("softmax", 1), ("affine", 2)):
            m, folder = self.random_model(mixing, seed)
            for scale in ("2", "2.25", "3.7x2", "1.2", "5"):
                self.compare(m, folder, scale)

    def test_shipped_model(self):
        folder = os.path.join(ROOT, "models", "im-lut")
        if not os.path.exists(os.path.join(folder, "imlut_s.npy")):
            self.skipTest("no models/im-lut")
        j = json.load(open(os.path.join(folder, "model.json")))
        m = it.ImLut(j["components"], j["scale_bins"], os.path.join(folder, "lerf-g"), j.get("mixing", "softmax"))
        m.load(folder)
        for scale in ("2", "3.5x2.5"):
            self.compare(m, folder, scale)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
