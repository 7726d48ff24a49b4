#version 450
// Classical kernels at arbitrary coordinates (homography warps): the kernel evaluated at
// each output pixel's own input position over a (2 ceil(radius))^2 window, as the CPU's
// render_general (no antialiasing).
#include "common.glsl"
#include "classical.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

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
  if (pc.kernel == LERF_VK_KERNEL_NEAREST) {
    int yy = edge_index(int(floor(v + 0.5f)), pc.in_h, pc.border);
    int xx = edge_index(int(floor(u + 0.5f)), pc.in_w, pc.border);
    return uint(LOAD_BYTE(src, (yy * pc.in_w + xx) * pc.ch + c));
  }
  int n = 2 * pc.r;
  int bx = int(floor(u)) - pc.r + 1, by = int(floor(v)) - pc.r + 1;
  float sx = 0.0f, sy = 0.0f;
  for (int k = 0; k < n; ++k) {
    sx += classical_kernel(pc.kernel, u - float(bx + k), pc.cubic_a);
    sy += classical_kernel(pc.kernel, v - float(by + k), pc.cubic_a);
  }
  float acc = 0.0f;
  for (int j = 0; j < n; ++j) {
    int row = edge_index(by + j, pc.in_h, pc.border) * pc.in_w;
    float racc = 0.0f;
    for (int k = 0; k < n; ++k)
      racc += classical_kernel(pc.kernel, u - float(bx + k), pc.cubic_a) *
              float(LOAD_BYTE(src, (row + edge_index(bx + k, pc.in_w, pc.border)) * pc.ch + c));
    acc += classical_kernel(pc.kernel, v - float(by + j), pc.cubic_a) * racc;
  }
  return to_byte(acc / (sx * sy));
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
