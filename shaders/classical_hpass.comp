#version 450
// Classical separable rescaling, pass 1: every input row filtered horizontally into float
// rows of the output width (tmp[(y * out_w + ox) * ch + c]). Taps as the CPU's
// classical_axis_taps: kernel widened by 1 / scale when downscaling, weights normalised.
#include "common.glsl"
#include "classical.glsl"
#include "common_axis.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Tmp { float tmp[]; };

layout(push_constant) uniform Params {
  int in_w, in_h, ch, out_w;
  int kernel, taps, border, axis_off;  // axis_off: first entry of this pass's axis table
  float stretch;  // max(1, 1 / scale)
  float cubic_a;
} pc;

void main() {
  FOR_EACH_ITEM(t, pc.in_h * pc.out_w * pc.ch) {
    int i = int(t);
    int c = i % pc.ch;
    int o = (i / pc.ch) % pc.out_w;
    int y = i / (pc.ch * pc.out_w);
    int row = y * pc.in_w * pc.ch + c;
    AxisEntry e = axis[pc.axis_off + o];
    float result;
    if (pc.kernel == LERF_VK_KERNEL_NEAREST) {
      result = float(LOAD_BYTE(src, row + edge_index(e.base, pc.in_w, pc.border) * pc.ch));
    } else {
      float sum = 0.0f, acc = 0.0f;
      for (int k = 0; k < pc.taps; ++k) {
        float w = classical_kernel(pc.kernel, (e.frac - float(k)) / pc.stretch, pc.cubic_a);
        sum += w;
        acc += w * float(LOAD_BYTE(src, row + edge_index(e.base + k, pc.in_w, pc.border) * pc.ch));
      }
      int nearest = edge_index(e.base + int(floor(e.frac + 0.5f)), pc.in_w, pc.border);
      result = abs(sum) > 1e-9f ? acc / sum : float(LOAD_BYTE(src, row + nearest * pc.ch));
    }
    tmp[t] = result;
  }
}
