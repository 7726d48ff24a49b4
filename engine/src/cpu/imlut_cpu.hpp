// IM-LUT on the CPU (internal to the engine): the reference implementation of
// docs/IMLUT.md / lerf/shared/imlut.inc, with the K component interpolations rendered by the
// backend's own classical and lerf-g paths (fast paths when the backend has them).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_methods.hpp"
#include "lerf/backend.hpp"

namespace lerf::cpu {

class FastCpu;

// Phase-1 result: the lerf-g component's analysis (when mixed) and the integer logit sums,
// acc[((y * w + x) * channels + c) * columns + bin * K + k].
struct ImLutAnalysis : PlaneAnalysis {
  std::shared_ptr<const PlaneAnalysis> lerf;
  std::vector<std::int16_t> acc;
  int columns = 0;
  bool deferred = false;  // fast path: acc left empty, the sums are taken from the job's input
};

// The CPU backend's IM-LUT state: one fast-path instance per component (their plan caches
// are per kernel), none on the reference path.
class ImLutCpu {
 public:
  ImLutCpu(const MethodSetup& setup, bool fast);
  ~ImLutCpu();
  std::shared_ptr<const PlaneAnalysis> analyse(ConstPlaneView in, ThreadPool& pool);
  void render(const PlaneAnalysis& analysis, const PlaneJob& job, ThreadPool& pool);

 private:
  void render_components(const ImLutAnalysis& an, const PlaneJob& job, ThreadPool& pool);
  // Fast path of separable maps (imlut_fast.cpp): the sums of the two bins in use only,
  // from tables of 16 columns (bin b0's K, bin b1's K, zero padding); bit-exact with the reference.
  void render_fast_separable(const ImLutAnalysis& an, const PlaneJob& job, ThreadPool& pool);

  MethodSetup setup_;
  std::vector<std::unique_ptr<FastCpu>> fast_;  // per component; empty: reference path
  std::vector<Plane> comp_;                     // the component renders, reused
  int sub_b0_ = -1, sub_b1_ = -1;               // bins of sub_ (fast path)
  std::array<std::vector<std::int8_t>, kLutPatterns> sub_;
  std::vector<std::uint8_t> padded_;
  std::vector<float> logits_;
};

// Tests: makes the fast path sum the logits with the portable loop instead of the best one
// this CPU has (AVX2), so both are checked against the reference on one machine.
void imlut_use_portable_sums(bool portable);

// The area scale of output pixel (x, y) of a map: sqrt(sh * sw) for rescaling, 1 / sqrt(|det J|)
// of the output-to-input Jacobian for warps (0 where the map is invalid).
double imlut_local_scale(const CoordinateMap& map, int x, int y);

}  // namespace lerf::cpu
