// Builds without Vulkan (no vulkan headers/loader or no glslc): the backend reports why.
#include "lerf/backend.hpp"
#include "lerf/error.hpp"

namespace lerf {

std::unique_ptr<Backend> make_vulkan_backend(const MethodSetup&, int) {
  throw Error("this build has no Vulkan backend (Vulkan headers/loader or glslc missing at build time)");
}

std::vector<VulkanDeviceInfo> list_vulkan_devices() {
  throw Error("this build has no Vulkan backend");
}

}  // namespace lerf
