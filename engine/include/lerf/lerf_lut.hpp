// LeRF's hyperparameter predictor on the CPU: the two LUT stages of methods.md
// section 1(a). This is the reference the Vulkan shaders and the LUT fine-tuning match.
#pragma once

#include <array>
#include <cstdint>

#include "lerf/image.hpp"
#include "lerf/model.hpp"

namespace lerf {

class ThreadPool;

// Sample offsets (row, col) of the receptive-field patterns at rotation 0, in LUT index order
// (from lut.inc: s = 2x2, c = 1x4 row, t = diagonal).
inline constexpr auto kLutPatternOffsets = [] {
  std::array<std::array<std::array<int, 2>, 4>, kLutPatterns> o{};
  for (int p = 0; p < kLutPatterns; ++p)
    for (int k = 0; k < 4; ++k) o[p][k] = {lut::lerf_pattern_row(p, k), lut::lerf_pattern_col(p, k)};
  return o;
}();

// Offset of a pattern sample in the original image when the pattern is applied to the image
// rotated by `rotation` quarter turns counter-clockwise (numpy rot90) and the result rotated
// back: rotation r maps a rotated-frame offset (di, dj) to (di, dj), (dj, -di), (-di, -dj), (-dj, di).
constexpr std::array<int, 2> rotate_offset(std::array<int, 2> o, int rotation) {
  return {lut::lerf_rotate_row(o[0], o[1], rotation), lut::lerf_rotate_col(o[0], o[1], rotation)};
}

// 4-simplex interpolation of a LUT with `outputs` values per vertex at the four 8-bit samples
// (a, b, c, d): adds the interpolated values (LUT units, not rounded) to acc[0..outputs).
// The walk (LSBs ranked descending, ties in the order a, b, c, d) is lut.inc's, as in the shaders.
inline void simplex_interpolate_add(const std::int8_t* lut, int outputs, std::uint8_t a, std::uint8_t b,
                                    std::uint8_t c, std::uint8_t d, float* acc) {
  using namespace lerf::lut;
  const int f0 = a & 15, f1 = b & 15, f2 = c & 15, f3 = d & 15;
  const int r0 = lerf_simplex_rank(f0, f1, f2, f3, 0), r1 = lerf_simplex_rank(f0, f1, f2, f3, 1);
  const int r2 = lerf_simplex_rank(f0, f1, f2, f3, 2), r3 = lerf_simplex_rank(f0, f1, f2, f3, 3);
  int s[4], v[5], w[5];
  for (int k = 0; k < 4; ++k) s[k] = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, k);
  v[0] = (a >> 4) * lerf_lut_stride(0) + (b >> 4) * lerf_lut_stride(1) + (c >> 4) * lerf_lut_stride(2) + (d >> 4);
  for (int k = 0; k < 4; ++k) v[k + 1] = v[k] + lerf_simplex_step(r0, r1, r2, r3, k);
  for (int k = 0; k < 5; ++k) w[k] = lerf_simplex_weight(s[0], s[1], s[2], s[3], k);
  for (int k = 0; k < outputs; ++k) {
    int sum = 0;
    for (int j = 0; j < 5; ++j) sum += w[j] * lut[v[j] * outputs + k];
    acc[k] += static_cast<float>(sum) * (1.0f / 16.0f);
  }
}

// Stage 1 (pre-filter) of one channel: out = round(clip(sum of 12 lookups / 3, 0, 255)).
// `in`/`out` may have several interleaved channels; `channel` selects one.
void lerf_stage1(const LutModel& lut, ConstPlaneView in, int channel, PlaneView out, ThreadPool& pool);

// Stage 2 (hyperparameters) of one channel of the stage-1 image: for every pixel, outputs
// bytes h = round(clip(sum of 12 lookups / 12 + 127, 0, 255)) written to
// hyper[(y * width + x) * stride + channel * outputs + k].
void lerf_stage2(const LutModel& lut, ConstPlaneView feat, int channel, std::uint8_t* hyper, int stride,
                 ThreadPool& pool);

}  // namespace lerf
