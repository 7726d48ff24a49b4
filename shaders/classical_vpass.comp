#version 450
// Classical separable rescaling, pass 2: the horizontal pass's float rows filtered
// vertically into packed output bytes; Border::Constant pixels get the border value.
#include "common.glsl"
#include "classical.glsl"
#include "common_axis.glsl"

layout(std430, binding = 1) readonly buffer Tmp { float tmp[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Params {
  int in_w, in_h, ch, out_w;
  int out_h, kernel, taps, border;
  uint border_value;  // 4 packed bytes
  int out_bytes;
  float stretch;      // max(1, 1 / vertical scale)
  float cubic_a;
  int axis_off;       // first entry of this pass's axis table (x entries, then y)
} pc;

uint sample_at(int i) {
  int c = i % pc.ch;
  int ox = (i / pc.ch) % pc.out_w;
  int oy = i / (pc.ch * pc.out_w);
  AxisEntry e = axis[pc.axis_off + pc.out_w + oy];
  if (pc.border == LERF_VK_BORDER_CONSTANT && (e.inside == 0u || axis[pc.axis_off + ox].inside == 0u))
    return border_byte(pc.border_value, c);
  int col = ox * pc.ch + c;
  int row_len = pc.out_w * pc.ch;
  if (pc.kernel == LERF_VK_KERNEL_NEAREST) return to_byte(tmp[edge_index(e.base, pc.in_h, pc.border) * row_len + col]);
  float sum = 0.0f, acc = 0.0f;
  for (int k = 0; k < pc.taps; ++k) {
    float w = classical_kernel(pc.kernel, (e.frac - float(k)) / pc.stretch, pc.cubic_a);
    sum += w;
    acc += w * tmp[edge_index(e.base + k, pc.in_h, pc.border) * row_len + col];
  }
  int nearest = edge_index(e.base + int(floor(e.frac + 0.5f)), pc.in_h, pc.border);
  return to_byte(abs(sum) > 1e-9f ? acc / sum : tmp[nearest * row_len + col]);
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
