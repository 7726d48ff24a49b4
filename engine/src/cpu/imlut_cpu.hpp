// IM-LUT on the CPU (internal to the engine): the reference implementation of
// docs/IMLUT.md / lerf/shared/imlut.inc, with the K component interpolations rendered by the
// backend's own classical and lerf-g paths (fast paths when the backend has them).
#pragma once

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
  MethodSetup setup_;
  std::vector<std::unique_ptr<FastCpu>> fast_;  // per component; empty: reference path
};

// The area scale of output pixel (x, y) of a map: sqrt(sh * sw) for rescaling, 1 / sqrt(|det J|)
// of the output-to-input Jacobian for warps (0 where the map is invalid).
double imlut_local_scale(const CoordinateMap& map, int x, int y);

}  // namespace lerf::cpu
