// IM-LUT (ICCV 2025, our design: docs/IMLUT.md): every output pixel is a softmax-weighted
// mix of K interpolations of the input (classical kernels and lerf-g), the mixing logits
// looked up per input pixel from pattern LUTs indexed by the local 4-pixel pattern and the
// target scale (discretised into bins, linear in between), bilinearly interpolated to the
// output position.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>

#include "lerf/image.hpp"
#include "lerf/model.hpp"

namespace lerf {

class ThreadPool;

namespace imlut {
#define LERF_FN constexpr inline
#define LERF_CONST inline constexpr
using std::floor;
using std::max;
using std::min;
#include "lerf/shared/imlut.inc"
#undef LERF_FN
#undef LERF_CONST
}  // namespace imlut

// True when `dir` holds an IM-LUT model (imlut_s.npy).
bool has_imlut_files(const std::filesystem::path& dir);
// Loads an IM-LUT model folder: model.json ("method": "im-lut", "components": [names],
// "scale_bins": [uniformly spaced scales]), imlut_{s,c,t}.npy int8 (17^4, bins * K), and for
// a lerf-g component the LeRF-G tables in the subfolder lerf-g/. Throws lerf::Error naming
// the file and the problem.
Model load_imlut_model(const std::filesystem::path& dir);

// Phase 1 of one channel: the integer logit sums (imlut.inc) of every pixel, written to
// acc[(y * width + x) * stride + channel * columns + column].
void imlut_logit_sums(const ImLutModel& model, ConstPlaneView in, int channel, std::int16_t* acc, int stride,
                      ThreadPool& pool);

// Scale position (bin units) of the area scale s for this model's bins.
inline float imlut_scale_position(const ImLutModel& m, double s) {
  return imlut::imlut_scale_position(static_cast<float>(s), m.scale_first, m.scale_step, m.scale_bins);
}

// Logit of component k at one input pixel from its integer sums `a` (all columns) for bins
// b0, b1 with weight f of b1.
inline float imlut_pixel_logit(const std::int16_t* a, int K, int b0, int b1, float f, int k) {
  return imlut::imlut_bin_logit(a[b0 * K + k], a[b1 * K + k], f);
}

// Bilinear interpolation of the 4 neighbours' logits l[j][k] into z[k], then the weights.
template <typename LogitFn>
inline void imlut_mix(const ImLutModel& m, LogitFn logit, float wx1, float wy1, float* w) {
  const int K = static_cast<int>(m.components.size());
  float zmax = -3.4e38f, zsum = 0;
  for (int k = 0; k < K; ++k) {
    w[k] = imlut::imlut_bilinear(logit(0, k), logit(1, k), logit(2, k), logit(3, k), wx1, wy1);
    zmax = std::max(zmax, w[k]);
    zsum += w[k];
  }
  if (m.affine) {
    const float zmean = zsum / static_cast<float>(K), bias = 1.0f / static_cast<float>(K);
    for (int k = 0; k < K; ++k) w[k] = w[k] - zmean + bias;
    return;
  }
  float esum = 0;
  for (int k = 0; k < K; ++k) esum += (w[k] = std::exp(w[k] - zmax));
  for (int k = 0; k < K; ++k) w[k] /= esum;
}

// The K mixing weights (sum 1) of one output pixel and channel: a[j] points at the channel's
// logit sums (all columns) of bilinear neighbour j (00, 01, 10, 11), wx1 / wy1 the weights of
// the right / lower neighbours, t the scale position. Writes w[0..K).
inline void imlut_weights(const ImLutModel& m, const std::int16_t* const a[4], float wx1, float wy1, float t,
                          float* w) {
  const int K = static_cast<int>(m.components.size()), S = m.scale_bins;
  const int b0 = imlut::imlut_bin_low(t, S), b1 = std::min(b0 + 1, S - 1);
  const float f = S > 1 ? t - static_cast<float>(b0) : 0.0f;
  imlut_mix(m, [&](int j, int k) { return imlut_pixel_logit(a[j], K, b0, b1, f, k); }, wx1, wy1, w);
}

}  // namespace lerf
