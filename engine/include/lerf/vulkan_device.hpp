// The Vulkan backend on someone else's device, reading and writing device memory: what a
// host application (e.g. the GStreamer elements with memory:VulkanImage) needs to resample
// frames that already live on the GPU without copying them to the host.
//
// Needs the Vulkan headers; only usable in builds with the Vulkan backend
// (LERF_HAVE_VULKAN_BACKEND), the stub build has none of these symbols.
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "lerf/backend.hpp"
#include "lerf/geometry.hpp"
#include "lerf/job.hpp"

namespace lerf::vk {

// A VkDevice created and owned by the caller. Every handle must outlive the backend made on
// it. The queue must support compute and transfer; `lock_queue` / `unlock_queue` (optional)
// are called around each vkQueueSubmit when the queue is shared with other users (Vulkan
// requires external synchronisation of a queue).
struct ExternalDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  std::uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  std::function<void()> lock_queue, unlock_queue;
};

// One 2-D, single-layer, single-mip colour image of 8-bit samples with `channels` samples per
// texel (VK_FORMAT_R8G8B8A8_UNORM, B8G8R8A8_UNORM, R8_UNORM, R8G8_UNORM, ... and their sRGB
// twins: the bytes are resampled as stored). Input images need VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
// output images VK_IMAGE_USAGE_TRANSFER_DST_BIT.
//
// `layout` / `access` / `stage` describe the image's state before the job (what the last
// writer left: the backend makes a barrier from it; VK_IMAGE_LAYOUT_UNDEFINED for an output
// means its content may be discarded). After render_image() returns, both images are in
// `final_layout` with the last access/stage returned in ImageState.
struct DeviceImage {
  VkImage image = VK_NULL_HANDLE;
  int width = 0;
  int height = 0;
  int channels = 4;
  VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
  VkAccessFlags access = 0;
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT;
};

struct ImageState {
  VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
  VkAccessFlags access = 0;
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT;
};

// A PlaneJob whose planes are device images.
struct ImageJob {
  DeviceImage in;
  DeviceImage out;
  CoordinateMap map;  // output pixel centre -> input coordinate, in this plane's pixels
  Border border = Border::Clamp;
  std::array<std::uint8_t, 4> border_value{0, 0, 0, 0};
  // Layout both images are left in (TRANSFER_SRC_OPTIMAL suits a following copy or download;
  // SHADER_READ_ONLY_OPTIMAL a sampler).
  VkImageLayout final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
};

struct ImageJobResult {
  ImageState in, out;
};

// One plane in a VkBuffer: rows of width * channels bytes, `stride` bytes apart, from
// `offset`. Input buffers need VK_BUFFER_USAGE_TRANSFER_SRC_BIT, output buffers
// VK_BUFFER_USAGE_TRANSFER_DST_BIT. Whatever wrote the input before (earlier submissions on
// the queue, or on another queue and waited for by the caller) is made visible; output bytes
// outside the plane's rows are left alone.
struct DeviceBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize stride = 0;
  int width = 0;
  int height = 0;
  int channels = 1;
};

// A PlaneJob whose planes are device buffers.
struct BufferJob {
  DeviceBuffer in;
  DeviceBuffer out;
  CoordinateMap map;
  Border border = Border::Clamp;
  std::array<std::uint8_t, 4> border_value{0, 0, 0, 0};
};

// A Vulkan backend that can also resample device images. Its host-memory analyse()/render()
// work as the ordinary Vulkan backend's.
class DeviceBackend : public Backend {
 public:
  // Both phases on the device: the input is copied into the backend's buffers, the result
  // copied into job.out.image, all in submissions on the device's queue that have completed
  // when this returns (the images are free for the next user on any queue). Throws
  // lerf::Error (device lost: every later call throws too).
  virtual ImageJobResult render_image(const ImageJob& job) = 0;
  // The same with buffers; the writes to job.out are complete (and visible to any later
  // submission) when this returns.
  virtual void render_buffer(const BufferJob& job) = 0;
};

// The Vulkan backend on an external device; throws lerf::Error (method without a Vulkan
// implementation, missing model, a failing Vulkan call).
std::unique_ptr<DeviceBackend> make_vulkan_backend(const MethodSetup& setup, const ExternalDevice& device);

}  // namespace lerf::vk
