#version 450
// IM-LUT phase 2 on the GPU (docs/IMLUT.md): per output sample, the mixing weights from the
// bilinearly interpolated, bin-interpolated logits of the 4 input neighbours (imlut.inc), and
// the weighted sum of the K component renders (each already rounded to bytes by its own
// shader), as the CPU's ImLutCpu::render. Separable maps take the neighbours, weights and
// border decisions from a per-axis table the host computed in double as the CPU does, and the
// scale position from the push constants; warps map each pixel in float and take the scale
// from the local Jacobian (1 / sqrt(|det J|), the CPU's imlut_local_scale in float).
#include "common.glsl"
#include "common_axis.glsl"
#include "lerf/shared/imlut.inc"

layout(std430, binding = 0) readonly buffer Sums { uint sums[]; };   // int16 pairs (imlut_sums.comp)
layout(std430, binding = 1) readonly buffer Comps { uint comps[]; }; // K packed output planes
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Params {
  int in_w, in_h, ch, out_w;
  int out_h, K, separable, border;
  uint border_value;
  int out_bytes;
  int comp_stride;      // bytes between component planes in comps
  int stride;           // int16 sums per pixel and channel (2 * pairs of imlut_sums)
  int bin_lo, bin_hi;   // the bins whose sums are stored (bin_lo's K columns first)
  int bins;             // the model's bin count S
  int affine;           // mixing: affine (1) or softmax (0)
  int axis_off;         // separable: first entry of this pass's axis table
  float t;              // separable: the scale position (bin units)
  float scale_first, scale_step;
  float m[9];
} pc;

int sum_at(int i) { return bitfieldExtract(int(sums[uint(i) >> 1u]), int((uint(i) & 1u) * 16u), 16); }

// Float version of the CPU's imlut_local_scale for a homography: 1 / sqrt(|det J|) at (x, y).
float warp_scale(int x, int y) {
  float fx = float(x), fy = float(y);
  float w = pc.m[6] * fx + pc.m[7] * fy + pc.m[8];
  if (!(abs(w) > 1e-12f)) return 0.0f;
  float u = (pc.m[0] * fx + pc.m[1] * fy + pc.m[2]) / w, v = (pc.m[3] * fx + pc.m[4] * fy + pc.m[5]) / w;
  float ux = (pc.m[0] - u * pc.m[6]) / w, uy = (pc.m[1] - u * pc.m[7]) / w;
  float vx = (pc.m[3] - v * pc.m[6]) / w, vy = (pc.m[4] - v * pc.m[7]) / w;
  float det = abs(ux * vy - uy * vx);
  if (!(det > 0.0f) || isinf(det)) return 0.0f;
  return 1.0f / sqrt(det);
}

float safe_coordinate(float x, int n) { return clamp(x, -1e6f, float(n) + 1e6f); }

uint sample_at(int i) {
  int c = i % pc.ch;
  int ox = (i / pc.ch) % pc.out_w;
  int oy = i / (pc.ch * pc.out_w);
  int lx, ly;
  float wx1, wy1, t;
  if (pc.separable != 0) {
    AxisEntry ex = axis[pc.axis_off + ox], ey = axis[pc.axis_off + pc.out_w + oy];
    if (pc.border == LERF_VK_BORDER_CONSTANT && (ex.inside == 0u || ey.inside == 0u))
      return border_byte(pc.border_value, c);
    lx = ex.base;
    wx1 = ex.frac;
    ly = ey.base;
    wy1 = ey.frac;
    t = pc.t;
  } else {
    float u, v;
    bool valid = map_point(pc.m, ox, oy, u, v);
    if (!valid || (pc.border == LERF_VK_BORDER_CONSTANT && !(inside_axis(u, pc.in_w) && inside_axis(v, pc.in_h))))
      return border_byte(pc.border_value, c);
    float fu = safe_coordinate(u, pc.in_w), fv = safe_coordinate(v, pc.in_h);
    lx = imlut_left(fu, pc.in_w);
    ly = imlut_left(fv, pc.in_h);
    wx1 = imlut_frac(fu, pc.in_w);
    wy1 = imlut_frac(fv, pc.in_h);
    t = imlut_scale_position(warp_scale(ox, oy), pc.scale_first, pc.scale_step, pc.bins);
  }
  int rx = min(lx + 1, pc.in_w - 1), ry = min(ly + 1, pc.in_h - 1);
  int b0 = imlut_bin_low(t, pc.bins), b1 = min(b0 + 1, pc.bins - 1);
  float f = pc.bins > 1 ? t - float(b0) : 0.0f;
  // Columns of b0 and b1 among the stored ones (the host stores every bin this map reaches).
  int c0 = (clamp(b0, pc.bin_lo, pc.bin_hi) - pc.bin_lo) * pc.K;
  int c1 = (clamp(b1, pc.bin_lo, pc.bin_hi) - pc.bin_lo) * pc.K;
  int a00 = ((ly * pc.in_w + lx) * pc.ch + c) * pc.stride, a01 = ((ly * pc.in_w + rx) * pc.ch + c) * pc.stride;
  int a10 = ((ry * pc.in_w + lx) * pc.ch + c) * pc.stride, a11 = ((ry * pc.in_w + rx) * pc.ch + c) * pc.stride;
  float z[imlut_max_components];
  float zmax = -3.4e38f, zsum = 0.0f;
  for (int k = 0; k < pc.K; ++k) {
    float l00 = imlut_bin_logit(float(sum_at(a00 + c0 + k)), float(sum_at(a00 + c1 + k)), f);
    float l01 = imlut_bin_logit(float(sum_at(a01 + c0 + k)), float(sum_at(a01 + c1 + k)), f);
    float l10 = imlut_bin_logit(float(sum_at(a10 + c0 + k)), float(sum_at(a10 + c1 + k)), f);
    float l11 = imlut_bin_logit(float(sum_at(a11 + c0 + k)), float(sum_at(a11 + c1 + k)), f);
    z[k] = imlut_bilinear(l00, l01, l10, l11, wx1, wy1);
    zmax = max(zmax, z[k]);
    zsum += z[k];
  }
  // The mixing weights in the order of the CPU's imlut_mix.
  float zmean = zsum / float(pc.K), bias = 1.0f / float(pc.K), esum = 0.0f;
  if (pc.affine == 0)
    for (int k = 0; k < pc.K; ++k) esum += (z[k] = exp(z[k] - zmax));
  float acc = 0.0f;
  for (int k = 0; k < pc.K; ++k) {
    float w = pc.affine != 0 ? z[k] - zmean + bias : z[k] / esum;
    acc += w * float(LOAD_BYTE(comps, k * pc.comp_stride + i));
  }
  return to_byte(acc);
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
