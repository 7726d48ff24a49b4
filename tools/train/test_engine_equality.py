"""The torch LUT inference (tools/train/lerf_torch.py, what training optimises) equals the C++
engine's output (build/tools/lerf resize) on a real photograph, for LeRF-G and LeRF-L, with
random LUTs (every hyperparameter range exercised) and with the shipped models.

  /usr/bin/python3 tools/train/test_engine_equality.py LERF_CLI TRAIN_PREP
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
    print("train-engine-equality: no numpy/torch, skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgio  # noqa: E402
import lerf_torch as lt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-train/tools/lerf")
PREP = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build-train/tests/train_prep")
PHOTO = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg"  # not a benchmark image


def test_image(tmp):
    if os.path.exists(PHOTO):
        subprocess.run([PREP, tmp, "1", "2", PHOTO], check=True, stdout=subprocess.DEVNULL)
        img = np.load(os.path.join(tmp, "fruits", "hr.npy"))
        return np.ascontiguousarray(img[100:172, 150:246])  # 96 x 72, textured
    rng = np.random.default_rng(1)  # fallback: smooth random image with edges
    y, x = np.mgrid[0:72, 0:96]
    base = 128 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0) + 40 * (x > 50)
    img = np.stack([base + rng.normal(0, 8, base.shape) for _ in range(3)], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


class EngineEquality(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.tmp = tempfile.mkdtemp(prefix="lerf-eq-")
        cls.img = test_image(cls.tmp)
        cls.inp = os.path.join(cls.tmp, "in.bmp")
        imgio.write_bmp(cls.inp, cls.img)

    def compare(self, model, method, folder, scale):
        out = os.path.join(self.tmp, f"out-{method}.bmp")
        subprocess.run([CLI, "resize", self.inp, out, "--scale", scale, "--method", method,
                        "--model-dir", folder, "--backend", "cpu"], check=True)
        cpp = imgio.read_bmp(out).astype(int)
        sh, sw = [float(v) for v in scale.split("x")] if "x" in scale else (float(scale),) * 2
        ours = lt.upscale_image(model, self.img, sh, sw).astype(int)
        self.assertEqual(cpp.shape, ours.shape)
        diff = np.abs(cpp - ours)
        # float exp / division order may flip a rounding now and then; nothing more
        self.assertLessEqual(diff.max(), 1, f"{method} x{scale}: max diff {diff.max()}")
        self.assertLess((diff > 0).mean(), 0.005, f"{method} x{scale}: {(diff > 0).mean():.4%} differ")
        return (diff > 0).mean()

    def random_model(self, outputs, seed):
        torch.manual_seed(seed)
        m = lt.LerfLuts(outputs)
        with torch.no_grad():
            for t in m.s1:  # near-identity stage 1 plus noise, so features stay varied
                pass
            m.init_identity([0] * outputs)
            for t in m.s1:
                t.add_(torch.randint(-20, 21, t.shape).float())
            for t in m.s2:
                t.copy_(torch.randint(-128, 128, t.shape).float())
        folder = os.path.join(self.tmp, f"rand{outputs}")
        m.save(folder)
        m.load(folder)
        return m, folder

    def test_random_luts(self):
        for outputs, method in ((3, "lerf-g"), (1, "lerf-l")):
            m, folder = self.random_model(outputs, 7 + outputs)
            for scale in ("2", "3", "2.5", "2x3.5"):
                self.compare(m, method, folder, scale)

    def test_shipped_models(self):
        for outputs, method in ((3, "lerf-g"), (1, "lerf-l")):
            folder = os.path.join(ROOT, "models", method)
            if not os.path.exists(os.path.join(folder, "LUTft_s1_sr0.npy")):
                continue
            m = lt.LerfLuts(outputs)
            m.load(folder)
            for scale in ("3", "1.5"):
                self.compare(m, method, folder, scale)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
