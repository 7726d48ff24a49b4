// What lerfscale and lerfwarp share: the enums users type (registered as GTypes), the
// engine settings behind a mutex, the lazily (re)built engine, and the mapping of a
// GstVideoFrame onto the engine's planes. The engine knows nothing of GStreamer; this
// adapter is the only place where the two meet.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lerf/engine.hpp"

namespace lerfgst {

// Raw formats whose planes are 8-bit samples with 1..4 interleaved channels: every
// format the engine can take plane by plane.
#define LERF_VIDEO_FORMATS                                                                               \
  "{ I420, YV12, NV12, NV21, NV16, NV61, NV24, Y42B, Y444, Y41B, A420, GRAY8, RGBA, BGRA, RGBx, BGRx, " \
  "xRGB, xBGR, ARGB, ABGR, AYUV, RGB, BGR, GBR, GBRA }"

#define LERF_VIDEO_CAPS GST_VIDEO_CAPS_MAKE(LERF_VIDEO_FORMATS)

GType method_get_type();   // GstLerfMethod: nearest bilinear bicubic lanczos lerf-l lerf-g im-lut liif a-liif lmf
GType backend_get_type();  // GstLerfBackend: auto cpu vulkan
GType border_get_type();   // GstLerfWarpBorder: black transparent clamp

enum class WarpBorder { Black = 0, Transparent = 1, Clamp = 2 };

// Everything an Engine is built from; a change of any of these rebuilds the engine.
struct EngineSettings {
  lerf::Method method = lerf::Method::LerfG;
  lerf::BackendKind backend = lerf::BackendKind::Auto;
  std::string model_dir;
  guint n_threads = 0;
  guint device_index = 0;
  bool cmsr = true;  // lmf: multi-scale rendering (lerfscale's cmsr property)
  friend bool operator==(const EngineSettings&, const EngineSettings&) = default;
};

// The engine of the streaming thread, rebuilt when the settings it was built from change.
class EngineCache {
 public:
  // Throws lerf::Error (missing model, unknown backend, method not implemented).
  lerf::Engine& get(const EngineSettings& settings);
  // Runs fn(engine). When a Vulkan engine fails mid-stream (lerf::Error: device lost, any
  // failing Vulkan call) and settings.backend is auto, the engine is rebuilt on the CPU
  // (kept until reset()), a GST_ELEMENT_WARNING is posted once, and fn runs again: fn must
  // redo the whole frame. With backend=vulkan the error propagates (element error).
  void run(GstElement* element, const EngineSettings& settings, const std::function<void(lerf::Engine&)>& fn);
  // True once run() has fallen back to the CPU.
  bool fell_back() const { return cpu_fallback_; }
  void reset();

 private:
  std::optional<EngineSettings> built_for_;
  std::unique_ptr<lerf::Engine> engine_;
  bool cpu_fallback_ = false;
};

// A rectangle on the frame's full-resolution (luma) grid.
struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

// How each plane of a frame is laid out relative to the frame grid.
struct PlaneLayout {
  int first_component = 0;
  int channels = 1;  // bytes per pixel in this plane (8-bit formats)
  int w_sub = 0;     // log2 subsampling
  int h_sub = 0;
  lerf::PlaneSampling sampling;
};

bool format_supported(GstVideoFormat format);

// Takes the chroma siting from the caps' chroma-site field: GStreamer 1.22.0's
// gst_video_info_from_caps() leaves every siting as "jpeg" (centred), which would resample
// MPEG-2 (left co-sited) chroma half a pixel off.
void apply_caps_chroma_site(GstCaps* caps, GstVideoInfo* info);
std::vector<PlaneLayout> plane_layouts(const GstVideoInfo& info);

// The view of plane p of a mapped frame, optionally restricted to the part covering rect
// (rect must be aligned to the plane's subsampling).
lerf::PlaneView plane_view(GstVideoFrame* frame, int plane, const PlaneLayout& layout);
lerf::PlaneView plane_subview(const lerf::PlaneView& view, const PlaneLayout& layout, const Rect& rect);

// The black value of each channel of plane p (Y=16 or 0, U=V=128, RGB 0); alpha is 255, or 0
// when transparent.
std::array<std::uint8_t, 4> plane_black(const GstVideoInfo& info, int plane, bool transparent);
void fill_plane(const lerf::PlaneView& view, const std::array<std::uint8_t, 4>& value);

// Byte offset of the padding byte of plane p (the x of RGBx, BGRx, xRGB, xBGR), or -1.
int padding_byte(const GstVideoInfo& info, int plane);

// An element's scratch planes for render_frame (streaming thread only). With them, planes with
// a padding byte are resampled as 3-channel planes by the learned methods, whose cost is per
// channel (the padding byte would be a quarter of the work, for a byte downstream ignores):
// the colour bytes are packed into in, resampled into out and unpacked, the padding byte set
// to 255 (opaque, as plane_black). The classical methods resample the 4 bytes: cheaper than
// the two copies.
struct RenderScratch {
  lerf::Plane in, out;
};

// Renders every plane of out from in through luma_map (output pixel -> input coordinate on
// the luma grid), into out_rect of the output (the whole frame when the rect is the frame).
void render_frame(lerf::Engine& engine, GstVideoFrame* in, GstVideoFrame* out, const lerf::CoordinateMap& luma_map,
                  const Rect& out_rect, lerf::Border border, bool transparent, RenderScratch* scratch = nullptr);

// transform_caps of both elements: every structure of caps with width and height opened to
// [1, G_MAXINT] (and pixel-aspect-ratio opened too when open_par), intersected with filter.
GstCaps* open_size_caps(GstCaps* caps, GstCaps* filter, bool open_par);

void post_error(GstElement* element, const char* what, const char* message);

// Runs fn, turning any C++ exception into an element error on the bus and GST_FLOW_ERROR:
// no exception may cross into GStreamer's C code.
template <typename Fn>
GstFlowReturn guarded(GstElement* element, const char* what, Fn&& fn) noexcept {
  try {
    fn();
    return GST_FLOW_OK;
  } catch (const std::exception& e) {
    post_error(element, what, e.what());
  } catch (...) {
    post_error(element, what, "unknown error");
  }
  return GST_FLOW_ERROR;
}

// The engine properties both elements share: method, backend, model-dir, n-threads,
// device-index. install_engine_properties() installs them from prop_first on.
enum EngineProp : guint {
  kPropMethod = 1,
  kPropBackend,
  kPropModelDir,
  kPropNThreads,
  kPropDeviceIndex,
  kPropCmsr,  // lerfscale only (install_cmsr_property)
  kPropEngineLast
};
void install_engine_properties(GObjectClass* klass);
// lerfscale's "cmsr" (LMF's multi-scale rendering applies to rescaling only).
void install_cmsr_property(GObjectClass* klass);
// Sets / gets one of the engine properties; false when prop_id is not one of them.
bool set_engine_property(EngineSettings& s, guint prop_id, const GValue* value);
bool get_engine_property(const EngineSettings& s, guint prop_id, GValue* value);

}  // namespace lerfgst
