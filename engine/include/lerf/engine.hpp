// The engine's front door: pick a method, load its model, choose a backend, run jobs.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "lerf/backend.hpp"
#include "lerf/job.hpp"
#include "lerf/methods.hpp"

namespace lerf {

struct EngineOptions {
  Method method = Method::LerfG;
  BackendKind backend = BackendKind::Auto;
  int threads = 0;       // 0 = all cores
  int device_index = 0;  // Vulkan physical device
  std::string model_dir;  // empty = default search path (see model.hpp)
  float cubic_a = -0.5f;  // Keys parameter of bicubic: -0.5 MATLAB, -0.75 OpenCV
  bool reference_quirks = false;  // LeRF conformance with the authors' code (MethodSetup)
  bool cmsr = true;               // LMF's multi-scale rendering when the model has tables
};

class Engine {
 public:
  // Loads the model and creates the backend; throws lerf::Error naming the problem.
  explicit Engine(const EngineOptions& options);
  ~Engine();

  Method method() const { return setup_.method; }
  const Backend& backend() const { return *backend_; }
  const Model* model() const { return setup_.model.get(); }

  FrameAnalysis analyse(std::span<const ConstPlaneView> planes);
  // jobs[i] must use the plane analysed as analysis[i].
  void render(const FrameAnalysis& analysis, std::span<const PlaneJob> jobs);
  // Both phases.
  void run(std::span<const PlaneJob> jobs);

 private:
  MethodSetup setup_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace lerf
