// The device-memory path of lerfscale and lerfwarp: video/x-raw(memory:VulkanImage) or
// (memory:VulkanBuffer) in and out, on the pipeline's GstVulkanDevice (shared through GstContext with vulkanupload,
// vulkandownload, vulkansink, ...), rendered by the engine's Vulkan backend made on that
// device (lerf::vk::ExternalDevice), with no copy to or from the host.
//
// Built when gstreamer-vulkan-1.0 and the engine's Vulkan backend are available
// (LERF_GST_VULKAN); otherwise every call is a no-op and the caps carry system memory only.
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>

#include "lerf/geometry.hpp"
#include "lerf/job.hpp"
#include "lerfcommon.hpp"

// Device images, one per plane (R8, R8G8, R8G8B8(A8) / B8G8R8(A8) images, as GStreamer's
// vulkanupload makes them): the formats of LERF_VIDEO_FORMATS that vulkanupload ->
// vulkandownload round-trips on lavapipe (not NV16/NV61/NV24/A420/GBR/GBRA; RGB and BGR,
// 3-byte texels, crash GStreamer 1.22's vulkan elements). Other formats negotiate system memory.
#define LERF_VULKAN_IMAGE_FORMATS                                                                        \
  "{ RGBA, BGRA, RGBx, BGRx, xRGB, xBGR, ARGB, ABGR, AYUV, I420, YV12, NV12, NV21, Y42B, Y444, Y41B, " \
  "GRAY8 }"
#ifdef LERF_GST_VULKAN
// Device buffers hold planes as bytes (rows at the video meta's offsets and strides): every
// format the engine takes.
#define LERF_ELEMENT_CAPS                                                                     \
  LERF_VIDEO_CAPS "; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES("memory:VulkanImage", LERF_VULKAN_IMAGE_FORMATS) "; " \
      GST_VIDEO_CAPS_MAKE_WITH_FEATURES("memory:VulkanBuffer", LERF_VIDEO_FORMATS)
#else
#define LERF_ELEMENT_CAPS LERF_VIDEO_CAPS
#endif

namespace lerfgst {

class VulkanPath {
 public:
  VulkanPath();
  ~VulkanPath();
  VulkanPath(const VulkanPath&) = delete;
  VulkanPath& operator=(const VulkanPath&) = delete;

  // GstElement::set_context: takes the display / instance a peer or the application shares.
  void set_context(GstElement* element, GstContext* context);
  // GstBaseTransform::query: answers context queries with our display/instance/device;
  // true when answered.
  bool query(GstElement* element, GstQuery* query);
  // From set_info: device mode when the caps carry memory:VulkanImage; finds or creates the
  // device and a compute queue. False (element error posted) when impossible.
  bool configure(GstElement* element, GstCaps* incaps, const GstVideoInfo& in_info, const GstVideoInfo& out_info);
  bool active() const;
  // Allocation in device mode: a GstVulkanImageBufferPool on our device for upstream and for
  // our output. Only call when active().
  bool propose_allocation(GstBaseTransform* trans, GstQuery* query);
  bool decide_allocation(GstBaseTransform* trans, GstQuery* query);
  // Renders in -> out (device images) through luma_map into out_rect (the rest black);
  // throws lerf::Error. backend=cpu is an error in device mode.
  void render(const EngineSettings& settings, GstBuffer* in, GstBuffer* out, const lerf::CoordinateMap& luma_map,
              const Rect& out_rect, lerf::Border border, bool transparent);
  // GstBaseTransform::stop: drops the backend and the device objects.
  void stop();

 private:
  void render_unguarded(const EngineSettings& settings, GstBuffer* in, GstBuffer* out,
                        const lerf::CoordinateMap& luma_map, const Rect& out_rect, lerf::Border border,
                        bool transparent);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lerfgst
