// LeRF's LUT stages on the GPU (methods.md 1(a)): the sum of the 3 patterns x 4 rotations of
// 4-simplex-interpolated lookups at one pixel of one channel, as the CPU's lerf_stage1/2.
// The including shader declares `src` (packed 8-bit plane) and `lut` (packed int8 tables).

// Sum of the interpolated values (LUT units) of output k of table `table` (byte offset of its
// first entry, `outputs` values per vertex) at samples a..d.
float simplex_lookup(int table, int outputs, int k, int a, int b, int c, int d) {
  int f0 = a & 15, f1 = b & 15, f2 = c & 15, f3 = d & 15;
  int r0 = lerf_simplex_rank(f0, f1, f2, f3, 0), r1 = lerf_simplex_rank(f0, f1, f2, f3, 1);
  int r2 = lerf_simplex_rank(f0, f1, f2, f3, 2), r3 = lerf_simplex_rank(f0, f1, f2, f3, 3);
  int s0 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 0);
  int s1 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 1);
  int s2 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 2);
  int s3 = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, 3);
  int v = (a >> 4) * lerf_lut_stride(0) + (b >> 4) * lerf_lut_stride(1) + (c >> 4) * lerf_lut_stride(2) + (d >> 4);
  int sum = 0;
  for (int j = 0; j <= 4; ++j) {
    sum += lerf_simplex_weight(s0, s1, s2, s3, j) * LOAD_SBYTE(lut, table + v * outputs + k);
    if (j < 4) v += lerf_simplex_step(r0, r1, r2, r3, j);
  }
  return float(sum) * (1.0f / 16.0f);
}

// Lookups of all patterns and rotations at pixel (y, x), channel c of the w x h x ch plane
// `src`; table_of(p, r) gives the byte offset of the table for pattern p, rotation r.
#define LUT_ACCUMULATE(acc, y, x, c, w, h, ch, outputs, k, table_of)                              \
  for (int p = 0; p < lerf_lut_patterns; ++p)                                                      \
    for (int r = 0; r < lerf_lut_rotations; ++r) {                                                 \
      int s[4];                                                                                    \
      for (int q = 0; q < 4; ++q) {                                                                \
        int di = lerf_pattern_row(p, q), dj = lerf_pattern_col(p, q);                              \
        int yy = clamp((y) + lerf_rotate_row(di, dj, r), 0, (h) - 1);                              \
        int xx = clamp((x) + lerf_rotate_col(di, dj, r), 0, (w) - 1);                              \
        s[q] = LOAD_BYTE(src, (yy * (w) + xx) * (ch) + (c));                                       \
      }                                                                                            \
      acc += simplex_lookup(table_of(p, r), outputs, k, s[0], s[1], s[2], s[3]);                   \
    }

// numpy/torch round half to even of the clipped value.
uint round_clip(float v) { return uint(roundEven(clamp(v, 0.0f, 255.0f))); }
