"""PyTorch reference of our implicit methods (LIIF, A-LIIF, LMF + CMSR), exactly as
docs/IMPLICIT.md defines them (that file is normative; this is its executable form).

Pieces:
  Encoder                    EDSR-baseline family, one channel in, C channels out
  LIIFDecoder / ALIIFDecoder / LMFDecoder
  query(enc_feats, dec, x, coords, cells)   -> y (normalised), the spec's query function
  query_reference(...)       the same maths written literally (unfold + gather + Linear),
                             used by the unit check to prove the fast path equals the spec
  upscale_plane(model, u8 plane, sh, sw)    -> u8 plane, the engine's resize geometry
  upscale_plane_cmsr(...)    LMF with CMSR
  save_safetensors / load_safetensors       hand-written (no python3-safetensors in Debian)
  export_model / load_model  models/<method>/{model.safetensors, model.json}

The networks are defined so that torch's state_dict names are the spec's tensor names.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

METHODS = ("liif", "a-liif", "lmf")

DEFAULT_ARCH = {"channels": 32, "blocks": 4, "mlp_hidden": 64, "basis": 6, "basis_hidden": 16,
                "latent_hidden": 128, "render_layers": 4, "render_hidden": 16}

CELL_MIN, CELL_MAX = 0.25, 1.0


# ----------------------------------------------------------------------------- networks

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, b):
        return b + self.conv2(F.relu(self.conv1(b)))


class Encoder(nn.Module):
    def __init__(self, channels, blocks):
        super().__init__()
        self.head = nn.Conv2d(1, channels, 3, padding=1)
        self.body = nn.ModuleList([Block(channels) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        h = self.head(x)
        b = h
        for blk in self.body:
            b = blk(b)
        return self.tail(b) + h


def _flat(t):
    """(B, Ch, H, W) -> (B*H*W, Ch): per-LR-pixel rows, gathered with global indices."""
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])


def _conv_part(lin, C):
    """The unfolded-feature part of a Linear over [U(p) (9C), extra...] as a 3x3 conv weight:
    U[c*9+k] (k = ky*3+kx) is exactly the conv2d tap layout (out, C, 3, 3)."""
    return lin.weight[:, :9 * C].reshape(lin.weight.shape[0], C, 3, 3)


class LIIFDecoder(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.C = C
        dims = [9 * C + 4, hidden, hidden, hidden, 1]
        self.layers = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(4)])

    def prepare(self, feats):
        l0 = self.layers[0]
        return {"p0": _flat(F.conv2d(feats, _conv_part(l0, self.C), None, padding=1))}

    def corner(self, prep, idx, extra, near):
        l0 = self.layers[0]
        h = prep["p0"].index_select(0, idx) + F.linear(extra, l0.weight[:, 9 * self.C:], l0.bias)
        for lin in self.layers[1:]:
            h = lin(F.relu(h))
        return h[:, 0]

    def corner_reference(self, u, extra, mods):
        h = torch.cat([u, extra], 1)
        for i, lin in enumerate(self.layers):
            h = lin(h)
            if i < 3:
                h = F.relu(h)
        return h[:, 0]


class Basis(nn.Module):
    def __init__(self, K, din, hidden):
        super().__init__()
        dims = [din, hidden, hidden, hidden, 1]
        for l in range(4):
            w = torch.empty(K, dims[l + 1], dims[l])
            b = torch.empty(K, dims[l + 1])
            bound = 1.0 / math.sqrt(dims[l])
            nn.init.uniform_(w, -bound, bound)
            nn.init.uniform_(b, -bound, bound)
            setattr(self, f"w{l}", nn.Parameter(w))
            setattr(self, f"b{l}", nn.Parameter(b))


class ALIIFDecoder(nn.Module):
    def __init__(self, C, hidden, K, basis_hidden):
        super().__init__()
        self.C, self.K, self.bh = C, K, basis_hidden
        dims = [9 * C + 4, hidden, hidden, K]
        self.expand = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(3)])
        self.basis = Basis(K, 9 * C + 4, basis_hidden)

    def prepare(self, feats):
        C = self.C
        w0 = self.basis.w0[:, :, :9 * C].reshape(self.K * self.bh, C, 3, 3)
        return {"e0": _flat(F.conv2d(feats, _conv_part(self.expand[0], C), None, padding=1)),
                "b0": _flat(F.conv2d(feats, w0, None, padding=1))}

    def _mix_eval(self, c, h0):
        """c (N, K) coefficients, h0 (N, K, hid) per-basis first-layer pre-activations."""
        bs = self.basis
        K = self.K
        cc = c[:, :, None]
        h = (cc * h0).sum(1)
        for l in (1, 2, 3):
            h = F.relu(h)
            w, b = getattr(bs, f"w{l}"), getattr(bs, f"b{l}")
            hk = F.linear(h, w.reshape(K * w.shape[1], w.shape[2]), b.reshape(-1)).view(-1, K, w.shape[1])
            h = (cc * hk).sum(1)  # = (sum_j c_j W^j) h + sum_j c_j b^j
        return h[:, 0]

    @staticmethod
    def _normalise(e):
        return e / torch.clamp(torch.linalg.norm(e, dim=1, keepdim=True), min=1e-12)

    def corner(self, prep, idx, extra, near):
        C, bs = self.C, self.basis
        ex = self.expand
        e = prep["e0"].index_select(0, idx) + F.linear(extra, ex[0].weight[:, 9 * C:], ex[0].bias)
        e = ex[2](F.relu(ex[1](F.relu(e))))
        c = self._normalise(e)
        h0 = prep["b0"].index_select(0, idx).view(-1, self.K, self.bh)
        w0 = bs.w0[:, :, 9 * C:].reshape(self.K * self.bh, 4)
        h0 = h0 + F.linear(extra, w0, bs.b0.reshape(-1)).view(-1, self.K, self.bh)
        return self._mix_eval(c, h0)

    def corner_reference(self, u, extra, mods):
        z = torch.cat([u, extra], 1)
        e = self.expand[2](F.relu(self.expand[1](F.relu(self.expand[0](z)))))
        c = self._normalise(e)
        h = z
        for l in range(4):  # literal weight mixing per query
            W = torch.einsum("nk,koi->noi", c, getattr(self.basis, f"w{l}"))
            b = c @ getattr(self.basis, f"b{l}")
            h = torch.bmm(W, h[:, :, None])[:, :, 0] + b
            if l < 3:
                h = F.relu(h)
        return h[:, 0]


class LMFDecoder(nn.Module):
    def __init__(self, C, latent_hidden, L, hidden):
        super().__init__()
        self.C, self.L, self.hid = C, L, hidden
        self.latent = nn.ModuleList([nn.Linear(9 * C, latent_hidden), nn.Linear(latent_hidden, 2 * L * hidden + hidden)])
        dims = [hidden + 4] + [hidden] * L + [1]
        self.render = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(L + 1)])

    def latent_field(self, feats):
        """(B, 16L*2+16, H, W): scales, shifts, code per LR pixel (geometry-free)."""
        l0, l1 = self.latent
        h = F.relu(F.conv2d(feats, _conv_part(l0, self.C), l0.bias, padding=1))
        return F.conv2d(h, l1.weight[:, :, None, None], l1.bias)

    def prepare(self, feats):
        m = _flat(self.latent_field(feats))
        return {"m": m, "code": m[:, 2 * self.L * self.hid:].contiguous(), "mods": m[:, :2 * self.L * self.hid].contiguous()}

    def render_mlp(self, code, extra, mods):
        L, hd = self.L, self.hid
        h = torch.cat([code, extra], 1)
        for l in range(L):
            h = self.render[l](h)
            h = h * (1 + mods[:, l * hd:(l + 1) * hd]) + mods[:, (L + l) * hd:(L + l + 1) * hd]
            h = F.relu(h)
        return self.render[L](h)[:, 0]

    def corner(self, prep, idx, extra, near):
        code = prep["code"].index_select(0, idx)
        return self.render_mlp(code, extra, near)

    def corner_reference(self, u, extra, mods, code=None):
        raise NotImplementedError  # LMF's reference path is in query_reference

    def mod_field(self, feats=None, field=None):
        """CMSR: mean |shift| per LR pixel, (B, H, W)."""
        if field is None:
            field = self.latent_field(feats)
        L, hd = self.L, self.hid
        return field[:, L * hd:2 * L * hd].abs().mean(1)


def make_decoder(method, arch):
    C = arch["channels"]
    if method == "liif":
        return LIIFDecoder(C, arch["mlp_hidden"])
    if method == "a-liif":
        return ALIIFDecoder(C, arch["mlp_hidden"], arch["basis"], arch["basis_hidden"])
    if method == "lmf":
        return LMFDecoder(C, arch["latent_hidden"], arch["render_layers"], arch["render_hidden"])
    raise ValueError(method)


class ImplicitModel(nn.Module):
    """One method: enc + dec (state_dict names = the spec's tensor names)."""

    def __init__(self, method, arch=None):
        super().__init__()
        self.method = method
        self.arch = dict(arch or DEFAULT_ARCH)
        self.enc = Encoder(self.arch["channels"], self.arch["blocks"])
        self.dec = make_decoder(method, self.arch)


def zero_last_layers(dec):
    """Residual start: every decoder begins as plain bicubic."""
    with torch.no_grad():
        if isinstance(dec, LIIFDecoder):
            dec.layers[-1].weight.zero_(); dec.layers[-1].bias.zero_()
        elif isinstance(dec, ALIIFDecoder):
            dec.basis.w3.zero_(); dec.basis.b3.zero_()
        elif isinstance(dec, LMFDecoder):
            dec.render[-1].weight.zero_(); dec.render[-1].bias.zero_()


# ----------------------------------------------------------------------------- the query

def normalise(v):
    """u8 values (any dtype) -> network input."""
    return (torch.as_tensor(v, dtype=torch.float32) / 255.0 - 0.5) / 0.5


def keys(t, a=-0.5):
    t = t.abs()
    t2, t3 = t * t, t * t * t
    near = (a + 2) * t3 - (a + 3) * t2 + 1
    far = a * t3 - 5 * a * t2 + 8 * a * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def bicubic_base(x, coords):
    """x (B, 1, H, W) normalised, coords (B, N, 2) input pixels (x, y) -> (B, N).
    Keys a = -0.5, taps floor(q)-1..floor(q)+2, indices clamped, weights not renormalised."""
    B, _, H, W = x.shape
    flat = x.reshape(B, H * W)
    qx, qy = coords[..., 0], coords[..., 1]
    fx, fy = torch.floor(qx), torch.floor(qy)
    out = torch.zeros_like(qx)
    wys = [keys(qy - (fy + m)) for m in (-1, 0, 1, 2)]
    wxs = [keys(qx - (fx + m)) for m in (-1, 0, 1, 2)]
    ixs = [torch.clamp(fx + m, 0, W - 1).long() for m in (-1, 0, 1, 2)]
    for j, m in enumerate((-1, 0, 1, 2)):
        iy = torch.clamp(fy + m, 0, H - 1).long()
        row = torch.zeros_like(qx)
        for i in range(4):
            row = row + wxs[i] * torch.gather(flat, 1, iy * W + ixs[i])
        out = out + wys[j] * row
    return out


def _corners(coords, H, W):
    """Yields (k, code_x, code_y, rel (B,N,2)) for the 4 ensemble corners."""
    qx, qy = coords[..., 0], coords[..., 1]
    fx, fy = torch.floor(qx), torch.floor(qy)
    for dj in (0, 1):
        for di in (0, 1):
            cxi = torch.clamp(fx + di, 0, W - 1)
            cyi = torch.clamp(fy + dj, 0, H - 1)
            rel = torch.stack([qx - cxi, qy - cyi], -1)
            yield 2 * dj + di, cxi.long(), cyi.long(), rel


def _nearest(coords, H, W):
    nx = torch.clamp(torch.floor(coords[..., 0] + 0.5), 0, W - 1).long()
    ny = torch.clamp(torch.floor(coords[..., 1] + 0.5), 0, H - 1).long()
    return nx, ny


def _ensemble(preds, rels):
    areas = [torch.abs(r[..., 0] * r[..., 1]) + 1e-9 for r in rels]
    tot = areas[0] + areas[1] + areas[2] + areas[3]
    out = 0
    for k in range(4):
        out = out + preds[k] * (areas[3 - k] / tot)
    return out


def clip_cells(cells):
    return torch.clamp(cells, CELL_MIN, CELL_MAX)


def query(dec, feats, x, coords, cells, prep=None):
    """The spec's query: feats (B,C,H,W) encoder output, x (B,1,H,W) normalised input,
    coords (B,N,2) input pixels (x, y), cells (B,N,2) -> y (B,N) normalised (= base + residual).
    prep: dec.prepare(feats) when the caller queries the same features repeatedly."""
    B, _, H, W = feats.shape
    N = coords.shape[1]
    if prep is None:
        prep = dec.prepare(feats)
    base = bicubic_base(x, coords)
    cl = clip_cells(cells).reshape(B * N, 2)
    boff = (torch.arange(B, device=feats.device) * (H * W))[:, None]
    near = None
    if isinstance(dec, LMFDecoder):
        nx, ny = _nearest(coords, H, W)
        near = prep["mods"].index_select(0, (boff + ny * W + nx).reshape(-1))
    preds, rels = [None] * 4, [None] * 4
    for k, cxi, cyi, rel in _corners(coords, H, W):
        idx = (boff + cyi * W + cxi).reshape(-1)
        extra = torch.cat([rel.reshape(B * N, 2), cl], 1)
        preds[k] = dec.corner(prep, idx, extra, near).view(B, N)
        rels[k] = rel
    return base + _ensemble(preds, rels)


def query_reference(dec, feats, x, coords, cells):
    """Literal transcription of docs/IMPLICIT.md (slow): explicit unfold, per-corner gather of
    the 9C vector, full Linear layers. For the unit check only."""
    B, C, H, W = feats.shape
    N = coords.shape[1]
    U = F.unfold(feats, 3, padding=1)  # (B, 9C, H*W), index c*9+k
    Urows = U.permute(0, 2, 1).reshape(B * H * W, 9 * C)
    boff = (torch.arange(B, device=feats.device) * (H * W))[:, None]
    cl = clip_cells(cells).reshape(B * N, 2)
    base = bicubic_base(x, coords)
    if isinstance(dec, LMFDecoder):
        l0, l1 = dec.latent
        lat = l1(F.relu(l0(Urows)))  # per LR pixel
        nx, ny = _nearest(coords, H, W)
        mods = lat[(boff + ny * W + nx).reshape(-1)]
    preds, rels = [None] * 4, [None] * 4
    for k, cxi, cyi, rel in _corners(coords, H, W):
        idx = (boff + cyi * W + cxi).reshape(-1)
        extra = torch.cat([rel.reshape(B * N, 2), cl], 1)
        if isinstance(dec, LMFDecoder):
            code = lat[idx][:, 2 * dec.L * dec.hid:]
            p = dec.render_mlp(code, extra, mods)
        else:
            p = dec.corner_reference(Urows[idx], extra, None)
        preds[k] = p.view(B, N)
        rels[k] = rel
    return base + _ensemble(preds, rels)


# ----------------------------------------------------------------------------- geometry

def scaled_length(n, s):
    v = s * n
    r = round(v)
    if abs(v - r) < 1e-7 * max(1.0, v):
        return int(r)
    return int(math.ceil(v))


def axis_coords(n_in, n_out, s):
    """Engine resize map, bit for bit (geometry.cpp resize_map + map_point): in float64
    a = 1 / s, b = (in - 1) / 2 - (out - 1) / (2 s), q = a * o + b, then float32."""
    o = np.arange(n_out, dtype=np.float64)
    a = 1.0 / s
    b = (n_in - 1) / 2.0 - (n_out - 1) / (2.0 * s)
    return (a * o + b).astype(np.float32)


def grid_coords(H, W, OH, OW, sh, sw):
    xs = torch.from_numpy(axis_coords(W, OW, sw))
    ys = torch.from_numpy(axis_coords(H, OH, sh))
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], -1).reshape(1, OH * OW, 2)


def to_u8(y):
    return torch.clamp(torch.round((y * 0.5 + 0.5) * 255.0), 0, 255).to(torch.uint8)


@torch.no_grad()
def render_plane(model, plane, sh, sw, chunk=65536, feats=None, prep=None, out_size=None):
    """plane (H, W) u8 -> float y (OH, OW), normalised, before rounding."""
    x = normalise(np.ascontiguousarray(plane))[None, None]
    H, W = plane.shape
    OH, OW = out_size or (scaled_length(H, sh), scaled_length(W, sw))
    if feats is None:
        feats = model.enc(x)
    if prep is None:
        prep = model.dec.prepare(feats)
    coords = grid_coords(H, W, OH, OW, sh, sw)
    cells = torch.tensor([1.0 / sw, 1.0 / sh], dtype=torch.float32).expand(1, OH * OW, 2)
    outs = []
    for i in range(0, OH * OW, chunk):
        outs.append(query(model.dec, feats, x, coords[:, i:i + chunk], cells[:, i:i + chunk], prep=prep))
    return torch.cat(outs, 1).view(OH, OW)


@torch.no_grad()
def upscale_plane(model, plane, sh, sw):
    """The engine's output for one u8 plane (upscaling on both axes)."""
    return to_u8(render_plane(model, plane, sh, sw)).numpy()


def upscale_image(model, img, sh, sw):
    """(H, W[, C]) u8 -> per-channel."""
    if img.ndim == 2:
        return upscale_plane(model, img, sh, sw)
    return np.stack([upscale_plane(model, img[..., c], sh, sw) for c in range(img.shape[2])], -1)


# ----------------------------------------------------------------------------- CMSR

def cmsr_table(tables, sh, sw):
    """The table for target S = max(sh, sw): the largest key <= S, or None."""
    S = max(sh, sw)
    keys_ = sorted((float(k), k) for k in tables)
    best = None
    for v, k in keys_:
        if v <= S + 1e-6:
            best = k
    return None if best is None else tables[best]


def _bilinear_clamped(img, cx, cy):
    """img (h, w) float, sample at float coords (clamped into the image)."""
    h, w = img.shape
    cx = torch.clamp(cx, 0, w - 1)
    cy = torch.clamp(cy, 0, h - 1)
    x0 = torch.clamp(torch.floor(cx), 0, w - 1).long()
    y0 = torch.clamp(torch.floor(cy), 0, h - 1).long()
    x1 = torch.clamp(x0 + 1, max=w - 1)
    y1 = torch.clamp(y0 + 1, max=h - 1)
    fx = cx - x0.float()
    fy = cy - y0.float()
    f = img.reshape(-1)
    a = f[y0 * w + x0] * (1 - fx) + f[y0 * w + x1] * fx
    b = f[y1 * w + x0] * (1 - fx) + f[y1 * w + x1] * fx
    return a * (1 - fy) + b * fy


def coarse_coords(coords, H, W, d):
    """Output pixels' input coordinates (N, 2) -> their coordinates in the decode-scale-d image
    (size scaled_size(in, d)): j = (q - b) * d with b = (in - 1) / 2 - (in_d - 1) / (2 d)."""
    ch, cw = scaled_length(H, d), scaled_length(W, d)
    q = coords.double()
    cx = (q[:, 0] - ((W - 1) / 2.0 - (cw - 1) / (2.0 * d))) * d
    cy = (q[:, 1] - ((H - 1) / 2.0 - (ch - 1) / (2.0 * d))) * d
    return cx.float(), cy.float(), ch, cw


def bilinear_taps(cx, cy, ch, cw):
    """Flat indices of the 4 coarse pixels a clamped bilinear sample touches, (N, 4)."""
    x0 = torch.clamp(torch.floor(cx), 0, cw - 1).long()
    y0 = torch.clamp(torch.floor(cy), 0, ch - 1).long()
    x1 = torch.clamp(torch.floor(cx) + 1, 0, cw - 1).long()
    y1 = torch.clamp(torch.floor(cy) + 1, 0, ch - 1).long()
    return torch.stack([y0 * cw + x0, y0 * cw + x1, y1 * cw + x0, y1 * cw + x1], 1)


@torch.no_grad()
def cmsr_parts(model, plane, sh, sw, decode_scales):
    """Everything CMSR calibration needs for one plane: full float render (N,), mod of each
    output pixel's nearest LR pixel (N,), and per decode scale d: the bilinear sample of the
    coarse float render (N,) and the touched coarse taps (N, 4)."""
    H, W = plane.shape
    x = normalise(np.ascontiguousarray(plane))[None, None]
    feats = model.enc(x)
    prep = model.dec.prepare(feats)
    full = render_plane(model, plane, sh, sw, feats=feats, prep=prep).reshape(-1)
    OH, OW = scaled_length(H, sh), scaled_length(W, sw)
    mod = model.dec.mod_field(field=prep["m"].view(1, H, W, -1).permute(0, 3, 1, 2))[0]
    coords = grid_coords(H, W, OH, OW, sh, sw)[0]
    nx, ny = _nearest(coords, H, W)
    parts = {"full": full, "mod": mod[ny, nx], "shape": (OH, OW), "coarse": {}}
    for d in decode_scales:
        coarse = render_plane(model, plane, d, d, feats=feats, prep=prep)
        cx, cy, ch, cw = coarse_coords(coords, H, W, d)
        parts["coarse"][d] = (_bilinear_clamped(coarse, cx, cy), bilinear_taps(cx, cy, ch, cw), ch * cw)
    return parts


@torch.no_grad()
def upscale_plane_cmsr(model, plane, sh, sw, table, full=None):
    """LMF + CMSR (docs/IMPLICIT.md). Returns (u8 out, stats) where stats counts rendered pixels:
    {"out": OH*OW, "full": pixels rendered at target scale, "coarse": coarse pixels touched,
    "skipped": 1 - (full + coarse) / out}. full: optional precomputed float full render.
    Coarse images are rendered whole here (values identical; the engine renders only the
    touched pixels), their float values (before rounding) are sampled bilinearly."""
    assert isinstance(model.dec, LMFDecoder)
    H, W = plane.shape
    OH, OW = scaled_length(H, sh), scaled_length(W, sw)
    x = normalise(np.ascontiguousarray(plane))[None, None]
    feats = model.enc(x)
    prep = model.dec.prepare(feats)
    if full is None:
        full = render_plane(model, plane, sh, sw, feats=feats, prep=prep)
    if not table:
        return to_u8(full).numpy(), {"out": OH * OW, "full": OH * OW, "coarse": 0, "skipped": 0.0}
    mod = model.dec.mod_field(field=prep["m"].view(1, H, W, -1).permute(0, 3, 1, 2))[0]  # (H, W)
    coords = grid_coords(H, W, OH, OW, sh, sw)[0]
    nx, ny = _nearest(coords, H, W)
    m = mod[ny, nx]
    assign = torch.full((OH * OW,), -1, dtype=torch.long)
    for j, (d, t) in enumerate(table):
        sel = (assign < 0) & (m < t)
        assign[sel] = j
    y = full.reshape(-1).clone()
    coarse_count = 0
    for j, (d, t) in enumerate(table):
        sel = assign == j
        if not bool(sel.any()):
            continue
        ch, cw = scaled_length(H, d), scaled_length(W, d)
        coarse = render_plane(model, plane, d, d, feats=feats, prep=prep)
        # output pixel's input coordinate -> coordinate in the coarse image (inverse map)
        q = coords[sel].double()
        cx = (q[:, 0] - (W - 1) / 2.0 + (cw - 1) / (2.0 * d)) * d
        cy = (q[:, 1] - (H - 1) / 2.0 + (ch - 1) / (2.0 * d)) * d
        cx, cy = cx.float(), cy.float()
        y[sel] = _bilinear_clamped(coarse, cx, cy)
        # touched coarse pixels
        touched = torch.zeros(ch * cw, dtype=torch.bool)
        cxc, cyc = torch.clamp(cx, 0, cw - 1), torch.clamp(cy, 0, ch - 1)
        x0, y0 = torch.floor(cxc).long(), torch.floor(cyc).long()
        x1, y1 = torch.clamp(x0 + 1, max=cw - 1), torch.clamp(y0 + 1, max=ch - 1)
        for yy in (y0, y1):
            for xx in (x0, x1):
                touched[yy * cw + xx] = True
        coarse_count += int(touched.sum())
    nfull = int((assign < 0).sum())
    stats = {"out": OH * OW, "full": nfull, "coarse": coarse_count,
             "skipped": 1.0 - (nfull + coarse_count) / float(OH * OW)}
    return to_u8(y.view(OH, OW)).numpy(), stats


# ----------------------------------------------------------------------------- safetensors

def save_safetensors(path, tensors, metadata=None):
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # align the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    n = struct.unpack_from("<Q", raw, 0)[0]
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} beyond the file")
    header = json.loads(raw[8:8 + n].decode())
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {info['dtype']}, expected F32")
        b, e = info["data_offsets"]
        cnt = int(np.prod(info["shape"])) if info["shape"] else 1
        if not (0 <= b <= e <= len(data)) or e - b != 4 * cnt:
            raise ValueError(f"{path}: {name}: bad data_offsets {b}..{e}")
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out, header.get("__metadata__", {})


# ----------------------------------------------------------------------------- model files

def export_model(model, folder, extra_json=None):
    """models/<method>/model.safetensors + model.json (keeps keys of an existing model.json
    that extra_json does not set, e.g. the CMSR tables, unless they are overwritten)."""
    os.makedirs(folder, exist_ok=True)
    sd = {k: v for k, v in model.state_dict().items()}
    save_safetensors(os.path.join(folder, "model.safetensors"), sd, {"method": model.method})
    meta = {"method": model.method, "version": "1", "architecture": model.arch}
    if model.method == "lmf":
        meta["cmsr"] = {"mse_target": 2e-5, "tables": {}}
    if extra_json:
        meta.update(extra_json)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def load_model(folder, method=None):
    with open(os.path.join(folder, "model.json")) as f:
        meta = json.load(f)
    method = method or meta["method"]
    model = ImplicitModel(method, meta["architecture"])
    tensors, _ = load_safetensors(os.path.join(folder, "model.safetensors"))
    want = model.state_dict()
    missing = [k for k in want if k not in tensors]
    extra = [k for k in tensors if k not in want]
    if missing or extra:
        raise ValueError(f"{folder}: missing tensors {missing}, unexpected {extra}")
    for k, v in want.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise ValueError(f"{folder}: {k}: shape {tuple(tensors[k].shape)}, expected {tuple(v.shape)}")
    model.load_state_dict(tensors)
    model.eval()
    return model, meta


TINY_ARCH = {"channels": 8, "blocks": 1, "mlp_hidden": 16, "basis": 3, "basis_hidden": 16,
             "latent_hidden": 32, "render_layers": 2, "render_hidden": 16}


def export_random(out, tiny=False, seed=0):
    """Randomly initialised models (all three on one encoder) for engine loading/equality tests."""
    arch = TINY_ARCH if tiny else DEFAULT_ARCH
    torch.manual_seed(seed)
    enc = None
    for m in METHODS:
        model = ImplicitModel(m, arch)
        if enc is None:
            enc = model.enc.state_dict()
        model.enc.load_state_dict(enc)
        extra = {"training": f"random initialisation (seed {seed}), for tests only"}
        if m == "lmf":
            extra["cmsr"] = {"mse_target": 2e-5, "tables": {"2": [[1, 0.05]], "4": [[1, 0.05], [2, 0.1], [3, 0.2]],
                                                          "8": [[1, 0.02], [2, 0.05], [4, 0.2]]}}
        export_model(model, os.path.join(out, m), extra)


def _read_png_bgr(path):
    from PIL import Image
    a = np.asarray(Image.open(path).convert("RGB"))
    return np.ascontiguousarray(a[..., ::-1])


def evaluate_dataset(models, dataset, scale, prep_bin=None, tmp=None, limit=0):
    """Torch PSNR-Y (shave = ceil(scale)) on a benchmark folder <dataset>/x<s>/{HR,LR}/*.png;
    scales without such a folder: LR made from <dataset>/x2/HR with the engine's MATLAB
    bicubic (tests/train_prep, prep_bin). models: {name: ImplicitModel or None (= bicubic base)}.
    Returns {name: mean PSNR-Y}. Evaluation only: never train or select on benchmarks."""
    import glob
    import subprocess
    sys_path = os.path.dirname(os.path.abspath(__file__))
    import sys
    sys.path.insert(0, sys_path)
    import imgio
    pairs = []
    folder = os.path.join(dataset, "x%g" % scale)
    if os.path.isdir(folder):
        for hp in sorted(glob.glob(os.path.join(folder, "HR", "*.png"))):
            pairs.append((_read_png_bgr(os.path.join(folder, "LR", os.path.basename(hp))), _read_png_bgr(hp)))
    else:
        out = os.path.join(tmp, os.path.basename(dataset.rstrip("/")) + "-x%g" % scale)
        srcs = sorted(glob.glob(os.path.join(dataset, "x2", "HR", "*.png")))
        subprocess.run([prep_bin, out, "1", "%g" % scale] + srcs, check=True, stdout=subprocess.DEVNULL)
        for hp in srcs:
            d = os.path.join(out, os.path.splitext(os.path.basename(hp))[0])
            lr = np.load(glob.glob(os.path.join(d, "lr_*.npy"))[0])
            hr = np.load(os.path.join(d, "hr.npy"))
            pairs.append((lr, hr[:scaled_length(lr.shape[0], scale), :scaled_length(lr.shape[1], scale)]))
    if limit:
        pairs = pairs[:limit]
    res = {}
    shave = int(math.ceil(scale))
    for name, model in models.items():
        vals = []
        for lr, hr in pairs:
            if model is None:
                chans = []
                for c in range(3):
                    x = normalise(lr[..., c])[None, None]
                    OH, OW = scaled_length(lr.shape[0], scale), scaled_length(lr.shape[1], scale)
                    y = bicubic_base(x, grid_coords(lr.shape[0], lr.shape[1], OH, OW, scale, scale))
                    chans.append(to_u8(y).view(OH, OW).numpy())
                out = np.stack(chans, -1)
            else:
                out = upscale_image(model, lr, scale, scale)
            h, w = min(out.shape[0], hr.shape[0]), min(out.shape[1], hr.shape[1])
            vals.append(imgio.psnr_y(out[:h, :w], hr[:h, :w], shave))
        res[name] = round(float(np.mean(vals)), 3)
    return res


if __name__ == "__main__":
    import argparse
    import sys
    import tempfile
    if len(sys.argv) > 1 and sys.argv[1] == "eval":
        ap = argparse.ArgumentParser(description="torch PSNR-Y of the implicit models on benchmark folders")
        ap.add_argument("cmd")
        ap.add_argument("--models", default="models", help="folder holding liif/, a-liif/, lmf/")
        ap.add_argument("--datasets", default="../shared/datasets/Set5,../shared/datasets/Set14")
        ap.add_argument("--scales", default="2,3,4")
        ap.add_argument("--methods", default="bicubic,liif,a-liif,lmf")
        ap.add_argument("--prep", default="build/tests/train_prep", help="tests/train_prep (scales without LR)")
        ap.add_argument("--threads", type=int, default=1)
        a = ap.parse_args()
        torch.set_num_threads(a.threads)
        models = {m: (None if m == "bicubic" else load_model(os.path.join(a.models, m))[0])
                  for m in a.methods.split(",")}
        tmp = tempfile.mkdtemp(prefix="implicit-eval-")
        allres = {}
        for ds in a.datasets.split(","):
            for s in [float(v) for v in a.scales.split(",")]:
                r = evaluate_dataset(models, ds, s, a.prep, tmp)
                allres.setdefault(os.path.basename(ds.rstrip("/")), {})["x%g" % s] = r
                print(os.path.basename(ds.rstrip("/")), "x%g" % s, json.dumps(r), flush=True)
        print(json.dumps(allres))
        sys.exit(0)
    ap = argparse.ArgumentParser(description="export randomly initialised implicit models")
    ap.add_argument("out")
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    export_random(a.out, a.tiny, a.seed)
    print("exported", [os.path.join(a.out, m) for m in METHODS])
