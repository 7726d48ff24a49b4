#version 450
// LeRF phase 1, stage 1 (pre-filter): feat = round(clip(sum of 12 lookups / 3, 0, 255)) per
// channel, one invocation per 4 packed output bytes.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(std430, binding = 3) readonly buffer Lut { uint lut[]; };  // stage-1 tables s, c, t

#include "lerf_lut.glsl"

layout(push_constant) uniform Params {
  int w, h, ch, bytes;
} pc;

#define STAGE1_TABLE(p, r) ((p) * lerf_lut_entries)

uint sample_at(int i) {
  int c = i % pc.ch;
  int x = (i / pc.ch) % pc.w;
  int y = i / (pc.ch * pc.w);
  float acc = 0.0f;
  LUT_ACCUMULATE(acc, y, x, c, pc.w, pc.h, pc.ch, 1, 0, STAGE1_TABLE)
  return round_clip(acc / 3.0f);
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
