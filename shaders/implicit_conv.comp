#version 450
// The implicit methods' analysis (docs/IMPLICIT.md): one 3x3 convolution (zero padding) or
// per-pixel linear layer over float HWC planes, one item per output value. Weights in torch
// layout (row o: in * 9 values, or in for taps = 1, at w_off + o * w_row), bias at b_off.
// Sources: the packed input bytes (the encoder's head, one channel of the plane, normalised)
// or the scratch buffer; destinations: the scratch buffer or the analysis's field.
#include "common.glsl"
#include "implicit.glsl"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) buffer Scratch { float scratch[]; };
layout(std430, binding = 2) buffer Field { float field[]; };
layout(std430, binding = 3) readonly buffer Weights { float wts[]; };

layout(push_constant) uniform Params {
  int W, H, cin, cout;
  int y0, rows, taps, mode;         // rows [y0, y0 + rows); taps 9 or 1; mode 0 set, 1 set + ReLU, 2 add
  int from_bytes, ch, channel, to_field;
  uint in_off, in_y0, in_stride;    // source value (x, y, c) at in_off + ((y - in_y0) W + x) in_stride + c
  uint out_off, out_y0, out_stride, out_col;
  uint w_off, w_row, b_off;
} pc;

float value_at(int x, int y, int c) {
  if (pc.from_bytes != 0) return implicit_normalise(float(LOAD_BYTE(src, (y * pc.W + x) * pc.ch + pc.channel)));
  return scratch[pc.in_off + (uint(y) - pc.in_y0) * uint(pc.W) * pc.in_stride + uint(x) * pc.in_stride + uint(c)];
}

void main() {
  FOR_EACH_ITEM(item, pc.rows * pc.W * pc.cout) {
    int o = int(item % uint(pc.cout));
    int pixel = int(item / uint(pc.cout));
    int x = pixel % pc.W, y = pc.y0 + pixel / pc.W;
    float acc = wts[pc.b_off + uint(o)];
    uint row = pc.w_off + uint(o) * pc.w_row;
    if (pc.taps == 9) {
      for (int ci = 0; ci < pc.cin; ++ci)
        for (int ky = 0; ky < 3; ++ky) {
          int yy = y + ky - 1;
          if (yy < 0 || yy >= pc.H) continue;
          for (int kx = 0; kx < 3; ++kx) {
            int xx = x + kx - 1;
            if (xx < 0 || xx >= pc.W) continue;
            acc += wts[row + uint(ci * 9 + ky * 3 + kx)] * value_at(xx, yy, ci);
          }
        }
    } else {
      for (int ci = 0; ci < pc.cin; ++ci) acc += wts[row + uint(ci)] * value_at(x, y, ci);
    }
    uint dst = pc.out_off + (uint(y) - pc.out_y0) * uint(pc.W) * pc.out_stride + uint(x) * pc.out_stride + pc.out_col +
               uint(o);
    if (pc.mode == 1) acc = max(acc, 0.0f);
    if (pc.to_field != 0) {
      if (pc.mode == 2) acc += field[dst];
      field[dst] = acc;
    } else {
      if (pc.mode == 2) acc += scratch[dst];
      scratch[dst] = acc;
    }
  }
}
