/**
 * SECTION:element-lerfwarp
 * @title: lerfwarp
 * @see_also: perspective, lerfscale
 *
 * Warps raw video by a homography (a 3x3 matrix, row-major), resampling with learned
 * steerable resampling (LeRF-G, LeRF-L) or a classical kernel. The matrix maps an INPUT
 * pixel (x, y, 1) to the OUTPUT pixel (u / w, v / w) with (u, v, w) = M (x, y, 1), exactly
 * as OpenCV's warpPerspective() without WARP_INVERSE_MAP, with pixel centres at integer
 * coordinates. The gst-plugins-bad `perspective` element takes the opposite direction: its
 * matrix maps output pixels to input pixels, so `perspective matrix=M` corresponds to
 * `lerfwarp matrix=inverse(M)` (and lerfwarp resamples with the chosen method where
 * perspective picks the nearest pixel).
 *
 * The output size is whatever downstream asks for; by default (free caps) it is the input
 * size. Output pixels that map outside the input get #GstLerfWarp:border: black (Y=16,
 * U=V=128 or RGB 0, opaque), transparent (the same with alpha 0) or clamp (the nearest
 * edge pixel). A singular matrix, a missing model or an unusable backend is an element
 * error.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,format=RGBA,width=640,height=480 ! lerfwarp method=bicubic matrix="<1.0,0.0,40.0, 0.0,1.0,20.0, 0.0,0.0,1.0>" ! videoconvert ! autovideosink
 * ]| Shifts the picture 40 pixels right and 20 down.
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,width=640,height=480 ! lerfwarp method=lerf-g border=clamp matrix="<0.9,-0.1,40.0, 0.05,0.95,10.0, 0.0001,0.0,1.0>" ! videoconvert ! autovideosink
 * ]| A perspective correction with LeRF-G.
 *
 * Since: 0.1
 */
#include "gstlerfwarp.hpp"

#include <gst/video/navigation.h>

#include <array>
#include <cmath>
#include <mutex>

#include "lerf/error.hpp"
#include "lerf/geometry.hpp"
#include "lerfcommon.hpp"
#include "lerfvfuncs.hpp"
#include "lerfvulkan.hpp"

GST_DEBUG_CATEGORY_STATIC(gst_lerf_warp_debug);
#define GST_CAT_DEFAULT gst_lerf_warp_debug

namespace {

struct Settings {
  lerfgst::EngineSettings engine;
  std::array<double, 9> matrix{1, 0, 0, 0, 1, 0, 0, 0, 1};
  lerfgst::WarpBorder border = lerfgst::WarpBorder::Black;
};

struct WarpState {
  std::mutex lock;
  Settings settings;           // guarded by lock; copied at the start of each frame
  lerfgst::EngineCache cache;  // streaming thread only
  lerfgst::VulkanPath vk;      // memory:VulkanImage
  lerfgst::RenderScratch scratch;  // streaming thread only
};

enum { PROP_0, PROP_MATRIX = lerfgst::kPropEngineLast, PROP_BORDER };

}  // namespace

struct _GstLerfWarp {
  GstVideoFilter parent;
  WarpState* state;
};

G_DEFINE_TYPE(GstLerfWarp, gst_lerf_warp, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(lerfwarp, "lerfwarp", GST_RANK_NONE, GST_TYPE_LERF_WARP)

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(LERF_ELEMENT_CAPS));
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(LERF_ELEMENT_CAPS));

}  // namespace

static void gst_lerf_warp_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_LERF_WARP(object);
  if (prop_id == PROP_MATRIX) {
    // Parse outside the lock; accept anything that converts to double (e.g. <1,0,0,...>).
    guint n = gst_value_array_get_size(value);
    if (n != 9) {
      g_warning("lerfwarp: matrix needs 9 values (row-major 3x3), got %u; ignored", n);
      return;
    }
    std::array<double, 9> m{};
    for (guint i = 0; i < 9; ++i) {
      const GValue* v = gst_value_array_get_value(value, i);
      GValue d = G_VALUE_INIT;
      g_value_init(&d, G_TYPE_DOUBLE);
      if (!g_value_transform(v, &d)) {
        g_warning("lerfwarp: matrix entry %u is not a number; ignored", i);
        g_value_unset(&d);
        return;
      }
      m[i] = g_value_get_double(&d);
      g_value_unset(&d);
    }
    std::lock_guard lock(self->state->lock);
    self->state->settings.matrix = m;
    return;
  }
  std::lock_guard lock(self->state->lock);
  Settings& s = self->state->settings;
  if (lerfgst::set_engine_property(s.engine, prop_id, value)) return;
  if (prop_id == PROP_BORDER) {
    s.border = static_cast<lerfgst::WarpBorder>(g_value_get_enum(value));
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_lerf_warp_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_LERF_WARP(object);
  std::lock_guard lock(self->state->lock);
  const Settings& s = self->state->settings;
  if (lerfgst::get_engine_property(s.engine, prop_id, value)) return;
  switch (prop_id) {
    case PROP_MATRIX:
      for (double d : s.matrix) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_DOUBLE);
        g_value_set_double(&v, d);
        gst_value_array_append_value(value, &v);
        g_value_unset(&v);
      }
      return;
    case PROP_BORDER: g_value_set_enum(value, static_cast<gint>(s.border)); return;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_lerf_warp_finalize(GObject* object) {
  delete GST_LERF_WARP(object)->state;
  G_OBJECT_CLASS(gst_lerf_warp_parent_class)->finalize(object);
}

struct WarpTraits {
  static WarpState& state(gpointer element) { return *GST_LERF_WARP(element)->state; }
  static gpointer parent_class() { return gst_lerf_warp_parent_class; }
};

static GstCaps* gst_lerf_warp_transform_caps(GstBaseTransform*, GstPadDirection, GstCaps* caps, GstCaps* filter) {
  return lerfgst::open_size_caps(caps, filter, false);
}

// Free output sizes default to the input size.
static GstCaps* gst_lerf_warp_fixate_caps(GstBaseTransform*, GstPadDirection, GstCaps* caps, GstCaps* othercaps) {
  othercaps = gst_caps_make_writable(gst_caps_truncate(othercaps));
  if (!gst_caps_is_empty(caps) && !gst_caps_is_empty(othercaps)) {
    GstStructure* ins = gst_caps_get_structure(caps, 0);
    GstStructure* outs = gst_caps_get_structure(othercaps, 0);
    gint w = 0, h = 0;
    if (gst_structure_get_int(ins, "width", &w)) gst_structure_fixate_field_nearest_int(outs, "width", w);
    if (gst_structure_get_int(ins, "height", &h)) gst_structure_fixate_field_nearest_int(outs, "height", h);
  }
  return gst_caps_fixate(othercaps);
}

static gboolean gst_lerf_warp_set_info(GstVideoFilter* filter, GstCaps* incaps, GstVideoInfo* in_info, GstCaps* outcaps,
                                       GstVideoInfo* out_info) {
  lerfgst::apply_caps_chroma_site(incaps, in_info);
  lerfgst::apply_caps_chroma_site(outcaps, out_info);
  if (!lerfgst::format_supported(GST_VIDEO_INFO_FORMAT(in_info)) ||
      GST_VIDEO_INFO_FORMAT(in_info) != GST_VIDEO_INFO_FORMAT(out_info)) {
    GST_ERROR_OBJECT(filter, "unsupported conversion %s -> %s", GST_VIDEO_INFO_NAME(in_info),
                     GST_VIDEO_INFO_NAME(out_info));
    return FALSE;
  }
  return GST_LERF_WARP(filter)->state->vk.configure(GST_ELEMENT(filter), incaps, *in_info, *out_info);
}

static GstFlowReturn gst_lerf_warp_transform_frame(GstVideoFilter* filter, GstVideoFrame* in, GstVideoFrame* out) {
  auto* self = GST_LERF_WARP(filter);
  Settings s;
  {
    std::lock_guard lock(self->state->lock);
    s = self->state->settings;
  }
  return lerfgst::guarded(GST_ELEMENT(filter), "lerfwarp", [&] {
    lerf::CoordinateMap map;
    try {
      map = lerf::warp_map(lerf::Matrix3{s.matrix});
    } catch (const lerf::Error& e) {
      throw lerf::Error(std::string("matrix: ") + e.what());
    }
    lerfgst::Rect r{0, 0, GST_VIDEO_FRAME_WIDTH(out), GST_VIDEO_FRAME_HEIGHT(out)};
    auto border = s.border == lerfgst::WarpBorder::Clamp ? lerf::Border::Clamp : lerf::Border::Constant;
    self->state->cache.run(GST_ELEMENT(filter), s.engine, [&](lerf::Engine& engine) {
      lerfgst::render_frame(engine, in, out, map, r, border, s.border == lerfgst::WarpBorder::Transparent,
                            &self->state->scratch);
    });
  });
}

// memory:VulkanImage: the frame stays on the device; system memory: GstVideoFilter maps the
// frames and calls transform_frame.
static GstFlowReturn gst_lerf_warp_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  auto* self = GST_LERF_WARP(trans);
  if (!self->state->vk.active())
    return GST_BASE_TRANSFORM_CLASS(gst_lerf_warp_parent_class)->transform(trans, inbuf, outbuf);
  Settings s;
  {
    std::lock_guard lock(self->state->lock);
    s = self->state->settings;
  }
  GstVideoFilter* filter = GST_VIDEO_FILTER(trans);
  return lerfgst::guarded(GST_ELEMENT(trans), "lerfwarp", [&] {
    lerf::CoordinateMap map;
    try {
      map = lerf::warp_map(lerf::Matrix3{s.matrix});
    } catch (const lerf::Error& e) {
      throw lerf::Error(std::string("matrix: ") + e.what());
    }
    lerfgst::Rect r{0, 0, GST_VIDEO_INFO_WIDTH(&filter->out_info), GST_VIDEO_INFO_HEIGHT(&filter->out_info)};
    auto border = s.border == lerfgst::WarpBorder::Clamp ? lerf::Border::Clamp : lerf::Border::Constant;
    self->state->vk.render(s.engine, inbuf, outbuf, map, r, border, s.border == lerfgst::WarpBorder::Transparent);
  });
}

// Pointer coordinates of navigation events travel upstream in output pixels: map them through
// the warp to the input's (pixel centres at +0.5, like the engine's maps). A point with no
// preimage (beyond the horizon of a perspective, or a singular matrix) is not forwarded.
static gboolean gst_lerf_warp_src_event(GstBaseTransform* trans, GstEvent* event) {
  gdouble x, y;
  if (GST_EVENT_TYPE(event) == GST_EVENT_NAVIGATION && gst_navigation_event_get_coordinates(event, &x, &y)) {
    std::array<double, 9> m;
    {
      std::lock_guard lock(GST_LERF_WARP(trans)->state->lock);
      m = GST_LERF_WARP(trans)->state->settings.matrix;
    }
    try {
      const lerf::Matrix3 inv = lerf::warp_map(lerf::Matrix3{m}).out_to_in;
      const double ox = x - 0.5, oy = y - 0.5;
      const double u = inv(0, 0) * ox + inv(0, 1) * oy + inv(0, 2), v = inv(1, 0) * ox + inv(1, 1) * oy + inv(1, 2);
      const double w = inv(2, 0) * ox + inv(2, 1) * oy + inv(2, 2);
      if (!(w > 0) || !std::isfinite(u / w) || !std::isfinite(v / w)) throw lerf::Error("no preimage");
      event = gst_event_make_writable(event);
      gst_navigation_event_set_coordinates(event, u / w + 0.5, v / w + 0.5);
    } catch (const lerf::Error& e) {
      GST_DEBUG_OBJECT(trans, "navigation event at (%g, %g) dropped: %s", x, y, e.what());
      gst_event_unref(event);
      return TRUE;
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_lerf_warp_parent_class)->src_event(trans, event);
}

static void gst_lerf_warp_class_init(GstLerfWarpClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_lerf_warp_debug, "lerfwarp", 0, "learned homography warping");

  gobject_class->set_property = gst_lerf_warp_set_property;
  gobject_class->get_property = gst_lerf_warp_get_property;
  gobject_class->finalize = gst_lerf_warp_finalize;

  auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  lerfgst::install_engine_properties(gobject_class);
  g_object_class_install_property(
      gobject_class, PROP_MATRIX,
      gst_param_spec_array(
          "matrix", "Matrix",
          "Homography as 9 doubles, row-major, mapping input pixels (x, y, 1) to output pixels as OpenCV's "
          "warpPerspective does (the inverse of the matrix of gst-plugins-bad's perspective); default identity",
          g_param_spec_double("entry", "Matrix entry", "One entry of the 3x3 matrix", -G_MAXDOUBLE, G_MAXDOUBLE,
                              0.0, static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)),
          flags));
  g_object_class_install_property(
      gobject_class, PROP_BORDER,
      g_param_spec_enum("border", "Border", "What output pixels mapping outside the input get",
                        lerfgst::border_get_type(), static_cast<gint>(lerfgst::WarpBorder::Black), flags));

  gst_element_class_set_static_metadata(
      element_class, "Learned video warper", "Filter/Effect/Video",
      "Warps video by a homography with learned steerable resampling (LeRF) or classical kernels",
      "lerfscale developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  lerfgst::SharedVfuncs<WarpTraits>::install(element_class, trans_class);
  trans_class->src_event = gst_lerf_warp_src_event;
  trans_class->transform = gst_lerf_warp_transform;
  trans_class->transform_caps = gst_lerf_warp_transform_caps;
  trans_class->fixate_caps = gst_lerf_warp_fixate_caps;
  filter_class->set_info = gst_lerf_warp_set_info;
  filter_class->transform_frame = gst_lerf_warp_transform_frame;

  gst_type_mark_as_plugin_api(lerfgst::border_get_type(), static_cast<GstPluginAPIFlags>(0));
}

static void gst_lerf_warp_init(GstLerfWarp* self) {
  self->state = new WarpState();
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
