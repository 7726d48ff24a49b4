#include "lerf/engine.hpp"

#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "lerf/error.hpp"

namespace lerf {

namespace {

// BackendKind::Auto: the Vulkan backend on a real GPU, else null (use the CPU). A failure
// to create it is reported once per process.
// The Vulkan devices, enumerated once per process: engines are rebuilt whenever an element's
// method or thread count changes, and enumerating creates a Vulkan instance (10-50 ms).
const std::vector<VulkanDeviceInfo>& vulkan_devices_once() {
  static std::vector<VulkanDeviceInfo> devices;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      devices = list_vulkan_devices();
    } catch (const Error& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw Error(error);
  return devices;
}

std::unique_ptr<Backend> try_gpu_backend(const MethodSetup& setup, int device_index) {
  try {
    const auto& devices = vulkan_devices_once();
    if (device_index < 0 || device_index >= static_cast<int>(devices.size()))
      throw Error(devices.empty() ? "no Vulkan device" : "no Vulkan device " + std::to_string(device_index));
    if (!auto_uses_vulkan(devices[device_index])) return nullptr;
    return make_vulkan_backend(setup, device_index);
  } catch (const Error& e) {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      std::cerr << "lerf: warning: Vulkan unavailable (" << e.what() << "); using the CPU backend\n";
    });
    return nullptr;
  }
}

}  // namespace

Engine::Engine(const EngineOptions& options) {
  if (!method_implemented(options.method))
    throw Error("method " + std::string(method_name(options.method)) + " is not implemented yet");
  if (options.threads < 0) throw Error("thread count must be >= 0");
  setup_.method = options.method;
  setup_.cubic_a = options.cubic_a;
  setup_.reference_quirks = options.reference_quirks;
  setup_.cmsr = options.cmsr;
  if (method_needs_model(options.method)) {
    auto dir = find_model_dir(options.method, options.model_dir);
    setup_.model = std::make_shared<Model>(load_model(options.method, dir));
  }
  BackendKind backend = options.backend;
  if (options.reference_quirks) {  // the conformance mode exists in the CPU reference only
    if (backend == BackendKind::Vulkan) throw Error("reference quirks (LeRF conformance) need the CPU backend");
    backend = BackendKind::Cpu;
  }
  if (!method_on_vulkan(options.method)) {
    if (backend == BackendKind::Vulkan)
      throw Error(std::string(method_name(options.method)) + " is not implemented on Vulkan (use the cpu or auto backend)");
    backend = BackendKind::Cpu;  // auto: silently the CPU, the only implementation
  }
  switch (backend) {
    case BackendKind::Vulkan:
      backend_ = make_vulkan_backend(setup_, options.device_index);
      break;
    case BackendKind::Auto:
      backend_ = try_gpu_backend(setup_, options.device_index);
      if (!backend_) backend_ = make_cpu_backend(setup_, options.threads);
      break;
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
