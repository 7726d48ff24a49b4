// The CPU backend's fast paths: per-geometry tables cached across frames, cache-sized bands
// instead of whole-image intermediates, buffers reused from frame to frame, and the SIMD row
// kernels of simd_kernels.cpp. The plain code in classical.cpp, lerf_lut.cpp and
// lerf_render.cpp stays the reference these are tested against (tests/test_simd_paths.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_methods.hpp"
#include "lerf/backend.hpp"
#include "simd_kernels.hpp"

namespace lerf::cpu {

// Which implementation a CPU backend runs: the plain reference or the fast paths.
enum class CpuPath { Reference, Fast };
// The path new CPU backends take: Fast, unless the environment variable LERF_CPU_PATH is
// "reference"; set_default_cpu_path overrides both (tests, the bench).
CpuPath default_cpu_path();
void set_default_cpu_path(CpuPath path);

class FastCpu {
 public:
  explicit FastCpu(const MethodSetup& setup);
  ~FastCpu();

  void render_classical(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool);
  // A LeRF analysis of `in` in a buffer recycled from an earlier frame when one of the same
  // size is no longer referenced outside the backend.
  std::shared_ptr<const PlaneAnalysis> analyse_lerf(ConstPlaneView in, ThreadPool& pool);
  void render_lerf(bool gaussian, const LerfAnalysis& analysis, const PlaneJob& job, ThreadPool& pool);

  // Allocations of tables, analyses and band buffers so far (tests: none in steady state).
  std::uint64_t allocations() const { return allocations_; }
  // LeRF-G planes rendered by the exact-2x kernel (simd::lerf_row_g4x2) so far (tests).
  std::uint64_t x2_renders() const { return x2_renders_; }

 private:
  struct ClassicalPlan;
  struct LerfPlan;
  struct Band;
  const ClassicalPlan& classical_plan(const kernels::Classical& kernel, const PlaneJob& job);
  const LerfPlan& lerf_plan(const PlaneJob& job, Size in);
  static bool x2_pattern(LerfPlan& plan);
  std::vector<Band>& bands(int n);
  void lut_stage(ConstPlaneView in, int channel, LerfAnalysis& out, ThreadPool& pool);

  MethodSetup setup_;
  bool lut_ready_ = false;  // the LeRF tables below are built (lerf-g / lerf-l models)
  // LUT copies padded for 32-bit gathers: stage1_[p], stage2_[p][d].
  std::vector<std::int8_t> stage1_[kLutPatterns], stage2_[kLutPatterns][2];
  // Rotation-pair cells (simd::lut_pair_cells, AVX-512 / AVX2 targets, built on first use): stage 1
  // per pattern, stage 2 per pattern and parity.
  simd::Table pairs1_[kLutPatterns], pairs2_[kLutPatterns][2];
  bool pairs_ready_ = false;
  std::vector<std::unique_ptr<ClassicalPlan>> classical_plans_;
  std::vector<std::unique_ptr<LerfPlan>> lerf_plans_;
  std::vector<std::shared_ptr<LerfAnalysis>> analyses_;
  std::vector<Band> bands_;
  std::vector<std::uint8_t> padded_in_, padded_mid_;  // edge-padded planes of the LUT stages
  std::uint64_t tick_ = 0, allocations_ = 0, x2_renders_ = 0;
};

// The fast paths of a CPU backend; null for other backends and the reference path.
const FastCpu* fast_paths_of(const Backend& backend);

}  // namespace lerf::cpu
