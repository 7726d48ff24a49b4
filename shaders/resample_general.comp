#version 450
// Classical kernels at arbitrary coordinates (homography warps): the kernel evaluated at
// each output pixel's own input position over a 2 ceil(radius su) x 2 ceil(radius sv) window,
// the kernel widened by the warp's local stretch where it minifies, as the CPU's render_general.
#include "common.glsl"
#include "classical.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
#include "classical_warp.glsl"

layout(push_constant) uniform Params {
  int in_w, in_h, ch, out_w;
  int out_h, kernel, r, border;  // r = ceil(kernel radius)
  uint border_value;
  int out_bytes;
  float cubic_a;
  float m[9];  // output pixel -> input coordinate (homogeneous, row-major)
} pc;

uint sample_at(int i) {
  int c = i % pc.ch;
  int ox = (i / pc.ch) % pc.out_w;
  int oy = i / (pc.ch * pc.out_w);
  float u, v;
  bool valid = map_point(pc.m, ox, oy, u, v);
  if (!valid || (pc.border == LERF_VK_BORDER_CONSTANT && !(inside_axis(u, pc.in_w) && inside_axis(v, pc.in_h))))
    return border_byte(pc.border_value, c);
  return to_byte(classical_warp_sample(pc.kernel, pc.cubic_a, pc.r, pc.m, ox, oy, u, v, pc.in_w, pc.in_h, pc.ch,
                                       pc.border, c));
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
