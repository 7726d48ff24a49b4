// LeRF's hyperparameter predictor on the CPU: the two LUT stages of methods.md
// section 1(a). This is the reference the Vulkan shaders and the LUT fine-tuning match.
#pragma once

#include <array>
#include <cstdint>

#include "lerf/image.hpp"
#include "lerf/model.hpp"

namespace lerf {

class ThreadPool;

// Sample offsets (row, col) of the receptive-field patterns at rotation 0, in LUT index order.
inline constexpr std::array<std::array<std::array<int, 2>, 4>, kLutPatterns> kLutPatternOffsets = {{
    {{{0, 0}, {0, 1}, {1, 0}, {1, 1}}},  // s: 2x2
    {{{0, 0}, {0, 1}, {0, 2}, {0, 3}}},  // c: 1x4 row
    {{{0, 0}, {1, 1}, {2, 2}, {3, 3}}},  // t: diagonal
}};

// Offset of a pattern sample in the original image when the pattern is applied to the image
// rotated by `rotation` quarter turns counter-clockwise (numpy rot90) and the result rotated
// back: rotation r maps a rotated-frame offset (di, dj) to (di, dj), (dj, -di), (-di, -dj), (-dj, di).
constexpr std::array<int, 2> rotate_offset(std::array<int, 2> o, int rotation) {
  switch (rotation & 3) {
    case 0: return {o[0], o[1]};
    case 1: return {o[1], -o[0]};
    case 2: return {-o[0], -o[1]};
    default: return {-o[1], o[0]};
  }
}

// 4-simplex interpolation of a LUT with `outputs` values per vertex at the four 8-bit samples
// (a, b, c, d): adds the interpolated values (LUT units, not rounded) to acc[0..outputs).
inline void simplex_interpolate_add(const std::int8_t* lut, int outputs, std::uint8_t a, std::uint8_t b,
                                    std::uint8_t c, std::uint8_t d, float* acc) {
  constexpr int kStride[4] = {17 * 17 * 17, 17 * 17, 17, 1};
  int f[4] = {a & 15, b & 15, c & 15, d & 15};
  int order[4] = {0, 1, 2, 3};
  // Stable descending insertion sort: ties keep the order a, b, c, d. (Ties give the tied
  // step zero weight, so any tie order yields the same value.)
  for (int i = 1; i < 4; ++i)
    for (int j = i; j > 0 && f[order[j]] > f[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
  int f1 = f[order[0]], f2 = f[order[1]], f3 = f[order[2]], f4 = f[order[3]];
  int v0 = (a >> 4) * kStride[0] + (b >> 4) * kStride[1] + (c >> 4) * kStride[2] + (d >> 4);
  int v1 = v0 + kStride[order[0]];
  int v2 = v1 + kStride[order[1]];
  int v3 = v2 + kStride[order[2]];
  int v4 = v3 + kStride[order[3]];
  int w0 = 16 - f1, w1 = f1 - f2, w2 = f2 - f3, w3 = f3 - f4, w4 = f4;
  for (int k = 0; k < outputs; ++k) {
    int s = w0 * lut[v0 * outputs + k] + w1 * lut[v1 * outputs + k] + w2 * lut[v2 * outputs + k] +
            w3 * lut[v3 * outputs + k] + w4 * lut[v4 * outputs + k];
    acc[k] += static_cast<float>(s) * (1.0f / 16.0f);
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
