#version 450
// LeRF phase 1, stage 2 (hyperparameters) on the stage-1 image: h = round(clip(sum of 12
// lookups / 12 + 127, 0, 255)), rotations 0 and 2 with table r0, 1 and 3 with r1. Output
// bytes at ((y * w + x) * ch + c) * outputs + k, one invocation per 4 of them.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };  // stage-1 image
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(std430, binding = 3) readonly buffer Lut { uint lut[]; };  // tables (p, r & 1)

#include "lerf_lut.glsl"

layout(push_constant) uniform Params {
  int w, h, ch, outputs;
  int bytes;
} pc;

#define STAGE2_TABLE(p, r) (((p) * 2 + ((r) & 1)) * lerf_lut_entries * pc.outputs)

uint sample_at(int i) {
  int k = i % pc.outputs;
  int c = (i / pc.outputs) % pc.ch;
  int px = i / (pc.outputs * pc.ch);
  int x = px % pc.w;
  int y = px / pc.w;
  float acc = 0.0f;
  LUT_ACCUMULATE(acc, y, x, c, pc.w, pc.h, pc.ch, pc.outputs, k, STAGE2_TABLE)
  return round_clip(acc / 12.0f + 127.0f);
}

void main() {
  FOR_EACH_ITEM(word, (pc.bytes + 3) / 4) {
    uint packed = 0u;
    for (int j = 0; j < 4; ++j) {
      int i = int(word) * 4 + j;
      if (i < pc.bytes) packed |= sample_at(i) << (8u * uint(j));
    }
    dst[word] = packed;
  }
}
