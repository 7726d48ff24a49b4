// CPU implementations of each method's two phases (internal to the engine).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lerf/job.hpp"
#include "lerf/kernels.hpp"
#include "lerf/model.hpp"
#include "lerf/thread_pool.hpp"

namespace lerf::cpu {

// Index of sample i along an axis of n samples under the border rule (Constant clamps too:
// taps of pixels inside the input are clamped, pixels outside get the border value).
inline int edge_index(int i, int n, Border border) {
  if (border == Border::Reflect) {
    int period = 2 * n;
    int m = ((i % period) + period) % period;
    return m < n ? m : period - 1 - m;
  }
  return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

// A coordinate made safe for integer conversion: non-finite or far-away values (from absurd
// maps) become a point well outside the input, which the border rules handle.
inline double safe_coordinate(double x, int len) {
  if (!std::isfinite(x)) return -1e6;
  return std::clamp(x, -1e6, len + 1e6);
}

// Samples along one axis for every output index of a separable map: `count` taps each, with
// their input indices and a value (a normalised weight for classical kernels, a scaled
// distance for LeRF), and whether the output's coordinate lies inside the input.
struct AxisTaps {
  int count = 0;
  std::vector<int> index;
  std::vector<float> value;
  std::vector<std::uint8_t> inside;
};

// x(o) = a * o + b for o in [0, out_len).
AxisTaps classical_axis_taps(const kernels::Classical& kernel, int in_len, int out_len, double a, double b,
                             Border border);
// reference_ties: compute the coordinates as the authors' NumPy code does (o / s + (in - 1) / 2
// - (out - 1) / (2 s) in double) and keep a distance that comes out just above 1 above 1 in
// float, so LeRF-L gives that neighbour weight 0 as the reference's `x <= 1` test does.
AxisTaps lerf_axis_taps(int in_len, int out_len, double a, double b, Border border, bool reference_ties = false);

// Maps output pixel (x, y) through a homography; false when the point has no valid input
// coordinate (behind the projection centre, or not finite).
inline bool map_point(const Matrix3& m, int x, int y, double& u, double& v) {
  double w = m.m[6] * x + m.m[7] * y + m.m[8];
  if (!(w > 1e-12)) return false;
  u = (m.m[0] * x + m.m[1] * y + m.m[2]) / w;
  v = (m.m[3] * x + m.m[4] * y + m.m[5]) / w;
  return std::isfinite(u) && std::isfinite(v) && std::abs(u) < 1e9 && std::abs(v) < 1e9;
}

// Warps: the kernel stretch along u and v at output pixel (x, y) mapped to (u, v) (kernels.inc,
// lerf_warp_stretch: > 1 where the warp minifies along that axis).
inline void warp_stretch(const Matrix3& m, int x, int y, double u, double v, float& su, float& sv) {
  const auto w = static_cast<float>(m.m[6] * x + m.m[7] * y + m.m[8]);
  const auto m6 = static_cast<float>(m.m[6]), m7 = static_cast<float>(m.m[7]);
  su = kernels::lerf_warp_stretch(static_cast<float>(m.m[0]), static_cast<float>(m.m[1]), m6, m7,
                                  static_cast<float>(u), w);
  sv = kernels::lerf_warp_stretch(static_cast<float>(m.m[3]), static_cast<float>(m.m[4]), m6, m7,
                                  static_cast<float>(v), w);
}

inline bool inside_plane(double u, double v, int w, int h) {
  return u >= -0.5 && u <= w - 0.5 && v >= -0.5 && v <= h - 0.5;
}

inline std::uint8_t to_byte(float v) {
  return static_cast<std::uint8_t>(v <= 0.0f ? 0 : (v >= 255.0f ? 255 : static_cast<int>(v + 0.5f)));
}

void render_classical(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool);
// One output pixel of a warp (all channels) at input position (u, v), the kernel widened by the
// local stretch (su, sv) (warp_stretch): what render_classical writes there.
void classical_warp_pixel(const kernels::Classical& kernel, const PlaneJob& job, double u, double v, float su,
                          float sv, std::uint8_t* dst);

// Phase-1 result of LeRF: the stage-1 image and per-pixel hyperparameter bytes.
struct LerfAnalysis : PlaneAnalysis {
  Plane filtered;
  std::vector<std::uint8_t> hyper;  // (y * w + x) * channels * outputs + c * outputs + k
  int outputs = 0;                  // 3 (G: rho, sx, sy) or 1 (L: a)
  // Fast paths only (empty from the reference analysis): per pixel and channel one 32-bit
  // word, bytes 0..outputs-1 = hyper, byte 3 = filtered sample; index (y * w + x) * channels + c.
  std::vector<std::uint32_t> packed;
};

// The plain reference implementations (fresh tables on every call, whole-image buffers).
void analyse_lerf(const LutModel& lut, ConstPlaneView in, LerfAnalysis& out, ThreadPool& pool);
void render_lerf(bool gaussian, const LerfAnalysis& analysis, const PlaneJob& job, ThreadPool& pool,
                 bool reference_quirks = false);

}  // namespace lerf::cpu
