// Backends run both phases of a method; the CPU backend is the reference every other
// backend (Vulkan) is tested against.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lerf/job.hpp"
#include "lerf/methods.hpp"
#include "lerf/model.hpp"

namespace lerf {

// What a backend needs to know about the method it runs.
struct MethodSetup {
  Method method = Method::Bilinear;
  std::shared_ptr<const Model> model;  // null for classical methods
  float cubic_a = -0.5f;
  // LeRF conformance only: reproduce the authors' code where it differs from ours by
  // floating-point ties (see lerf_axis_taps). CPU backend; off in the product.
  bool reference_quirks = false;
  // LMF: controllable multi-scale rendering when rescaling (docs/IMPLICIT.md), if the model
  // has CMSR tables.
  bool cmsr = true;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;
  virtual std::string description() const = 0;
  // Phase 1; the result is only valid with this backend and this plane's size/channels.
  virtual std::shared_ptr<const PlaneAnalysis> analyse(ConstPlaneView in) = 0;
  // Phase 2; analysis is what analyse() returned for job.in.
  virtual void render(const PlaneAnalysis& analysis, const PlaneJob& job) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const MethodSetup& setup, int threads);

// Vulkan compute backend on physical device `device_index` (any type, software ones
// included); throws lerf::Error naming the problem (no driver, no such device, VkResult).
std::unique_ptr<Backend> make_vulkan_backend(const MethodSetup& setup, int device_index);

struct VulkanDeviceInfo {
  int index = 0;      // EngineOptions::device_index
  std::string name;   // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
  std::string type;   // discrete-gpu, integrated-gpu, virtual-gpu, cpu, other
  bool is_cpu = false;
};
// The Vulkan devices the loader reports; throws lerf::Error when Vulkan is unusable or the
// build has no Vulkan backend.
std::vector<VulkanDeviceInfo> list_vulkan_devices();
// BackendKind::Auto runs on Vulkan only on a real GPU: software devices (lavapipe, SwiftShader)
// are slower than the CPU backend.
inline bool auto_uses_vulkan(const VulkanDeviceInfo& d) { return !d.is_cpu; }

}  // namespace lerf
