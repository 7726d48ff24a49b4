"""IM-LUT inference in torch, differentiable in the mixing-logit LUT entries: exactly the maths
of the C++ engine (engine/src/cpu/imlut.cpp, engine/include/lerf/shared/imlut.inc,
docs/IMLUT.md), so that what the training optimises is what the engine computes.

- Components: the K interpolations, each rounded to bytes as the engine's renderers do:
  nearest / bilinear / bicubic (a = -0.5) / lanczos3 with the engine's separable taps
  (classical.cpp: normalised weights, clamped taps merged, edge clamping), and lerf-g with
  the frozen LeRF-G tables of the model's lerf-g/ folder (lerf_torch.py).
- Logit sums: per pixel, 3 patterns x 4 rotations, 4-simplex interpolation of the int8 tables
  (17^4, bins * K), summed in 16ths of a LUT unit (integers); per scale bin pair (b0, b1, f):
  L = ((1 - f) A[b0] + f A[b1]) / 3072, bilinearly interpolated to the output coordinate.
- Mixing: softmax over K (or "affine": w = z - mean(z) + 1/K), out = sum w_k C_k.
"""
import math

import numpy as np
import torch

import lerf_torch as lt

CLASSICAL_RADIUS = {"nearest": 0.5, "bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}
DIVISOR = 3072.0


def kernel(name, x, a=-0.5):
    """kernels.inc in float32 (numpy)."""
    x = np.abs(x.astype(np.float32))
    if name == "bilinear":
        return np.where(x < 1, 1 - x, 0).astype(np.float32)
    if name == "bicubic":
        a = np.float32(a)
        k1 = ((a + 2) * x - (a + 3)) * x * x + 1
        k2 = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1, k1, np.where(x < 2, k2, 0)).astype(np.float32)
    if name == "lanczos":
        px = np.float32(3.14159265358979) * x
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.float32(3) * np.sin(px) * np.sin(px / np.float32(3)) / (px * px)
        return np.where(x < 1e-5, 1, np.where(x >= 3, 0, v)).astype(np.float32)
    raise ValueError(name)


def axis_coords(in_len, out_len, scale):
    o = np.arange(out_len, dtype=np.float64)
    a = 1.0 / scale
    b = (in_len - 1) / 2.0 - (out_len - 1) / (2.0 * scale)
    return a * o + b


def axis_matrix(name, in_len, out_len, scale):
    """(out_len, in_len) float32 weights of the engine's classical_axis_taps (upscaling)."""
    x = axis_coords(in_len, out_len, scale)
    M = np.zeros((out_len, in_len), np.float32)
    if name == "nearest":
        M[np.arange(out_len), np.clip(np.floor(x + 0.5).astype(np.int64), 0, in_len - 1)] = 1
        return M
    r = CLASSICAL_RADIUS[name]
    count = int(math.ceil(2 * r)) + 1
    for o in range(out_len):
        lo = int(math.ceil(x[o] - r))
        d = np.array([(x[o] - (lo + k)) for k in range(count)], np.float64).astype(np.float32)
        w = kernel(name, d).astype(np.float64)
        s = w.sum()
        val = (w / s).astype(np.float32)
        idx = np.clip(np.arange(lo, lo + count), 0, in_len - 1)
        merged = {}
        order = []
        for k in range(count):
            if idx[k] in merged:
                merged[idx[k]] = np.float32(merged[idx[k]] + val[k])
            else:
                merged[idx[k]] = val[k]
                order.append(idx[k])
        fsum = np.float32(0)
        vals = [merged[i] for i in order] + [np.float32(0)] * (count - len(order))
        for v in vals:
            fsum = np.float32(fsum + v)
        main = int(np.argmax([merged[i] for i in order]))
        merged[order[main]] = np.float32(merged[order[main]] + (np.float32(1) - fsum))
        for i in order:
            M[o, i] = merged[i]
    return M


def to_byte(v):
    return torch.floor(v + 0.5).clamp(0, 255)


def classical(name, img, sh, sw, out_h, out_w):
    """img (B, H, W) float -> (B, out_h, out_w) bytes (as float)."""
    B, H, W = img.shape
    My = torch.from_numpy(axis_matrix(name, H, out_h, sh))
    Mx = torch.from_numpy(axis_matrix(name, W, out_w, sw))
    return to_byte(My @ (img @ Mx.T))


def scale_position(sh, sw, first, step, count):
    if count <= 1:
        return 0.0, 0, 0
    s = np.float32(math.sqrt(abs(1.0 / ((1.0 / sh) * (1.0 / sw)))))
    t = float(min(max((s - np.float32(first)) / np.float32(step), np.float32(0)), np.float32(count - 1)))
    b0 = min(int(math.floor(t)), max(count - 2, 0))
    return float(np.float32(t) - np.float32(b0)), b0, min(b0 + 1, count - 1)


def bilinear_axis(in_len, out_len, scale):
    x = axis_coords(in_len, out_len, scale).astype(np.float32)
    c = np.clip(x, 0, in_len - 1).astype(np.float32)
    left = np.maximum(np.minimum(np.floor(c).astype(np.int64), in_len - 2), 0)
    frac = np.minimum(c - left.astype(np.float32), 1).astype(np.float32)
    right = np.minimum(left + 1, in_len - 1)
    return torch.from_numpy(left), torch.from_numpy(right), torch.from_numpy(frac)


# Quadrants around a pixel as (row, col) directions; a rotation-r look-up's quadrant q is the
# image's quadrant QUAD_MAP[r][q] (lerf_torch.rotate_offset), QUAD_INV[r] its inverse.
QUADS = ((-1, -1), (-1, 1), (1, 1), (1, -1))
QTL, QTR, QBR, QBL = 0, 1, 2, 3
QUAD_MAP = [[QUADS.index(tuple(lt.rotate_offset(q, r))) for q in QUADS] for r in range(4)]
QUAD_INV = [torch.tensor([QUAD_MAP[r].index(i) for i in range(4)]) for r in range(4)]


class ImLut(torch.nn.Module):
    def __init__(self, components, bins, lerf_dir=None, mixing="softmax", lerf_l_dir=None, index="input",
                 quadrants=1, train_lerf=False):
        super().__init__()
        # train_lerf: the lerf-g component's own LeRF-G tables (the model's lerf-g/ copy) are
        # trained with the mixing tables (straight-through rounding of its bytes), so lerf-g
        # may become the component that suits the mix rather than the best upscaler alone.
        self.train_lerf = train_lerf
        # quadrants = 4: each input pixel gives one logit vector per quadrant around it (TL, TR,
        # BR, BL), and an output pixel takes from each of its 4 neighbours the vector of the
        # quadrant it lies in (direction-aware weights; an experiment, torch only).
        self.Q = quadrants
        # What the logit tables are indexed by: the input plane, or the lerf-g component's
        # stage-1 plane (its learned pre-filter: a wider receptive field at no extra look-up).
        self.index = index
        self.components = list(components)
        self.bins = list(bins)
        self.K = len(self.components)
        self.S = len(self.bins)
        self.mixing = mixing
        self.tables = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(lt.ENTRIES, self.S * self.Q * self.K)) for _ in range(3)])
        self.quantised = True
        def frozen(outputs, folder):
            luts = lt.LerfLuts(outputs)
            luts.load(folder)
            for p in luts.parameters():
                p.requires_grad_(False)
            return luts
        self.lerf = frozen(3, lerf_dir) if "lerf-g" in self.components else None
        if train_lerf:
            for p in self.lerf.parameters():
                p.requires_grad_(True)
        # lerf-l: a component for the K = 6 ablation only (torch; the engine has no lerf-l
        # component, so a model using it is not loadable by lerf).
        self.lerf_l = frozen(1, lerf_l_dir) if "lerf-l" in self.components else None

    def init_bias(self, values):
        """Every entry = values[k] for component k (every bin): a constant mix."""
        with torch.no_grad():
            v = torch.tensor(values, dtype=torch.float32).repeat(self.S * self.Q)
            for t in self.tables:
                t.copy_(v.view(1, -1).expand(lt.ENTRIES, -1))

    def clamp_(self):
        with torch.no_grad():
            for t in self.tables:
                t.clamp_(-128, 127)

    def q(self, t):
        t = torch.clamp(t, -128, 127)
        return lt.round_ste(t) if self.quantised else t

    def components_out(self, lr, sh, sw, out_h, out_w):
        """(B, out_h, out_w, K) component bytes (no gradient)."""
        grad = torch.is_grad_enabled()
        with torch.no_grad():
            outs = []
            for name in self.components:
                if name == "lerf-g" and self.train_lerf and grad:
                    with torch.enable_grad():
                        v = self.lerf(lr, sh, sw, out_h, out_w)
                        outs.append((v + (torch.floor(v + 0.5) - v).detach()).clamp(0, 255))
                elif name == "lerf-g":
                    outs.append(to_byte(self.lerf(lr, sh, sw, out_h, out_w)))
                elif name == "lerf-l":
                    outs.append(to_byte(self.lerf_l(lr, sh, sw, out_h, out_w)))
                else:
                    outs.append(classical(name, lr, sh, sw, out_h, out_w))
        return torch.stack(outs, -1)  # outside no_grad: keeps lerf-g's gradient

    def index_plane(self, lr):
        if self.index == "input":
            return lr
        with torch.no_grad():
            return lt.stage1(lr, self.lerf.tables()[0])

    def logit_sums(self, lr, b0, b1):
        """(B, H, W, 2, K): the integer sums (16ths) of bins b0 and b1 ((B, H, W, 2, Q, K) with
        quadrants)."""
        K, Q = self.K, self.Q
        acc = 0
        for p in range(3):
            t = self.q(self.tables[p])
            w = Q * K
            sub = torch.cat([t[:, b0 * w:(b0 + 1) * w], t[:, b1 * w:(b1 + 1) * w]], 1)
            if Q == 1:
                samples = lt.gather_samples(lr, p, (0, 1, 2, 3))
                acc = acc + lt.simplex_lookup(sub, samples).sum(0)
                continue
            for r in range(4):
                v = lt.simplex_lookup(sub, lt.gather_samples(lr, p, (r,))[0])
                B, H, W, _ = v.shape
                v = v.view(B, H, W, 2, Q, K)
                acc = acc + v.index_select(4, QUAD_INV[r])
        acc = acc * 16.0
        if Q == 1:
            B, H, W, _ = acc.shape
            return acc.view(B, H, W, 2, K)
        return acc

    def forward(self, lr, sh, sw, out_h=None, out_w=None, comps=None, return_weights=False):
        B, H, W = lr.shape
        out_h = out_h or lt.scaled_length(H, sh)
        out_w = out_w or lt.scaled_length(W, sw)
        if comps is None:
            comps = self.components_out(lr, sh, sw, out_h, out_w)
        f, b0, b1 = scale_position(sh, sw, self.bins[0], self.bins[1] - self.bins[0] if self.S > 1 else 1.0, self.S)
        A = self.logit_sums(self.index_plane(lr), b0, b1)
        L = ((1.0 - f) * A.select(3, 0) + f * A.select(3, 1)) / DIVISOR  # (B, H, W, K) or (B, H, W, Q, K)
        ly, ry, fy = bilinear_axis(H, out_h, sh)
        lx, rx, fx = bilinear_axis(W, out_w, sw)
        wy1 = fy.view(1, -1, 1, 1)
        wy0 = 1.0 - wy1
        wx1 = fx.view(1, 1, -1, 1)
        wx0 = 1.0 - wx1
        Lt, Lb = L[:, ly], L[:, ry]
        if self.Q == 1:
            z = wy0 * (wx0 * Lt[:, :, lx] + wx1 * Lt[:, :, rx]) + wy1 * (wx0 * Lb[:, :, lx] + wx1 * Lb[:, :, rx])
        else:  # the output lies BR of its top-left neighbour, BL of its top-right, ...
            z = (wy0 * (wx0 * Lt[:, :, lx, QBR] + wx1 * Lt[:, :, rx, QBL]) +
                 wy1 * (wx0 * Lb[:, :, lx, QTR] + wx1 * Lb[:, :, rx, QTL]))
        if self.mixing == "softmax":
            e = torch.exp(z - z.max(-1, keepdim=True)[0].detach())
            w = e / e.sum(-1, keepdim=True)
        else:
            w = z - z.mean(-1, keepdim=True) + 1.0 / self.K
        out = (w * comps).sum(-1)
        return (out, w) if return_weights else out

    def save(self, folder):
        import os
        os.makedirs(folder, exist_ok=True)
        if self.train_lerf:
            self.lerf.save(os.path.join(folder, "lerf-g"))
        for p, name in enumerate(lt.PATTERNS):
            np.save(os.path.join(folder, f"imlut_{name}.npy"),
                    np.clip(np.round(self.tables[p].detach().numpy()), -128, 127).astype(np.int8))

    def load(self, folder):
        import os
        with torch.no_grad():
            for p, name in enumerate(lt.PATTERNS):
                self.tables[p].copy_(torch.from_numpy(np.load(os.path.join(folder, f"imlut_{name}.npy")).astype(np.float32)))


def upscale_image(model, img_u8, sh, sw):
    with torch.no_grad():
        x = torch.from_numpy(img_u8.astype(np.float32)).permute(2, 0, 1)
        y = to_byte(model(x, sh, sw))
    return y.permute(1, 2, 0).numpy().astype(np.uint8)
