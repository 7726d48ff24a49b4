#version 450
// The implicit methods' render (docs/IMPLICIT.md), one item per output uint (4 samples): the
// query (host axis tables in double for rescaling, the float homography for warps), border,
// the 4-corner local ensemble of the method's decoder over the analysis's per-pixel field (the
// query-independent first-layer terms for LIIF / A-LIIF, the latent MLP's output for LMF, as
// the CPU fast path), the bicubic base, rounding.
//
// Decoder weights (at dec_off, written by vulkan_implicit.cpp):
// LIIF:   rc0 [H][4], w1 [H][H], b1 [H], w2 [H][H], b2 [H], w3 [H], b3
// A-LIIF: rc0 [H][4], w1 [H][H], b1 [H], w2 [K][H], b2 [K], basis rc [K B][4],
//         then for l = 1..3: w [K out][B], b [K out] (out = B, B, 1)
// LMF:    render l = 0..L: w [out][in], b [out] (in = R + 4, R, ..., R; out = R, ..., R, 1)
#include "common.glsl"
#include "implicit.glsl"
#include "classical.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) readonly buffer Axis { uint axis[]; };  // per output column, then row: float q, inside
layout(std430, binding = 2) readonly buffer Field { float field[]; };
layout(std430, binding = 3) readonly buffer Weights { float wts[]; };
layout(std430, binding = 4) writeonly buffer Dst { uint dst[]; };
#include "classical_warp.glsl"

layout(push_constant) uniform Params {
  int in_w, in_h, ch, out_w;
  int out_h, method, separable, border;
  uint border_value;
  int out_bytes;
  uint dec_off;
  int pdim;
  int hd, K, B, L;  // mlp_hidden (LIIF / A-LIIF) or render_hidden (LMF); basis, basis_hidden; render_layers
  float cx, cy;     // separable maps: the clipped cell
  float m[9];
  float cubic_a;    // the classical bicubic of minified warp pixels
} pc;


// sum_i w[row + i] x[i], i < n, 4 terms per iteration (lavapipe caps the iterations a loop
// runs per invocation: the decoders' inner loops must stay short).
#define DOT_ROW(acc, row, x, n)                                                                  \
  {                                                                                              \
    int i_ = 0;                                                                                  \
    for (; i_ + 4 <= (n); i_ += 4) {                                                             \
      uint r_ = (row) + uint(i_);                                                                \
      acc += wts[r_] * x[i_] + wts[r_ + 1u] * x[i_ + 1] + wts[r_ + 2u] * x[i_ + 2] + wts[r_ + 3u] * x[i_ + 3]; \
    }                                                                                            \
    for (; i_ < (n); ++i_) acc += wts[(row) + uint(i_)] * x[i_];                                 \
  }

float base_at(int c, float qx, float qy) {
  int fx = int(floor(qx)), fy = int(floor(qy));
  float wx[4], wy[4];
  for (int i = 0; i < 4; ++i) {
    wx[i] = implicit_keys(qx - float(fx - 1 + i));
    wy[i] = implicit_keys(qy - float(fy - 1 + i));
  }
  float acc = 0.0f;
  for (int j = 0; j < 4; ++j) {
    int row = clamp(fy - 1 + j, 0, pc.in_h - 1) * pc.in_w;
    float r = 0.0f;
    for (int i = 0; i < 4; ++i)
      r += wx[i] * implicit_normalise(float(LOAD_BYTE(src, (row + clamp(fx - 1 + i, 0, pc.in_w - 1)) * pc.ch + c)));
    acc += wy[j] * r;
  }
  return acc;
}

float liif(uint p, float r[4]) {
  const int H = pc.hd;
  uint rc0 = pc.dec_off, w1 = rc0 + uint(4 * H), b1 = w1 + uint(H * H), w2 = b1 + uint(H), b2 = w2 + uint(H * H),
       w3 = b2 + uint(H), b3 = w3 + uint(H);
  float a[LERF_VK_IMPLICIT_MAX_HIDDEN], b[LERF_VK_IMPLICIT_MAX_HIDDEN];
  for (int o = 0; o < H; ++o) {
    uint k = rc0 + uint(4 * o);
    a[o] = max(field[p + uint(o)] + wts[k] * r[0] + wts[k + 1u] * r[1] + wts[k + 2u] * r[2] + wts[k + 3u] * r[3], 0.0f);
  }
  for (int o = 0; o < H; ++o) {
    float acc = 0.0f;
    DOT_ROW(acc, w1 + uint(o * H), a, H)
    b[o] = max(acc + wts[b1 + uint(o)], 0.0f);
  }
  for (int o = 0; o < H; ++o) {
    float acc = 0.0f;
    DOT_ROW(acc, w2 + uint(o * H), b, H)
    a[o] = max(acc + wts[b2 + uint(o)], 0.0f);
  }
  float acc = 0.0f;
  DOT_ROW(acc, w3, a, H)
  return acc + wts[b3];
}

float aliif(uint p, float r[4]) {
  const int H = pc.hd, K = pc.K, B = pc.B;
  uint rc0 = pc.dec_off, w1 = rc0 + uint(4 * H), b1 = w1 + uint(H * H), w2 = b1 + uint(H), b2 = w2 + uint(K * H),
       brc = b2 + uint(K);
  float a[LERF_VK_IMPLICIT_MAX_HIDDEN], b[LERF_VK_IMPLICIT_MAX_HIDDEN], e[LERF_VK_IMPLICIT_MAX_BASIS];
  for (int o = 0; o < H; ++o) {
    uint k = rc0 + uint(4 * o);
    a[o] = max(field[p + uint(o)] + wts[k] * r[0] + wts[k + 1u] * r[1] + wts[k + 2u] * r[2] + wts[k + 3u] * r[3], 0.0f);
  }
  for (int o = 0; o < H; ++o) {
    float acc = 0.0f;
    DOT_ROW(acc, w1 + uint(o * H), a, H)
    b[o] = max(acc + wts[b1 + uint(o)], 0.0f);
  }
  float norm = 0.0f;
  for (int j = 0; j < K; ++j) {
    float acc = 0.0f;
    DOT_ROW(acc, w2 + uint(j * H), b, H)
    e[j] = acc + wts[b2 + uint(j)];
    norm += e[j] * e[j];
  }
  float inv = 1.0f / max(sqrt(norm), 1e-12f);
  for (int j = 0; j < K; ++j) e[j] *= inv;
  // basis layer 0: sum_j c_j (precomputed term + [rel, cell] terms), ReLU
  float x[LERF_VK_IMPLICIT_MAX_BASIS_HIDDEN], y[LERF_VK_IMPLICIT_MAX_BASIS_HIDDEN];
  for (int o = 0; o < B; ++o) {
    float acc = 0.0f;
    for (int j = 0; j < K; ++j) {
      int row = j * B + o;
      uint k = brc + uint(4 * row);
      acc += e[j] * (field[p + uint(H + row)] + wts[k] * r[0] + wts[k + 1u] * r[1] + wts[k + 2u] * r[2] +
                     wts[k + 3u] * r[3]);
    }
    x[o] = max(acc, 0.0f);
  }
  uint off = brc + uint(4 * K * B);
  float result = 0.0f;
  for (int l = 1; l <= 3; ++l) {
    int outd = l < 3 ? B : 1;
    uint w = off, bb = off + uint(K * outd * B);
    off = bb + uint(K * outd);
    for (int o = 0; o < outd; ++o) {
      float acc = 0.0f;
      for (int j = 0; j < K; ++j) {
        int row = j * outd + o;
        float t = 0.0f;
        DOT_ROW(t, w + uint(row * B), x, B)
        acc += e[j] * (t + wts[bb + uint(row)]);
      }
      if (l < 3) y[o] = max(acc, 0.0f);
      else result = acc;
    }
    if (l < 3)
      for (int o = 0; o < B; ++o) x[o] = y[o];
  }
  return result;
}

float lmf(uint p, uint n, float r[4]) {
  const int R = pc.hd, L = pc.L;
  float x[LERF_VK_IMPLICIT_MAX_RENDER_HIDDEN + 4], h[LERF_VK_IMPLICIT_MAX_RENDER_HIDDEN];
  for (int i = 0; i < R; ++i) x[i] = field[p + uint(2 * L * R + i)];
  for (int i = 0; i < 4; ++i) x[R + i] = r[i];
  uint off = pc.dec_off;
  int in_dim = R + 4;
  for (int l = 0; l < L; ++l) {
    uint w = off, b = off + uint(R * in_dim);
    off = b + uint(R);
    for (int o = 0; o < R; ++o) {
      float acc = 0.0f;
      DOT_ROW(acc, w + uint(o * in_dim), x, in_dim)
      acc += wts[b + uint(o)];
      h[o] = max(acc * (1.0f + field[n + uint(l * R + o)]) + field[n + uint((L + l) * R + o)], 0.0f);
    }
    for (int o = 0; o < R; ++o) x[o] = h[o];
    in_dim = R;
  }
  float acc = 0.0f;
  DOT_ROW(acc, off, x, R)
  return acc + wts[off + uint(R)];
}

uint sample_at(int i) {
  int c = i % pc.ch;
  int ox = (i / pc.ch) % pc.out_w;
  int oy = i / (pc.ch * pc.out_w);
  float qx, qy, cx, cy;
  if (pc.separable != 0) {
    qx = uintBitsToFloat(axis[2 * ox]);
    qy = uintBitsToFloat(axis[2 * (pc.out_w + oy)]);
    bool inside = axis[2 * ox + 1] != 0u && axis[2 * (pc.out_w + oy) + 1] != 0u;
    if (pc.border == LERF_VK_BORDER_CONSTANT && !inside) return border_byte(pc.border_value, c);
    cx = pc.cx;
    cy = pc.cy;
  } else {
    float u, v;
    bool valid = map_point(pc.m, ox, oy, u, v);
    if (!valid || (pc.border == LERF_VK_BORDER_CONSTANT && !(inside_axis(u, pc.in_w) && inside_axis(v, pc.in_h))))
      return border_byte(pc.border_value, c);
    // Where the warp minifies: the antialiased classical bicubic, as for a downscaling rescale
    // (the implicit methods are upsamplers).
    if (warp_minifies(pc.m, ox, oy, u, v))
      return to_byte(classical_warp_sample(LERF_VK_KERNEL_CUBIC, pc.cubic_a, 2, pc.m, ox, oy, u, v, pc.in_w, pc.in_h,
                                           pc.ch, pc.border, c));
    qx = clamp(u, -0.5f, float(pc.in_w) - 0.5f);
    qy = clamp(v, -0.5f, float(pc.in_h) - 0.5f);
    // The cell: 1 / local scale = sqrt(|det J|) of the homography at (ox, oy) (1 where degenerate).
    float fx = float(ox), fy = float(oy);
    float w = pc.m[6] * fx + pc.m[7] * fy + pc.m[8];
    float ux = (pc.m[0] - u * pc.m[6]) / w, uy = (pc.m[1] - u * pc.m[7]) / w;
    float vx = (pc.m[3] - v * pc.m[6]) / w, vy = (pc.m[4] - v * pc.m[7]) / w;
    float det = abs(ux * vy - uy * vx);
    float cell = (det > 0.0f && !isinf(det)) ? sqrt(det) : 1.0f;
    if (isinf(cell) || isnan(cell)) cell = 1.0f;
    cx = cy = clamp(cell, implicit_cell_min, implicit_cell_max);
  }
  const uint plane = uint(pc.in_w * pc.in_h);
  const uint fbase = uint(c) * plane * uint(pc.pdim);
  int code_x[4], code_y[4];
  float rx[4], ry[4], area[4];
  float sum = 0.0f;
  for (int k = 0; k < 4; ++k) {
    code_x[k] = implicit_code_index(qx, k & 1, pc.in_w);
    code_y[k] = implicit_code_index(qy, k >> 1, pc.in_h);
    rx[k] = qx - float(code_x[k]);
    ry[k] = qy - float(code_y[k]);
    area[k] = implicit_area(rx[k], ry[k]);
    sum += area[k];
  }
  uint n = fbase + uint(implicit_nearest_index(qy, pc.in_h) * pc.in_w + implicit_nearest_index(qx, pc.in_w)) *
                       uint(pc.pdim);
  float residual = 0.0f;
  for (int k = 0; k < 4; ++k) {
    float r[4] = float[4](rx[k], ry[k], cx, cy);
    uint p = fbase + uint(code_y[k] * pc.in_w + code_x[k]) * uint(pc.pdim);
    float d;
    if (pc.method == LERF_VK_IMPLICIT_LIIF) d = liif(p, r);
    else if (pc.method == LERF_VK_IMPLICIT_ALIIF) d = aliif(p, r);
    else d = lmf(p, n, r);
    residual += (area[3 - k] / sum) * d;
  }
  float base = base_at(c, qx, qy);
  float y = base + residual;
  if (isinf(y) || isnan(y)) y = base;
  return to_byte(implicit_denormalise(y));
}

void main() {
  FOR_EACH_ITEM(word, (pc.out_bytes + 3) / 4) {
    uint packed = 0u;
    for (int j = 0; j < 4; ++j) {
      int i = int(word) * 4 + j;
      if (i < pc.out_bytes) packed |= sample_at(i) << (8u * uint(j));
    }
    dst[word] = packed;
  }
}
