#version 450
// IM-LUT phase 1 on the GPU (docs/IMLUT.md, lerf/shared/imlut.inc): per input pixel and
// channel, the integer sums (16ths of a LUT unit) of the 3 patterns x 4 rotations of
// 4-simplex-interpolated look-ups in the mixing tables, for the columns of the scale bins the
// render uses only. One invocation per 2 columns (one uint of two int16), as the CPU's
// imlut_logit_sums (integer maths: bit-exact).
#include "common.glsl"
#include "lerf/shared/imlut.inc"

layout(std430, binding = 0) readonly buffer Src { uint src[]; };   // the input plane
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };  // int16 pairs
layout(std430, binding = 3) readonly buffer Lut { uint lut[]; };   // imlut_s, _c, _t: int8 (17^4, columns)

layout(push_constant) uniform Params {
  int w, h, ch;
  int columns;  // S * K: the tables' row length
  int col0;     // first table column stored
  int ncols;    // columns stored per pixel and channel
  int pairs;    // ceil(ncols / 2): uints per pixel and channel
  int words;    // w * h * ch * pairs
} pc;

void main() {
  FOR_EACH_ITEM(word, pc.words) {
    int q = int(word) % pc.pairs;
    int pix = int(word) / pc.pairs;
    int c = pix % pc.ch;
    int x = (pix / pc.ch) % pc.w;
    int y = pix / (pc.ch * pc.w);
    int j0 = pc.col0 + 2 * q;
    bool second = 2 * q + 1 < pc.ncols;
    int sum0 = 0, sum1 = 0;
    for (int p = 0; p < lerf_lut_patterns; ++p) {
      int table = p * lerf_lut_entries * pc.columns;
      for (int r = 0; r < lerf_lut_rotations; ++r) {
        int s[4];
        for (int k = 0; k < 4; ++k) {
          int di = lerf_pattern_row(p, k), dj = lerf_pattern_col(p, k);
          int yy = clamp(y + lerf_rotate_row(di, dj, r), 0, pc.h - 1);
          int xx = clamp(x + lerf_rotate_col(di, dj, r), 0, pc.w - 1);
          s[k] = LOAD_BYTE(src, (yy * pc.w + xx) * pc.ch + c);
        }
        int f0 = s[0] & 15, f1 = s[1] & 15, f2 = s[2] & 15, f3 = s[3] & 15;
        int r0 = lerf_simplex_rank(f0, f1, f2, f3, 0), r1 = lerf_simplex_rank(f0, f1, f2, f3, 1);
        int r2 = lerf_simplex_rank(f0, f1, f2, f3, 2), r3 = lerf_simplex_rank(f0, f1, f2, f3, 3);
        int o0 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 0);
        int o1 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 1);
        int o2 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 2);
        int o3 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 3);
        int v = (s[0] >> 4) * lerf_lut_stride(0) + (s[1] >> 4) * lerf_lut_stride(1) +
                (s[2] >> 4) * lerf_lut_stride(2) + (s[3] >> 4);
        for (int j = 0; j <= 4; ++j) {
          int wgt = lerf_simplex_weight(o0, o1, o2, o3, j);
          if (wgt != 0) {
            int row = table + v * pc.columns + j0;
            sum0 += wgt * LOAD_SBYTE(lut, row);
            if (second) sum1 += wgt * LOAD_SBYTE(lut, row + 1);
          }
          if (j < 4) v += lerf_simplex_step(r0, r1, r2, r3, j);
        }
      }
    }
    dst[word] = (uint(sum0) & 0xFFFFu) | (uint(sum1) << 16u);
  }
}
