// LIIF, A-LIIF, LMF (+ CMSR) on the CPU (internal to the engine), docs/IMPLICIT.md.
// implicit.cpp: the shared geometry (queries, borders, cells, downscaling, CMSR) and the
// plain reference maths (scalar loops straight from the definition); implicit_fast.cpp: the
// fast path (Eigen GEMMs over row tiles and blocks of queries, query-independent first-layer
// terms precomputed per input pixel in the analysis), tested against the reference.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_methods.hpp"
#include "lerf/backend.hpp"
#include "lerf/implicit.hpp"

namespace lerf::cpu {

class FastCpu;

// One query of one channel: input coordinate (clamped into the plane) and the clipped cell.
struct ImplicitQuery {
  float qx = 0, qy = 0, cx = 1, cy = 1;
};

inline float implicit_input(std::uint8_t v) { return (static_cast<float>(v) / 255.0f - 0.5f) / 0.5f; }

// The bicubic base (Keys a = -0.5, clamped taps, weights as they are) of the normalised input.
float implicit_base(ConstPlaneView in, int channel, float qx, float qy);

// The 4 ensemble corners of a query: code pixels, relative coordinates, ensemble weights;
// and the nearest LR pixel (LMF's modulations, CMSR).
struct ImplicitCorners {
  int x[4], y[4];
  float rx[4], ry[4], w[4];
  int nx, ny;
};
void implicit_corners(float qx, float qy, int W, int H, ImplicitCorners& c);

// Output value of a network output y: non-finite (absurd weights) falls back to the base.
inline std::uint8_t implicit_byte(float y, float base) {
  if (!std::isfinite(y)) y = base;
  return to_byte((y * 0.5f + 0.5f) * 255.0f);
}

// Phase-1 result, per channel: F (reference path) or the fast path's per-pixel terms, and
// for LMF on the fast path mod(p) = mean |shift| (CMSR).
struct ImplicitAnalysis : PlaneAnalysis {
  bool fast = false;
  std::vector<std::vector<float>> field;
  std::vector<std::vector<float>> mod;
};

// The fast path's prepared weights (implicit_fast.cpp).
struct ImplicitFastNet;
struct ImplicitFastNetDeleter {
  void operator()(ImplicitFastNet* n) const;
};
std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> make_implicit_fast_net(Method method,
                                                                                 const ImplicitModel& model);
// The instruction set the fast path is built for (AVX2 + FMA when the CPU has them, unless
// LERF_IMPLICIT_ISA=baseline); set_implicit_isa (tests) affects nets made afterwards and
// returns false when the CPU lacks it.
enum class ImplicitIsa { Baseline, Avx2Fma };
ImplicitIsa implicit_isa();
bool set_implicit_isa(ImplicitIsa isa);
const char* implicit_isa_name(const ImplicitFastNet& net);
void implicit_fast_analyse(const ImplicitFastNet& net, ConstPlaneView in, int channel, std::vector<float>& field,
                           std::vector<float>& mod, ThreadPool& pool);
// y (normalised, base included) of n queries of one channel.
void implicit_fast_eval(const ImplicitFastNet& net, const float* field, ConstPlaneView in, int channel,
                        const ImplicitQuery* q, int n, float* y);

// The plain reference: F by direct convolution, everything else per query from F.
void implicit_ref_encode(const ImplicitModel& m, ConstPlaneView in, int channel, std::vector<float>& F,
                         ThreadPool& pool);
float implicit_ref_eval(Method method, const ImplicitModel& m, const float* F, ConstPlaneView in, int channel,
                        const ImplicitQuery& q);
float implicit_ref_mod(const ImplicitModel& m, const float* F, int W, int H, int px, int py);

class ImplicitCpu {
 public:
  ImplicitCpu(const MethodSetup& setup, bool fast);
  ~ImplicitCpu();
  std::shared_ptr<const PlaneAnalysis> analyse(ConstPlaneView in, ThreadPool& pool);
  void render(const PlaneAnalysis& analysis, const PlaneJob& job, ThreadPool& pool);
  const ImplicitRenderStats& stats() const { return stats_; }

 private:
  MethodSetup setup_;
  std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> net_;  // null: reference path
  std::unique_ptr<FastCpu> bicubic_;  // downscaling, fast path
  ImplicitRenderStats stats_;
};

}  // namespace lerf::cpu
