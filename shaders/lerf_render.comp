#version 450
// LeRF phase 2: each output sample is the normalised blend of its input neighbours in the
// stage-1 image, each neighbour weighted by the steerable kernel of its own hyperparameters
// (LeRF-G: Gaussian, LeRF-L: amplified linear), as the CPU's render_lerf. Separable maps use
// per-axis taps (2 when upscaling, ceil(2 / s) with distances times s when downscaling, at
// most LERF_VK_MAX_TAPS); warps use, at each pixel's own coordinate, the 2x2 rule where they
// magnify and the same downscaling rule with the local stretch where they minify.
#include "common.glsl"
#include "common_axis.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };      // stage-1 image
layout(std430, binding = 1) readonly buffer Hyper { uint hyper[]; };  // hyperparameter bytes
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Params {
  int in_w, in_h, ch, outputs;
  int out_w, out_h, gaussian, separable;
  int border;
  uint border_value;
  int out_bytes;
  int n_x, n_y;          // separable: taps used per axis (at most LERF_VK_MAX_TAPS)
  int off_x, off_y;      // first used tap
  float s_x, s_y;        // distance scale (min(1, scale))
  float m[9];
  int axis_off;          // separable: first entry of this pass's axis table
} pc;

// Weight exponent (G) or weight (L) of neighbour (yy, xx) at distances dr, dc for channel c.
float neighbour_q(int yy, int xx, int c, float dr, float dc) {
  int h = ((yy * pc.in_w + xx) * pc.ch + c) * pc.outputs;
  return lerf_gauss_q(lerf_g_rho(float(LOAD_BYTE(hyper, h))), lerf_g_sigma(float(LOAD_BYTE(hyper, h + 1))),
                      lerf_g_sigma(float(LOAD_BYTE(hyper, h + 2))), dr, dc);
}
float neighbour_l(int yy, int xx, int c, float dr, float dc) {
  float amp = lerf_l_amplitude(float(LOAD_BYTE(hyper, (yy * pc.in_w + xx) * pc.ch + c)));
  return lerf_amplified_linear(amp, dr) * lerf_amplified_linear(amp, dc);
}
float pixel(int yy, int xx, int c) { return float(LOAD_BYTE(src, (yy * pc.in_w + xx) * pc.ch + c)); }

// The neighbours of the current output sample: the first one, the coordinate relative to
// it, the counts and the distance scales.
struct Taps {
  int left_x, left_y, nx, ny;
  float fx, fy, sx, sy;
};

void neighbour(Taps t, int j, out int yy, out int xx, out float dr, out float dc) {
  int a = j / t.nx, b = j % t.nx;
  int ly = t.left_y + a, lx = t.left_x + b;
  yy = edge_index(ly, pc.in_h, pc.border);
  xx = edge_index(lx, pc.in_w, pc.border);
  dr = (t.fy - float(a)) * t.sy;
  dc = (t.fx - float(b)) * t.sx;
}

float blend(Taps t, int c) {
  int n = t.nx * t.ny;
  int yy, xx;
  float dr, dc;
  float qmin = 3.4e38f;
  if (pc.gaussian != 0)
    for (int j = 0; j < n; ++j) {
      neighbour(t, j, yy, xx, dr, dc);
      qmin = min(qmin, neighbour_q(yy, xx, c, dr, dc));
    }
  float wsum = 0.0f, acc = 0.0f;
  int best = 0;
  float best_d = 3.4e38f;
  for (int j = 0; j < n; ++j) {
    neighbour(t, j, yy, xx, dr, dc);
    float w = pc.gaussian != 0 ? exp(qmin - neighbour_q(yy, xx, c, dr, dc)) : neighbour_l(yy, xx, c, dr, dc);
    wsum += w;
    acc += w * pixel(yy, xx, c);
    float d = abs(dr) + abs(dc);
    if (d < best_d) {
      best_d = d;
      best = j;
    }
  }
  if (wsum > 1e-20f) return acc / wsum;
  // All weights zero (LeRF-L far from every neighbour): the nearest neighbour.
  neighbour(t, best, yy, xx, dr, dc);
  return pixel(yy, xx, c);
}

uint sample_at(int i) {
  int c = i % pc.ch;
  int ox = (i / pc.ch) % pc.out_w;
  int oy = i / (pc.ch * pc.out_w);
  Taps t;
  if (pc.separable != 0) {
    AxisEntry ex = axis[pc.axis_off + ox], ey = axis[pc.axis_off + pc.out_w + oy];
    if (pc.border == LERF_VK_BORDER_CONSTANT && (ex.inside == 0u || ey.inside == 0u))
      return border_byte(pc.border_value, c);
    t.left_x = ex.base + pc.off_x;
    t.left_y = ey.base + pc.off_y;
    t.fx = ex.frac - float(pc.off_x);
    t.fy = ey.frac - float(pc.off_y);
    t.nx = pc.n_x;
    t.ny = pc.n_y;
    t.sx = pc.s_x;
    t.sy = pc.s_y;
  } else {
    float u, v;
    bool valid = map_point(pc.m, ox, oy, u, v);
    if (!valid || (pc.border == LERF_VK_BORDER_CONSTANT && !(inside_axis(u, pc.in_w) && inside_axis(v, pc.in_h))))
      return border_byte(pc.border_value, c);
    // 2x2 where the warp magnifies, the downscaling rule where it minifies (kernels.inc).
    float w = pc.m[6] * float(ox) + pc.m[7] * float(oy) + pc.m[8];
    float su = lerf_warp_stretch(pc.m[0], pc.m[1], pc.m[6], pc.m[7], u, w);
    float sv = lerf_warp_stretch(pc.m[3], pc.m[4], pc.m[6], pc.m[7], v, w);
    t.nx = lerf_warp_taps(su);
    t.ny = lerf_warp_taps(sv);
    t.left_x = int(lerf_warp_first_tap(u, t.nx));
    t.left_y = int(lerf_warp_first_tap(v, t.ny));
    t.fx = u - float(t.left_x);
    t.fy = v - float(t.left_y);
    t.sx = 1.0f / su;
    t.sy = 1.0f / sv;
  }
  return to_byte(blend(t, c));
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
