"""LeRF inference in torch, differentiable in the LUT entries: exactly the maths of the C++
engine (engine/src/cpu/lerf_lut.cpp, lerf_render.cpp, engine/include/lerf/shared/kernels.inc;
methods.md section 1), so that what the training optimises is what the engine computes.

- Stage 1: 3 patterns (s, c, t) x 4 rotations, 4-simplex interpolation of int8 LUTs,
  feat = round(clip(sum / 3, 0, 255))  (rounding straight-through).
- Stage 2 on feat: rotations 0, 2 use table r0, rotations 1, 3 table r1;
  h = round(clip(sum / 12 + 127, 0, 255)) / 255  (rounding straight-through).
- Resampling of feat with the 2x2 support (left = ceil(x - 1 - 1e-4)), the coordinate
  convention x = o / s + (in - 1) / 2 - (out - 1) / (2 s), edge clamping, and the kernels
  of kernels.inc: G: rho = 2h - 1, sx = 10h, sy = 10h on (row, col) distances, weights
  normalised; L: a = 2h - 1, k(d) = max(0, 1 - a|d|), w = k(d_row) k(d_col).

Sample offsets of a pattern at rotation r (numpy rot90 of the image, look up, rotate back)
map (di, dj) to (di, dj), (dj, -di), (-di, -dj), (-dj, di) in the original image; sampling
is clamped to the image, which equals the reference's edge padding of the rotated image.
"""
import math

import numpy as np
import torch

PATTERNS = ("s", "c", "t")
OFFSETS = (
    ((0, 0), (0, 1), (1, 0), (1, 1)),  # s: 2x2
    ((0, 0), (0, 1), (0, 2), (0, 3)),  # c: 1x4 row
    ((0, 0), (1, 1), (2, 2), (3, 3)),  # t: diagonal
)
LEVELS = 17
ENTRIES = LEVELS ** 4
STRIDES = (LEVELS ** 3, LEVELS ** 2, LEVELS, 1)
PAD = 3


def rotate_offset(o, r):
    di, dj = o
    return [(di, dj), (dj, -di), (-di, -dj), (-dj, di)][r & 3]


class RoundSTE(torch.autograd.Function):
    """torch.round (half to even, as the engine's nearbyint) with an identity gradient."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def round_ste(x):
    return RoundSTE.apply(x)


def gather_samples(img, pattern, rotations):
    """img: (B, H, W) float with integer values. Returns (len(rotations), B, H, W, 4): the 4
    samples of `pattern` at every pixel for each rotation, with edge clamping."""
    B, H, W = img.shape
    xp = torch.nn.functional.pad(img.unsqueeze(1), (PAD, PAD, PAD, PAD), mode="replicate").squeeze(1)
    out = []
    for r in rotations:
        s = []
        for o in OFFSETS[pattern]:
            di, dj = rotate_offset(o, r)
            s.append(xp[:, PAD + di:PAD + di + H, PAD + dj:PAD + dj + W])
        out.append(torch.stack(s, dim=-1))
    return torch.stack(out, dim=0)


_STRIDES_T = torch.tensor(STRIDES, dtype=torch.long)


class Gather(torch.autograd.Function):
    """lut[idx] with a scatter_add_ backward (the fastest on the CPU here)."""

    @staticmethod
    def forward(ctx, lut, idx):
        ctx.save_for_backward(idx)
        ctx.rows = lut.shape[0]
        flat = idx.reshape(-1)
        return lut.index_select(0, flat).view(*idx.shape, lut.shape[1])

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        c = g.shape[-1]
        grad = torch.zeros(ctx.rows, c, dtype=g.dtype)
        grad.scatter_add_(0, idx.reshape(-1, 1).expand(-1, c), g.reshape(-1, c))
        return grad, None


def simplex_lookup(lut, v):
    """4-simplex interpolation. lut: (ENTRIES, C) float (LUT units); v: (..., 4) float pixel
    values 0..255 (integers; gradients flow through the fractional LSB weights).
    Returns (..., C) = sum of w_k * P_k with weights (16-f1, f1-f2, f2-f3, f3-f4, f4) / 16."""
    shape = v.shape[:-1]
    v = v.reshape(-1, 4)
    msb = torch.div(v.detach(), 16, rounding_mode="floor").clamp_(0, 15)
    frac = (v - 16 * msb) / 16.0  # LSB / 16, differentiable in v
    fs, order = torch.sort(frac.detach(), dim=1, descending=True)
    fs = torch.gather(frac, 1, order)  # same values, with gradient
    base = (msb.long() * _STRIDES_T).sum(1, keepdim=True)
    steps = torch.cumsum(_STRIDES_T[order], dim=1)
    idx = torch.cat([base, base + steps], dim=1)  # (N, 5)
    one = torch.ones_like(fs[:, :1])
    zero = torch.zeros_like(fs[:, :1])
    hi = torch.cat([one, fs], dim=1)
    lo = torch.cat([fs, zero], dim=1)
    w = hi - lo  # (N, 5): 1-f1, f1-f2, f2-f3, f3-f4, f4
    vals = Gather.apply(lut, idx)  # (N, 5, C)
    if lut.shape[1] == 1:
        out = (w * vals[..., 0]).sum(1, keepdim=True)
    else:
        out = torch.bmm(w.unsqueeze(1), vals)[:, 0]
    return out.reshape(*shape, lut.shape[1])


def stage1(img, s1):
    """img (B, H, W) integer-valued float; s1: list of 3 (ENTRIES, 1) tables (LUT units).
    Returns feat = round(clip(sum / 3, 0, 255)) with a straight-through rounding."""
    acc = 0
    for p in range(3):
        samples = gather_samples(img, p, (0, 1, 2, 3))  # (4, B, H, W, 4)
        acc = acc + simplex_lookup(s1[p], samples).sum(0)[..., 0]
    return round_ste(torch.clamp(acc / 3.0, 0, 255))


def stage2(feat, s2):
    """feat (B, H, W); s2: list of 3 pairs (r0, r1) of (ENTRIES, C) tables.
    Returns h (B, H, W, C) in [0, 1]: round(clip(sum / 12 + 127, 0, 255)) / 255."""
    acc = 0
    for p in range(3):
        even = gather_samples(feat, p, (0, 2))
        odd = gather_samples(feat, p, (1, 3))
        acc = acc + simplex_lookup(s2[p][0], even).sum(0) + simplex_lookup(s2[p][1], odd).sum(0)
    return round_ste(torch.clamp(acc / 12.0 + 127.0, 0, 255)) / 255.0


def axis_taps(in_len, out_len, scale):
    """The engine's lerf_axis_taps for upscaling (scale >= 1): per output index the two
    neighbours (clamped) and their distances x - (left + k)."""
    o = np.arange(out_len, dtype=np.float64)
    a = 1.0 / scale
    b = (in_len - 1) / 2.0 - (out_len - 1) / (2.0 * scale)
    x = a * o + b
    left = np.ceil(x - 1.0 - 1e-4).astype(np.int64)
    idx = np.stack([np.clip(left, 0, in_len - 1), np.clip(left + 1, 0, in_len - 1)], 0)
    dist = np.stack([x - left, x - (left + 1)], 0).astype(np.float32)
    return torch.from_numpy(idx), torch.from_numpy(dist)


def scaled_length(n, s):
    v = s * n
    r = round(v)
    if abs(v - r) < 1e-7 * max(1.0, v):
        return int(r)
    return int(math.ceil(v))


def resample(feat, hyper, out_h, out_w, sh, sw, gaussian):
    """feat (B, H, W) float, hyper (B, H, W, C) in [0, 1] -> (B, out_h, out_w) float
    (before the final rounding to bytes)."""
    B, H, W = feat.shape
    iy, dy = axis_taps(H, out_h, sh)
    ix, dx = axis_taps(W, out_w, sw)
    samples, hyps, drs, dcs = [], [], [], []
    for a in range(2):
        fr = feat[:, iy[a], :]
        hr = hyper[:, iy[a], :, :]
        for b in range(2):
            samples.append(fr[:, :, ix[b]])
            hyps.append(hr[:, :, ix[b], :])
            drs.append(dy[a].view(1, out_h, 1).expand(B, out_h, out_w))
            dcs.append(dx[b].view(1, 1, out_w).expand(B, out_h, out_w))
    I = torch.stack(samples, -1)  # (B, Ho, Wo, 4)
    Hp = torch.stack(hyps, -2)  # (B, Ho, Wo, 4, C)
    dr = torch.stack(drs, -1)
    dc = torch.stack(dcs, -1)
    if gaussian:
        rho = 2.0 * Hp[..., 0] - 1.0
        sx = 10.0 * Hp[..., 1]
        sy = 10.0 * Hp[..., 2]
        ta = sx * dr
        tb = sy * dc
        q = 0.5 * (ta * ta - 2.0 * rho * ta * tb + tb * tb)
        e = torch.exp(q.min(dim=-1, keepdim=True)[0].detach() - q)  # as the engine: exp(qmin - q)
        return (e * I).sum(-1) / e.sum(-1)
    amp = 2.0 * Hp[..., 0] - 1.0
    kr = torch.where(dr.abs() <= 1.0, torch.clamp(1.0 - amp * dr.abs(), min=0.0), torch.zeros_like(dr))
    kc = torch.where(dc.abs() <= 1.0, torch.clamp(1.0 - amp * dc.abs(), min=0.0), torch.zeros_like(dc))
    w = kr * kc
    return (w * I).sum(-1) / w.sum(-1).clamp_min(1e-20)


class LerfLuts(torch.nn.Module):
    """The 9 LUT tables as float parameters (LUT units, i.e. int8 values)."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs
        self.s1 = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(ENTRIES, 1)) for _ in range(3)])
        self.s2 = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(ENTRIES, outputs)) for _ in range(6)])
        self.quantised = True  # forward with round(clip(entry)) (straight-through)

    @property
    def gaussian(self):
        return self.outputs == 3

    def init_identity(self, s2_init):
        """Stage 1 = identity: each of the 12 lookups returns anchor / 4 (vertex value
        4 * MSB level of the anchor; exact at every 8-bit input since the interpolation is
        linear in the anchor), so sum / 3 = anchor. Stage 2 = a constant per output."""
        m = torch.arange(ENTRIES) // STRIDES[0]  # MSB level of the first (anchor) sample
        with torch.no_grad():
            for p in range(3):
                self.s1[p].copy_((4 * m).float().unsqueeze(1))
            for t in self.s2:
                t.copy_(torch.tensor(s2_init, dtype=torch.float32).view(1, -1).expand(ENTRIES, -1))

    def tables(self):
        def q(t):
            t = torch.clamp(t, -128, 127)
            return round_ste(t) if self.quantised else t
        s1 = [q(t) for t in self.s1]
        s2 = [(q(self.s2[2 * p]), q(self.s2[2 * p + 1])) for p in range(3)]
        return s1, s2

    def clamp_(self):
        with torch.no_grad():
            for t in list(self.s1) + list(self.s2):
                t.clamp_(-128, 127)

    def forward(self, lr, sh, sw, out_h=None, out_w=None):
        """lr (B, H, W) integer-valued float (one channel) -> (B, out_h, out_w) float."""
        s1, s2 = self.tables()
        feat = stage1(lr, s1)
        hyper = stage2(feat, s2)
        B, H, W = lr.shape
        out_h = out_h or scaled_length(H, sh)
        out_w = out_w or scaled_length(W, sw)
        return resample(feat, hyper, out_h, out_w, sh, sw, self.gaussian)

    # --- the authors' file layout -------------------------------------------------------
    def save(self, folder):
        import os
        os.makedirs(folder, exist_ok=True)
        s1 = preserve_constants([self._int8(t) for t in self.s1])
        for p, name in enumerate(PATTERNS):
            np.save(os.path.join(folder, f"LUTft_s1_{name}r0.npy"), s1[p])
            for d in range(2):
                np.save(os.path.join(folder, f"LUTft_s2_{name}r{d}.npy"), self._int8(self.s2[2 * p + d]))

    def load(self, folder):
        import os
        with torch.no_grad():
            for p, name in enumerate(PATTERNS):
                self.s1[p].copy_(torch.from_numpy(np.load(os.path.join(folder, f"LUTft_s1_{name}r0.npy")).astype(np.float32)))
                for d in range(2):
                    a = np.load(os.path.join(folder, f"LUTft_s2_{name}r{d}.npy")).astype(np.float32)
                    self.s2[2 * p + d].copy_(torch.from_numpy(a))

    @staticmethod
    def _int8(t):
        return np.clip(np.round(t.detach().numpy()), -128, 127).astype(np.int8)


def preserve_constants(s1):
    """Makes stage 1 map every constant image to itself, in place; returns s1 (3 int8 tables).

    A constant v = 16 m + l reads the diagonal vertices (m,m,m,m) and (m+1,...) of each
    pattern in all 4 rotations, so stage 1 gives round(4/3 * sum_p lerp_l(T_p(m), T_p(m+1))):
    exactly v for every v iff sum_p T_p(m,m,m,m) = 12 m at every level m. Training leaves
    that sum off by a unit here and there (flat areas then come out one level too bright or
    dark); this moves the diagonal entries by the missing units, one pattern at a time, the
    pattern farthest from identity (4 m) in the wrong direction first."""
    diag = sum(STRIDES)
    for m in range(LEVELS):
        i = m * diag
        err = 12 * m - sum(int(t.reshape(-1)[i]) for t in s1)
        while err:
            step = 1 if err > 0 else -1
            p = min(range(3), key=lambda q: (int(s1[q].reshape(-1)[i]) - 4 * m) * step)
            s1[p].reshape(-1)[i] += step
            err -= step
    return s1


def upscale_image(model, img_u8, sh, sw):
    """Whole-image inference (H, W, C) uint8 -> uint8, channels independently, rounded to
    bytes like the engine's to_byte (floor(v + 0.5) clamped)."""
    with torch.no_grad():
        x = torch.from_numpy(img_u8.astype(np.float32)).permute(2, 0, 1)  # (C, H, W)
        y = model(x, sh, sw)
        y = torch.floor(y + 0.5).clamp(0, 255)
    return y.permute(1, 2, 0).numpy().astype(np.uint8)


if __name__ == "__main__":
    # Applies preserve_constants to an exported model folder (tables trained before the
    # export did it): /usr/bin/python3 tools/train/lerf_torch.py --preserve-constants models/lerf-g
    import argparse
    import os
    ap = argparse.ArgumentParser()
    ap.add_argument("--preserve-constants", required=True, metavar="FOLDER")
    args = ap.parse_args()
    paths = [os.path.join(args.preserve_constants, f"LUTft_s1_{name}r0.npy") for name in PATTERNS]
    tables = [np.load(p) for p in paths]
    before = [t.copy() for t in tables]
    for p, t in zip(paths, preserve_constants(tables)):
        np.save(p, t)
    print(f"{args.preserve_constants}: {sum(int(np.abs(a.astype(int) - b).sum()) for a, b in zip(tables, before))} "
          "stage-1 units moved")
