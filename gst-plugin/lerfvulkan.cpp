#include "lerfvulkan.hpp"

#include "lerf/error.hpp"

#ifdef LERF_GST_VULKAN

// GStreamer 1.22's gstvkqueue.h declares gst_vulkan_queue_run_context_query() outside
// G_BEGIN_DECLS (C++ would mangle it); gst.h and video.h are already included, so only the
// vulkan headers are read in this block.
extern "C" {
#include <gst/vulkan/vulkan.h>
}

#include <optional>
#include <string>

#include "lerf/methods.hpp"
#include "lerf/model.hpp"
#include "lerf/vulkan_device.hpp"

GST_DEBUG_CATEGORY_STATIC(lerf_vulkan_debug);
#define GST_CAT_DEFAULT lerf_vulkan_debug

namespace lerfgst {

namespace {

bool caps_have(GstCaps* caps, const char* feature) {
  if (!caps || gst_caps_is_empty(caps)) return false;
  GstCapsFeatures* f = gst_caps_get_features(caps, 0);
  return f && gst_caps_features_contains(f, feature);
}

gboolean find_compute_queue(GstVulkanDevice* device, GstVulkanQueue* queue, gpointer data) {
  GstVulkanPhysicalDevice* phys = device->physical_device;
  if (queue->family < phys->n_queue_families &&
      (phys->queue_family_props[queue->family].queueFlags & VK_QUEUE_COMPUTE_BIT)) {
    *static_cast<GstVulkanQueue**>(data) = static_cast<GstVulkanQueue*>(gst_object_ref(queue));
    return FALSE;  // stop
  }
  return TRUE;
}

// Bytes per texel of the 8-bit colour formats GStreamer uses for the planes of raw video
// (one image per plane); 0 for any other format.
int texel_bytes(VkFormat f) {
  switch (f) {
    case VK_FORMAT_R8_UNORM:
    case VK_FORMAT_R8_SRGB: return 1;
    case VK_FORMAT_R8G8_UNORM:
    case VK_FORMAT_R8G8_SRGB: return 2;
    case VK_FORMAT_R8G8B8_UNORM:
    case VK_FORMAT_R8G8B8_SRGB:
    case VK_FORMAT_B8G8R8_UNORM:
    case VK_FORMAT_B8G8R8_SRGB: return 3;
    case VK_FORMAT_R8G8B8A8_UNORM:
    case VK_FORMAT_R8G8B8A8_SRGB:
    case VK_FORMAT_B8G8R8A8_UNORM:
    case VK_FORMAT_B8G8R8A8_SRGB:
    case VK_FORMAT_A8B8G8R8_UNORM_PACK32:
    case VK_FORMAT_A8B8G8R8_SRGB_PACK32: return 4;
    default: return 0;
  }
}

// The image of plane `plane`, checked against the plane's size and bytes per pixel.
GstVulkanImageMemory* image_memory(GstBuffer* buf, guint plane, int width, int height, int channels,
                                   const char* what) {
  if (!buf || gst_buffer_n_memory(buf) <= plane)
    throw lerf::Error(std::string(what) + " buffer has no memory for plane " + std::to_string(plane));
  GstMemory* mem = gst_buffer_peek_memory(buf, plane);
  if (!gst_is_vulkan_image_memory(mem))
    throw lerf::Error(std::string(what) + " buffer is not Vulkan image memory despite memory:VulkanImage caps");
  auto* im = reinterpret_cast<GstVulkanImageMemory*>(mem);
  const VkImageCreateInfo& ci = im->create_info;
  if (texel_bytes(ci.format) != channels || ci.imageType != VK_IMAGE_TYPE_2D ||
      static_cast<int>(ci.extent.width) < width || static_cast<int>(ci.extent.height) < height)
    throw lerf::Error(std::string(what) + " plane " + std::to_string(plane) + ": image (VkFormat " +
                      std::to_string(ci.format) + ", " + std::to_string(ci.extent.width) + "x" +
                      std::to_string(ci.extent.height) + ") is not " + std::to_string(width) + "x" +
                      std::to_string(height) + " with " + std::to_string(channels) + " bytes per pixel");
  return im;
}

// Plane `plane` of a buffer of Vulkan buffer memories (one per plane, or several planes in
// one), where the video meta (else the caps) places it.
lerf::vk::DeviceBuffer buffer_plane(GstBuffer* buf, const GstVideoInfo& info, guint plane, int width, int height,
                                    int channels, GstVulkanBufferMemory** memory, const char* what) {
  GstVideoMeta* meta = gst_buffer_get_video_meta(buf);
  const gsize offset = meta ? meta->offset[plane] : GST_VIDEO_INFO_PLANE_OFFSET(&info, plane);
  const gint stride = meta ? meta->stride[plane] : GST_VIDEO_INFO_PLANE_STRIDE(&info, plane);
  guint idx = 0, len = 0;
  gsize skip = 0;
  if (!buf || !gst_buffer_find_memory(buf, offset, 1, &idx, &len, &skip))
    throw lerf::Error(std::string(what) + " buffer has no memory for plane " + std::to_string(plane));
  GstMemory* mem = gst_buffer_peek_memory(buf, idx);
  if (!gst_is_vulkan_buffer_memory(mem))
    throw lerf::Error(std::string(what) + " buffer is not Vulkan buffer memory despite memory:VulkanBuffer caps");
  const gsize row = static_cast<gsize>(width) * channels;
  if (stride < 0 || static_cast<gsize>(stride) < row ||
      skip + static_cast<gsize>(stride) * (height - 1) + row > mem->size)
    throw lerf::Error(std::string(what) + " plane " + std::to_string(plane) + " does not fit its Vulkan buffer");
  *memory = reinterpret_cast<GstVulkanBufferMemory*>(mem);
  lerf::vk::DeviceBuffer b;
  b.buffer = (*memory)->buffer;
  b.offset = mem->offset + skip;
  b.stride = static_cast<VkDeviceSize>(stride);
  b.width = width;
  b.height = height;
  b.channels = channels;
  return b;
}

}  // namespace

struct VulkanPath::Impl {
  GstVulkanDisplay* display = nullptr;
  GstVulkanInstance* instance = nullptr;
  GstVulkanDevice* device = nullptr;
  GstVulkanQueue* queue = nullptr;
  enum class Mode { System, Image, Buffer } mode = Mode::System;
  GstVideoInfo in_info{}, out_info{};
  std::unique_ptr<lerf::vk::DeviceBackend> backend;  // on device; destroyed before it
  std::optional<EngineSettings> built_for;

  // Waits until no submission that may touch `in` (upstream's writes) or our own work is
  // still executing: an error must not let the buffer go back to its pool, and be freed at
  // teardown, while the driver still runs a command on it.
  void settle(GstBuffer* in) {
    auto wait_queue = [](GstVulkanQueue* q) {
      if (!q) return;
      gst_vulkan_queue_submit_lock(q);
      vkQueueWaitIdle(q->queue);
      gst_vulkan_queue_submit_unlock(q);
    };
    for (guint i = 0; in && i < gst_buffer_n_memory(in); ++i) {
      GstMemory* mem = gst_buffer_peek_memory(in, i);
      if (gst_is_vulkan_image_memory(mem)) wait_queue(reinterpret_cast<GstVulkanImageMemory*>(mem)->barrier.parent.queue);
      else if (gst_is_vulkan_buffer_memory(mem))
        wait_queue(reinterpret_cast<GstVulkanBufferMemory*>(mem)->barrier.parent.queue);
    }
    wait_queue(queue);
  }

  void drop_device() {
    if (queue) settle(nullptr);  // our own submissions finish before their resources go
    backend.reset();
    built_for.reset();
    gst_clear_object(&queue);
    gst_clear_object(&device);
  }
  ~Impl() {
    drop_device();
    gst_clear_object(&instance);
    gst_clear_object(&display);
  }
};

VulkanPath::VulkanPath() : impl_(std::make_unique<Impl>()) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(lerf_vulkan_debug, "lerfvulkan", 0, "lerf elements on Vulkan device memory");
    g_once_init_leave(&once, 1);
  }
}

VulkanPath::~VulkanPath() = default;

void VulkanPath::set_context(GstElement* element, GstContext* context) {
  gst_vulkan_handle_set_context(element, context, &impl_->display, &impl_->instance);
}

bool VulkanPath::query(GstElement* element, GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_CONTEXT) return false;
  return gst_vulkan_handle_context_query(element, query, impl_->display, impl_->instance, impl_->device);
}

bool VulkanPath::active() const { return impl_->mode != Impl::Mode::System; }

bool VulkanPath::configure(GstElement* element, GstCaps* incaps, const GstVideoInfo& in_info,
                           const GstVideoInfo& out_info) {
  Impl& d = *impl_;
  d.mode = caps_have(incaps, GST_CAPS_FEATURE_MEMORY_VULKAN_IMAGE)    ? Impl::Mode::Image
           : caps_have(incaps, GST_CAPS_FEATURE_MEMORY_VULKAN_BUFFER) ? Impl::Mode::Buffer
                                                                      : Impl::Mode::System;
  d.in_info = in_info;
  d.out_info = out_info;
  if (d.mode == Impl::Mode::System) return true;
  if (GST_VIDEO_INFO_IS_INTERLACED(&in_info) &&
      GST_VIDEO_INFO_INTERLACE_MODE(&in_info) != GST_VIDEO_INTERLACE_MODE_ALTERNATE) {
    // Field-wise resampling needs row strides that Vulkan images do not have (system memory
    // does it, lerfcommon.cpp render_frame): refuse rather than blend the two fields.
    GST_ELEMENT_ERROR(element, STREAM, FORMAT, ("Interlaced video in Vulkan memory is not supported"),
                      ("put vulkandownload before the element, or deinterlace"));
    return false;
  }
  if (!gst_vulkan_ensure_element_data(element, &d.display, &d.instance)) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("Failed to retrieve a Vulkan instance/display"), (nullptr));
    return false;
  }
  if (!d.device && !gst_vulkan_device_run_context_query(element, &d.device)) {
    GError* err = nullptr;
    d.device = gst_vulkan_instance_create_device(d.instance, &err);
    if (!d.device) {
      GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("Failed to create a Vulkan device: %s", err ? err->message : "?"),
                        (nullptr));
      g_clear_error(&err);
      return false;
    }
  }
  if (!d.queue) {
    // The queue upstream submits to, when it shares one on our device (submission order
    // then orders its writes before our reads); else any compute queue of the device.
    GstVulkanQueue* shared = nullptr;
    if (gst_vulkan_queue_run_context_query(element, &shared) && shared && shared->device == d.device) {
      GstVulkanQueue* q = nullptr;
      find_compute_queue(d.device, shared, &q);
      d.queue = q;
    }
    gst_clear_object(&shared);
    if (!d.queue) gst_vulkan_device_foreach_queue(d.device, find_compute_queue, &d.queue);
    if (!d.queue) {
      GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("The Vulkan device has no compute queue"), (nullptr));
      return false;
    }
  }
  GST_INFO_OBJECT(element, "device %s memory on %s, queue family %u",
                  d.mode == Impl::Mode::Image ? "image" : "buffer", d.device->physical_device->properties.deviceName,
                  d.queue->family);
  return true;
}

bool VulkanPath::propose_allocation(GstBaseTransform*, GstQuery* query) {
  GstCaps* caps = nullptr;
  gboolean need_pool = FALSE;
  gst_query_parse_allocation(query, &caps, &need_pool);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps) || !impl_->device) return false;
  if (need_pool) {
    GstBufferPool* pool = impl_->mode == Impl::Mode::Image ? gst_vulkan_image_buffer_pool_new(impl_->device)
                                                           : gst_vulkan_buffer_pool_new(impl_->device);
    GstStructure* config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(config, caps, static_cast<guint>(info.size), 0, 0);
    if (!gst_buffer_pool_set_config(pool, config)) {
      gst_object_unref(pool);
      return false;
    }
    gst_query_add_allocation_pool(query, pool, static_cast<guint>(info.size), 0, 0);
    gst_object_unref(pool);
  }
  return true;
}

bool VulkanPath::decide_allocation(GstBaseTransform* trans, GstQuery* query) {
  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps) || !impl_->device) return false;
  GstBufferPool* pool = nullptr;
  guint size = static_cast<guint>(info.size), min = 0, max = 0;
  const bool update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) {
    gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
    // Only a pool of device images (buffers) on our device will do.
    const bool ok = impl_->mode == Impl::Mode::Image
                        ? pool && GST_IS_VULKAN_IMAGE_BUFFER_POOL(pool) &&
                              GST_VULKAN_IMAGE_BUFFER_POOL(pool)->device == impl_->device
                        : pool && GST_IS_VULKAN_BUFFER_POOL(pool) && GST_VULKAN_BUFFER_POOL(pool)->device == impl_->device;
    if (!ok) gst_clear_object(&pool);
  }
  if (!pool)
    pool = impl_->mode == Impl::Mode::Image ? gst_vulkan_image_buffer_pool_new(impl_->device)
                                            : gst_vulkan_buffer_pool_new(impl_->device);
  size = std::max(size, static_cast<guint>(info.size));
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, size, min, max);
  if (!gst_buffer_pool_set_config(pool, config)) {
    GST_WARNING_OBJECT(trans, "the Vulkan image pool refused its configuration");
    gst_object_unref(pool);
    return false;
  }
  if (update) gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
  else gst_query_add_allocation_pool(query, pool, size, min, max);
  gst_object_unref(pool);
  return true;
}

void VulkanPath::render(const EngineSettings& s, GstBuffer* in, GstBuffer* out, const lerf::CoordinateMap& luma_map,
                        const Rect& out_rect, lerf::Border border, bool transparent) {
  try {
    render_unguarded(s, in, out, luma_map, out_rect, border, transparent);
  } catch (...) {
    impl_->settle(in);
    throw;
  }
}

void VulkanPath::render_unguarded(const EngineSettings& s, GstBuffer* in, GstBuffer* out,
                                  const lerf::CoordinateMap& luma_map, const Rect& out_rect, lerf::Border border,
                                  bool transparent) {
  Impl& d = *impl_;
  if (!d.device || !d.queue) throw lerf::Error("no Vulkan device negotiated");
  if (s.backend == lerf::BackendKind::Cpu)
    throw lerf::Error(
        "backend=cpu cannot process memory:VulkanImage; use backend=auto or vulkan, or vulkandownload before the element");
  if (!d.backend || !d.built_for || !(*d.built_for == s)) {
    d.backend.reset();
    d.built_for.reset();
    if (!lerf::method_implemented(s.method))
      throw lerf::Error("method " + std::string(lerf::method_name(s.method)) + " is not implemented yet");
    if (!lerf::method_on_vulkan(s.method))
      throw lerf::Error(std::string(lerf::method_name(s.method)) +
                        " is not implemented on Vulkan: put vulkandownload before the element (in system memory "
                        "it runs on the CPU)");
    lerf::MethodSetup setup;
    setup.method = s.method;
    if (lerf::method_needs_model(s.method))
      setup.model =
          std::make_shared<lerf::Model>(lerf::load_model(s.method, lerf::find_model_dir(s.method, s.model_dir)));
    lerf::vk::ExternalDevice e;
    e.instance = d.device->instance->instance;
    e.physical_device = gst_vulkan_device_get_physical_device(d.device);
    e.device = d.device->device;
    e.queue_family = d.queue->family;
    e.queue = d.queue->queue;
    GstVulkanQueue* q = d.queue;
    e.lock_queue = [q] { gst_vulkan_queue_submit_lock(q); };
    e.unlock_queue = [q] { gst_vulkan_queue_submit_unlock(q); };
    d.backend = lerf::vk::make_vulkan_backend(setup, e);
    d.built_for = s;
  }
  // Writes submitted by upstream on another queue: wait for them (the same queue orders them).
  auto wait_for_other_queue = [&](GstVulkanQueue* producer) {
    if (producer && producer != d.queue) {
      gst_vulkan_queue_submit_lock(producer);
      vkQueueWaitIdle(producer->queue);
      gst_vulkan_queue_submit_unlock(producer);
    }
  };
  const auto in_layouts = plane_layouts(d.in_info);
  const auto out_layouts = plane_layouts(d.out_info);
  if (in_layouts.size() != out_layouts.size()) throw lerf::Error("input and output formats differ");
  const bool full = out_rect.x == 0 && out_rect.y == 0 && out_rect.width == GST_VIDEO_INFO_WIDTH(&d.out_info) &&
                    out_rect.height == GST_VIDEO_INFO_HEIGHT(&d.out_info);
  lerf::CoordinateMap frame_map = luma_map;
  // Borders (add-borders): the picture's map shifted into the rectangle, black outside it.
  if (!full) frame_map.out_to_in = luma_map.out_to_in * lerf::Matrix3::affine_axes(1, -out_rect.x, 1, -out_rect.y);
  for (guint p = 0; p < in_layouts.size(); ++p) {
    const PlaneLayout& il = in_layouts[p];
    const PlaneLayout& ol = out_layouts[p];
    lerf::vk::ImageJob job;
    job.in.width = GST_VIDEO_INFO_COMP_WIDTH(&d.in_info, il.first_component);
    job.in.height = GST_VIDEO_INFO_COMP_HEIGHT(&d.in_info, il.first_component);
    job.out.width = GST_VIDEO_INFO_COMP_WIDTH(&d.out_info, ol.first_component);
    job.out.height = GST_VIDEO_INFO_COMP_HEIGHT(&d.out_info, ol.first_component);
    job.in.channels = il.channels;
    job.out.channels = ol.channels;
    const lerf::CoordinateMap plane_map = lerf::plane_map(frame_map, ol.sampling);
    const auto black = plane_black(d.out_info, static_cast<int>(p), transparent);
    if (d.mode == Impl::Mode::Buffer) {
      GstVulkanBufferMemory *ibm = nullptr, *obm = nullptr;
      lerf::vk::BufferJob bj;
      bj.in = buffer_plane(in, d.in_info, p, job.in.width, job.in.height, il.channels, &ibm, "input");
      bj.out = buffer_plane(out, d.out_info, p, job.out.width, job.out.height, ol.channels, &obm, "output");
      if (!(obm->usage & VK_BUFFER_USAGE_TRANSFER_DST_BIT) || !(ibm->usage & VK_BUFFER_USAGE_TRANSFER_SRC_BIT))
        throw lerf::Error("Vulkan buffers without transfer usage (input needs TRANSFER_SRC, output TRANSFER_DST)");
      wait_for_other_queue(ibm->barrier.parent.queue);
      bj.map = plane_map;
      bj.border = full ? border : lerf::Border::Constant;
      bj.border_value = black;
      d.backend->render_buffer(bj);
      obm->barrier.parent.access_flags = VK_ACCESS_TRANSFER_WRITE_BIT;
      obm->barrier.parent.pipeline_stages = VK_PIPELINE_STAGE_TRANSFER_BIT;
      continue;
    }
    GstVulkanImageMemory* im = image_memory(in, p, job.in.width, job.in.height, il.channels, "input");
    GstVulkanImageMemory* om = image_memory(out, p, job.out.width, job.out.height, ol.channels, "output");
    if (!(om->usage & VK_IMAGE_USAGE_TRANSFER_DST_BIT) || !(im->usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT))
      throw lerf::Error("Vulkan images without transfer usage (input needs TRANSFER_SRC, output TRANSFER_DST)");
    wait_for_other_queue(im->barrier.parent.queue);
    job.in.image = im->image;
    job.in.layout = im->barrier.image_layout;
    job.in.access = im->barrier.parent.access_flags;
    job.in.stage = im->barrier.parent.pipeline_stages;
    job.out.image = om->image;
    job.out.layout = om->barrier.image_layout;
    job.out.access = om->barrier.parent.access_flags;
    job.out.stage = om->barrier.parent.pipeline_stages;
    job.map = plane_map;
    job.border = full ? border : lerf::Border::Constant;
    job.border_value = black;
    job.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    lerf::vk::ImageJobResult r = d.backend->render_image(job);
    // The state the next user of each image makes its barrier from (the work has completed).
    im->barrier.image_layout = r.in.layout;
    im->barrier.parent.access_flags = r.in.access;
    im->barrier.parent.pipeline_stages = r.in.stage;
    om->barrier.image_layout = r.out.layout;
    om->barrier.parent.access_flags = r.out.access;
    om->barrier.parent.pipeline_stages = r.out.stage;
  }
}

void VulkanPath::stop() {
  impl_->drop_device();
  impl_->mode = Impl::Mode::System;
}

}  // namespace lerfgst

#else  // !LERF_GST_VULKAN: system memory only

namespace lerfgst {

struct VulkanPath::Impl {};
VulkanPath::VulkanPath() = default;
VulkanPath::~VulkanPath() = default;
void VulkanPath::set_context(GstElement*, GstContext*) {}
bool VulkanPath::query(GstElement*, GstQuery*) { return false; }
bool VulkanPath::configure(GstElement*, GstCaps*, const GstVideoInfo&, const GstVideoInfo&) { return true; }
bool VulkanPath::active() const { return false; }
bool VulkanPath::propose_allocation(GstBaseTransform*, GstQuery*) { return false; }
bool VulkanPath::decide_allocation(GstBaseTransform*, GstQuery*) { return false; }
void VulkanPath::render(const EngineSettings&, GstBuffer*, GstBuffer*, const lerf::CoordinateMap&, const Rect&,
                        lerf::Border, bool) {
  throw lerf::Error("this build has no Vulkan device-memory support");
}
void VulkanPath::stop() {}

}  // namespace lerfgst

#endif
