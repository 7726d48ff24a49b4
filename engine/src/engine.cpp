#include "lerf/engine.hpp"

#include <iostream>

#include "lerf/error.hpp"

namespace lerf {

Engine::Engine(const EngineOptions& options) {
  if (!method_implemented(options.method))
    throw Error("method " + std::string(method_name(options.method)) + " is not implemented yet");
  if (options.threads < 0) throw Error("thread count must be >= 0");
  setup_.method = options.method;
  setup_.cubic_a = options.cubic_a;
  if (method_needs_model(options.method)) {
    auto dir = find_model_dir(options.method, options.model_dir);
    setup_.model = std::make_shared<Model>(load_model(options.method, dir));
  }
  switch (options.backend) {
    case BackendKind::Vulkan:
      throw Error("the Vulkan backend is not built yet; use backend cpu or auto");
    case BackendKind::Auto:
    case BackendKind::Cpu:
      backend_ = make_cpu_backend(setup_, options.threads);
      break;
  }
}

Engine::~Engine() = default;

FrameAnalysis Engine::analyse(std::span<const ConstPlaneView> planes) {
  FrameAnalysis result;
  result.reserve(planes.size());
  for (const auto& p : planes) result.push_back(backend_->analyse(p));
  return result;
}

void Engine::render(const FrameAnalysis& analysis, std::span<const PlaneJob> jobs) {
  if (analysis.size() != jobs.size()) throw Error("analysis and jobs differ in plane count");
  for (std::size_t i = 0; i < jobs.size(); ++i) backend_->render(*analysis[i], jobs[i]);
}

void Engine::run(std::span<const PlaneJob> jobs) {
  for (const auto& job : jobs) backend_->render(*backend_->analyse(job.in), job);
}

}  // namespace lerf
