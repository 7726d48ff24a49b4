// The Vulkan layer of the Vulkan backend: instance, device, queue and buffers, with every
// failure turned into a lerf::Error that names the call and the VkResult. Knows nothing of
// resampling methods (those live in vulkan_backend.cpp).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lerf/backend.hpp"
#include "lerf/vulkan_device.hpp"

namespace lerf::vk {

const char* result_name(VkResult r);
// Throws lerf::Error("Vulkan: <what> failed: VK_ERROR_...").
[[noreturn]] void fail(VkResult r, const std::string& what);
inline void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) fail(r, what);
}
const char* device_type_name(VkPhysicalDeviceType t);

// A VkInstance (API 1.1), destroyed with the object.
class Instance {
 public:
  Instance();
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance handle() const { return instance_; }
  std::vector<VkPhysicalDevice> physical_devices() const;

 private:
  VkInstance instance_ = VK_NULL_HANDLE;
};

// One logical device with a compute queue; shared (shared_ptr) by everything allocated from
// it so that it is destroyed last. Either created here (and destroyed with the object) or
// borrowed from the caller (ExternalDevice: never destroyed here).
class Context {
 public:
  // Throws lerf::Error when there is no Vulkan device number `device_index` or it cannot be opened.
  explicit Context(int device_index);
  // Borrows the caller's device; throws lerf::Error when its queue family lacks compute.
  explicit Context(const ExternalDevice& external);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  std::uint32_t queue_family() const { return queue_family_; }
  const std::string& name() const { return name_; }
  VkPhysicalDeviceType type() const { return type_; }
  std::uint32_t max_groups_x() const { return max_groups_x_; }
  std::uint32_t max_push_constants() const { return max_push_constants_; }
  // A memory type index among `bits` with all of `want`, else all of `fallback`; throws when none.
  std::uint32_t memory_type(std::uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags fallback) const;
  // vkQueueSubmit under the external owner's queue lock (if any).
  VkResult submit(const VkSubmitInfo& info, VkFence fence) const;

 private:
  void read_properties();

  std::unique_ptr<Instance> instance_;  // null for a borrowed device
  bool owned_ = true;
  std::function<void()> lock_queue_, unlock_queue_;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::uint32_t queue_family_ = 0;
  std::string name_;
  VkPhysicalDeviceType type_ = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  VkPhysicalDeviceMemoryProperties memory_{};
  std::uint32_t max_groups_x_ = 65535;
  std::uint32_t max_push_constants_ = 128;
};

// A storage buffer usable as transfer source and destination: device-local, or host-visible
// and persistently mapped (staging).
class Buffer {
 public:
  enum class Kind { Device, Upload, Download };
  Buffer(std::shared_ptr<const Context> ctx, VkDeviceSize size, Kind kind);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  std::uint8_t* mapped() const { return static_cast<std::uint8_t*>(mapped_); }

 private:
  std::shared_ptr<const Context> ctx_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  void* mapped_ = nullptr;
};

// Makes `buf` at least `size` bytes (rounded up to 4), reallocating only when it grows.
void ensure_buffer(std::unique_ptr<Buffer>& buf, const std::shared_ptr<const Context>& ctx, VkDeviceSize size,
                   Buffer::Kind kind);

// A compute pipeline (entry point "main") from SPIR-V `code` with `layout`; the shader
// module is released once the pipeline exists. Throws lerf::Error naming the failing call.
VkPipeline create_compute_pipeline(VkDevice device, std::span<const std::uint32_t> code, VkPipelineLayout layout);

}  // namespace lerf::vk
