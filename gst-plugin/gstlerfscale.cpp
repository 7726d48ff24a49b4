/**
 * SECTION:element-lerfscale
 * @title: lerfscale
 * @see_also: videoscale, lerfwarp
 *
 * Rescales raw video to the size downstream asks for, with learned steerable resampling
 * (LeRF-G, LeRF-L: look-up tables that pick an anisotropic kernel per pixel; IM-LUT), with
 * implicit neural functions (LIIF, A-LIIF, LMF; LMF's #GstLerfScale:cmsr on the CPU) or with a
 * classical kernel (nearest, bilinear, bicubic, lanczos). It negotiates like videoscale:
 * width, height and pixel-aspect-ratio are free, and when only some of them are fixed
 * downstream the others are chosen to keep the display aspect ratio. With
 * #GstLerfScale:add-borders, a display aspect ratio that cannot be kept is preserved by
 * black borders. Equal input and output sizes make the element passthrough.
 *
 * Learned methods need a model: #GstLerfScale:model-dir, or else $LERF_MODEL_DIR, the
 * source tree's models/ and the installed data directory, in that order. A missing model,
 * or an unusable backend is reported as an element error naming the problem.
 *
 * Planar, semi-planar and packed formats with 8-bit samples are supported (I420, YV12,
 * NV12, NV21, Y42B, Y444, GRAY8, RGBA, RGB, ...); subsampled chroma planes are resampled
 * on their own grid with the chroma siting of the caps, and alpha like any other channel.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,width=320,height=240 ! lerfscale method=lerf-g ! video/x-raw,width=1280,height=960 ! autovideosink
 * ]| Upscales the test pattern four times with LeRF-G.
 * |[
 * gst-launch-1.0 filesrc location=in.avi ! decodebin ! videoconvert ! lerfscale method=lanczos ! video/x-raw,height=1080 ! videoconvert ! autovideosink
 * ]| Scales a clip to 1080 lines, keeping its display aspect ratio.
 *
 * Since: 0.1
 */
#include "gstlerfscale.hpp"

#include <gst/video/navigation.h>

#include <mutex>

#include "lerf/error.hpp"
#include "lerf/geometry.hpp"
#include "lerfcommon.hpp"
#include "lerfvfuncs.hpp"
#include "lerfvulkan.hpp"

GST_DEBUG_CATEGORY_STATIC(gst_lerf_scale_debug);
#define GST_CAT_DEFAULT gst_lerf_scale_debug

namespace {

constexpr gboolean kDefaultAddBorders = TRUE;

struct Settings {
  lerfgst::EngineSettings engine;
  bool add_borders = kDefaultAddBorders;
};

// The C++ half of the element, created in init and destroyed in finalize.
struct ScaleState {
  std::mutex lock;
  Settings settings;         // guarded by lock; copied at the start of each frame
  lerfgst::EngineCache cache;  // streaming thread only
  lerfgst::VulkanPath vk;      // memory:VulkanImage
  lerfgst::RenderScratch scratch;  // streaming thread only
};

enum { PROP_0, PROP_ADD_BORDERS = lerfgst::kPropEngineLast };

}  // namespace

struct _GstLerfScale {
  GstVideoFilter parent;
  ScaleState* state;
};

G_DEFINE_TYPE(GstLerfScale, gst_lerf_scale, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(lerfscale, "lerfscale", GST_RANK_NONE, GST_TYPE_LERF_SCALE)

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(LERF_ELEMENT_CAPS));
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(LERF_ELEMENT_CAPS));

struct Fraction {
  gint n = 1, d = 1;
  friend bool operator==(const Fraction&, const Fraction&) = default;
};

// The value s accepts for an int field nearest to target, leaving s untouched.
gint nearest_int(const GstStructure* s, const char* field, gint target) {
  GstStructure* tmp = gst_structure_copy(s);
  gint v = target;
  if (gst_structure_has_field(tmp, field)) {
    gst_structure_fixate_field_nearest_int(tmp, field, target);
    if (!gst_structure_get_int(tmp, field, &v)) v = target;
  }
  gst_structure_free(tmp);
  return v;
}

// The pixel-aspect-ratio s (or to_par, when s has none) accepts nearest to want.
Fraction nearest_par(const GstStructure* s, const GValue* to_par, Fraction want) {
  GstStructure* tmp = gst_structure_copy(s);
  if (!gst_structure_has_field(tmp, "pixel-aspect-ratio")) gst_structure_set_value(tmp, "pixel-aspect-ratio", to_par);
  gst_structure_fixate_field_nearest_fraction(tmp, "pixel-aspect-ratio", want.n, want.d);
  Fraction got = want;
  if (!gst_structure_get_fraction(tmp, "pixel-aspect-ratio", &got.n, &got.d)) got = want;
  gst_structure_free(tmp);
  return got;
}

bool multiply(Fraction a, gint n, gint d, Fraction& out) {
  return gst_util_fraction_multiply(a.n, a.d, n, d, &out.n, &out.d);
}

// Chooses width, height and pixel-aspect-ratio of outs so that the display aspect ratio of
// ins is kept as well as the constraints allow, in the order videoscale uses: fixed sizes
// first, then the fixed PAR, then the input height (interlacing), then the input width.
void fixate_size(GstBaseTransform* trans, GstPadDirection direction, GstStructure* ins, GstStructure* outs) {
  const GValue* from_par_v = gst_structure_get_value(ins, "pixel-aspect-ratio");
  const GValue* to_par_v = gst_structure_get_value(outs, "pixel-aspect-ratio");
  GValue fallback_par = G_VALUE_INIT;
  // Fixating the source side from the sink side, a missing PAR downstream means "any";
  // the other way round a missing PAR means 1/1 (and is then set).
  if (!to_par_v) {
    if (direction == GST_PAD_SINK) {
      g_value_init(&fallback_par, GST_TYPE_FRACTION_RANGE);
      gst_value_set_fraction_range_full(&fallback_par, 1, G_MAXINT, G_MAXINT, 1);
    } else {
      g_value_init(&fallback_par, GST_TYPE_FRACTION);
      gst_value_set_fraction(&fallback_par, 1, 1);
      gst_structure_set(outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    }
    to_par_v = &fallback_par;
  }
  Fraction from_par;
  if (from_par_v && GST_VALUE_HOLDS_FRACTION(from_par_v))
    from_par = {gst_value_get_fraction_numerator(from_par_v), gst_value_get_fraction_denominator(from_par_v)};
  const bool to_par_fixed = gst_value_is_fixed(to_par_v) && GST_VALUE_HOLDS_FRACTION(to_par_v);
  Fraction to_par;
  if (to_par_fixed)
    to_par = {gst_value_get_fraction_numerator(to_par_v), gst_value_get_fraction_denominator(to_par_v)};

  gint from_w = 0, from_h = 0, w = 0, h = 0;
  gst_structure_get_int(ins, "width", &from_w);
  gst_structure_get_int(ins, "height", &from_h);
  gst_structure_get_int(outs, "width", &w);
  gst_structure_get_int(outs, "height", &h);
  const bool outs_has_par = gst_structure_has_field(outs, "pixel-aspect-ratio");
  auto set_par = [&](Fraction par) {
    if (outs_has_par || par.n != par.d)
      gst_structure_set(outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, par.n, par.d, nullptr);
  };
  auto scale_round = [](gint v, Fraction f) {
    return static_cast<gint>(gst_util_uint64_scale_int_round(static_cast<guint64>(v), f.n, f.d));
  };

  Fraction dar;
  do {
    if (from_w <= 0 || from_h <= 0) break;
    if (w && h) {
      // Both sizes fixed: only the PAR is left to choose.
      guint n = 1, d = 1;
      if (!to_par_fixed &&
          gst_video_calculate_display_ratio(&n, &d, from_w, from_h, from_par.n, from_par.d, w, h)) {
        if (outs_has_par) gst_structure_fixate_field_nearest_fraction(outs, "pixel-aspect-ratio", n, d);
        else if (n != d) gst_structure_set(outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, n, d, nullptr);
      }
      break;
    }
    if (!gst_util_fraction_multiply(from_w, from_h, from_par.n, from_par.d, &dar.n, &dar.d)) {
      GST_WARNING_OBJECT(trans, "display aspect ratio of %dx%d overflows", from_w, from_h);
      break;
    }
    Fraction ratio;  // output width / height that keeps the DAR with a given PAR
    if (h || w) {
      // One size fixed: choose the other (and the PAR when it is free).
      const bool height_fixed = h != 0;
      const char* free_field = height_fixed ? "width" : "height";
      gint fixed = height_fixed ? h : w;
      gint from_free = height_fixed ? from_w : from_h;
      auto free_for = [&](Fraction par) {  // the free size keeping the DAR with par
        if (!multiply(dar, par.d, par.n, ratio)) return -1;
        return height_fixed ? scale_round(fixed, ratio) : scale_round(fixed, Fraction{ratio.d, ratio.n});
      };
      if (to_par_fixed) {
        gint v = free_for(to_par);
        if (v > 0) gst_structure_fixate_field_nearest_int(outs, free_field, v);
        break;
      }
      // Keep the input's free size, adjusting the PAR to keep the DAR...
      gint set_free = nearest_int(outs, free_field, from_free);
      Fraction want;
      bool ok = height_fixed ? multiply(dar, h, set_free, want) : multiply(dar, set_free, w, want);
      if (!ok) break;
      Fraction got = nearest_par(outs, to_par_v, want);
      if (got == want) {
        gst_structure_set(outs, free_field, G_TYPE_INT, set_free, nullptr);
        set_par(got);
        break;
      }
      // ...or else scale the free size to the PAR that is accepted.
      gint v = free_for(got);
      if (v > 0) gst_structure_fixate_field_nearest_int(outs, free_field, v);
      set_par(got);
      break;
    }
    if (to_par_fixed) {
      // Only the PAR is fixed: keep the DAR, preferring the input height, then its width.
      if (!multiply(dar, to_par.d, to_par.n, ratio)) break;
      gint set_h = nearest_int(outs, "height", from_h);
      gint want_w = scale_round(set_h, ratio);
      gint set_w = nearest_int(outs, "width", want_w);
      if (set_w == want_w) {
        gst_structure_set(outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT, set_h, nullptr);
        break;
      }
      gint alt_w = nearest_int(outs, "width", from_w);
      gint want_h = scale_round(alt_w, Fraction{ratio.d, ratio.n});
      gint alt_h = nearest_int(outs, "height", want_h);
      if (alt_h == want_h) {
        gst_structure_set(outs, "width", G_TYPE_INT, alt_w, "height", G_TYPE_INT, alt_h, nullptr);
        break;
      }
      // Neither keeps the DAR: take the pair whose aspect ratio is closer.
      double target = static_cast<double>(ratio.n) / ratio.d;
      double err1 = std::abs(static_cast<double>(set_w) / set_h - target);
      double err2 = std::abs(static_cast<double>(alt_w) / alt_h - target);
      if (err2 < err1) set_w = alt_w, set_h = alt_h;
      gst_structure_set(outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT, set_h, nullptr);
      break;
    }
    // Nothing fixed: keep the input size and adjust the PAR if it can be...
    gint set_h = nearest_int(outs, "height", from_h);
    gint set_w = nearest_int(outs, "width", from_w);
    Fraction want;
    if (!multiply(dar, set_h, set_w, want)) break;
    Fraction got = nearest_par(outs, to_par_v, want);
    if (got == want) {
      gst_structure_set(outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT, set_h, nullptr);
      set_par(got);
      break;
    }
    // ...else keep the DAR with the accepted PAR by scaling the width, or else the height.
    if (!multiply(dar, got.d, got.n, ratio)) break;
    gint want_w = scale_round(set_h, ratio);
    if (nearest_int(outs, "width", want_w) == want_w) {
      gst_structure_set(outs, "width", G_TYPE_INT, want_w, "height", G_TYPE_INT, set_h, nullptr);
      set_par(got);
      break;
    }
    gint want_h = scale_round(set_w, Fraction{ratio.d, ratio.n});
    if (nearest_int(outs, "height", want_h) == want_h) {
      gst_structure_set(outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT, want_h, nullptr);
      set_par(got);
      break;
    }
    gst_structure_set(outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT, set_h, nullptr);
    set_par(got);
  } while (false);

  if (G_IS_VALUE(&fallback_par)) g_value_unset(&fallback_par);
}

// The rectangle of the output the picture occupies: all of it, or with add-borders the
// largest centred rectangle keeping the input's display aspect ratio (offsets aligned to
// the chroma subsampling).
lerfgst::Rect content_rect(const GstVideoInfo& in, const GstVideoInfo& out, bool add_borders) {
  lerfgst::Rect r{0, 0, GST_VIDEO_INFO_WIDTH(&out), GST_VIDEO_INFO_HEIGHT(&out)};
  if (!add_borders) return r;
  gint in_n, in_d, out_n, out_d;
  if (!gst_util_fraction_multiply(in.width, in.height, in.par_n, in.par_d, &in_n, &in_d) ||
      !gst_util_fraction_multiply(out.width, out.height, out.par_n, out.par_d, &out_n, &out_d))
    return r;
  if (gst_util_fraction_compare(in_n, in_d, out_n, out_d) == 0) return r;
  gint n, d;  // content width / height in output pixels
  if (!gst_util_fraction_multiply(in_n, in_d, out.par_d, out.par_n, &n, &d)) return r;
  int align_x = 1, align_y = 1;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(&out); ++c) {
    align_x = std::max(align_x, 1 << GST_VIDEO_FORMAT_INFO_W_SUB(out.finfo, c));
    align_y = std::max(align_y, 1 << GST_VIDEO_FORMAT_INFO_H_SUB(out.finfo, c));
  }
  gint to_h = static_cast<gint>(gst_util_uint64_scale_int(static_cast<guint64>(out.width), d, n));
  if (to_h <= out.height) {
    r.height = std::max(1, to_h);
    r.y = ((out.height - r.height) / 2) / align_y * align_y;
  } else {
    r.width = std::max(1, static_cast<gint>(gst_util_uint64_scale_int(static_cast<guint64>(out.height), n, d)));
    r.width = std::min(r.width, out.width);
    r.x = ((out.width - r.width) / 2) / align_x * align_x;
  }
  return r;
}

}  // namespace

static void gst_lerf_scale_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_LERF_SCALE(object);
  std::lock_guard lock(self->state->lock);
  Settings& s = self->state->settings;
  if (lerfgst::set_engine_property(s.engine, prop_id, value)) return;
  if (prop_id == PROP_ADD_BORDERS) {
    s.add_borders = g_value_get_boolean(value);
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_lerf_scale_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_LERF_SCALE(object);
  std::lock_guard lock(self->state->lock);
  const Settings& s = self->state->settings;
  if (lerfgst::get_engine_property(s.engine, prop_id, value)) return;
  if (prop_id == PROP_ADD_BORDERS) {
    g_value_set_boolean(value, s.add_borders);
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_lerf_scale_finalize(GObject* object) {
  delete GST_LERF_SCALE(object)->state;
  G_OBJECT_CLASS(gst_lerf_scale_parent_class)->finalize(object);
}

struct ScaleTraits {
  static ScaleState& state(gpointer element) { return *GST_LERF_SCALE(element)->state; }
  static gpointer parent_class() { return gst_lerf_scale_parent_class; }
};

static GstCaps* gst_lerf_scale_transform_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                              GstCaps* filter) {
  GstCaps* ret = lerfgst::open_size_caps(caps, filter, true);
  GST_DEBUG_OBJECT(trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", static_cast<void*>(caps),
                   static_cast<void*>(ret));
  return ret;
}

static GstCaps* gst_lerf_scale_fixate_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                           GstCaps* othercaps) {
  othercaps = gst_caps_make_writable(gst_caps_truncate(othercaps));
  GST_DEBUG_OBJECT(trans, "fixating %" GST_PTR_FORMAT " from %" GST_PTR_FORMAT, static_cast<void*>(othercaps),
                   static_cast<void*>(caps));
  if (!gst_caps_is_empty(caps) && !gst_caps_is_empty(othercaps))
    fixate_size(trans, direction, gst_caps_get_structure(caps, 0), gst_caps_get_structure(othercaps, 0));
  othercaps = gst_caps_fixate(othercaps);
  GST_DEBUG_OBJECT(trans, "fixated to %" GST_PTR_FORMAT, static_cast<void*>(othercaps));
  return othercaps;
}

static gboolean gst_lerf_scale_set_info(GstVideoFilter* filter, GstCaps* incaps, GstVideoInfo* in_info, GstCaps* outcaps,
                                        GstVideoInfo* out_info) {
  lerfgst::apply_caps_chroma_site(incaps, in_info);
  lerfgst::apply_caps_chroma_site(outcaps, out_info);
  if (!lerfgst::format_supported(GST_VIDEO_INFO_FORMAT(in_info)) ||
      GST_VIDEO_INFO_FORMAT(in_info) != GST_VIDEO_INFO_FORMAT(out_info)) {
    GST_ERROR_OBJECT(filter, "unsupported conversion %s -> %s", GST_VIDEO_INFO_NAME(in_info),
                     GST_VIDEO_INFO_NAME(out_info));
    return FALSE;
  }
  gboolean same = GST_VIDEO_INFO_WIDTH(in_info) == GST_VIDEO_INFO_WIDTH(out_info) &&
                  GST_VIDEO_INFO_HEIGHT(in_info) == GST_VIDEO_INFO_HEIGHT(out_info);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(filter), same);
  if (!GST_LERF_SCALE(filter)->state->vk.configure(GST_ELEMENT(filter), incaps, *in_info, *out_info)) return FALSE;
  GST_DEBUG_OBJECT(filter, "%dx%d -> %dx%d%s, chroma site 0x%x", in_info->width, in_info->height, out_info->width,
                   out_info->height, same ? " (passthrough)" : "", static_cast<unsigned>(out_info->chroma_site));
  return TRUE;
}

static GstFlowReturn gst_lerf_scale_transform_frame(GstVideoFilter* filter, GstVideoFrame* in, GstVideoFrame* out) {
  auto* self = GST_LERF_SCALE(filter);
  Settings s;
  {
    std::lock_guard lock(self->state->lock);
    s = self->state->settings;
  }
  return lerfgst::guarded(GST_ELEMENT(filter), "lerfscale", [&] {
    lerfgst::Rect r = content_rect(in->info, out->info, s.add_borders);
    auto map = lerf::resize_map({GST_VIDEO_FRAME_WIDTH(in), GST_VIDEO_FRAME_HEIGHT(in)}, {r.width, r.height});
    self->state->cache.run(GST_ELEMENT(filter), s.engine, [&](lerf::Engine& engine) {
      lerfgst::render_frame(engine, in, out, map, r, lerf::Border::Clamp, false, &self->state->scratch);
    });
  });
}

// memory:VulkanImage: the frame stays on the device; system memory: GstVideoFilter maps the
// frames and calls transform_frame.
static GstFlowReturn gst_lerf_scale_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  auto* self = GST_LERF_SCALE(trans);
  if (!self->state->vk.active())
    return GST_BASE_TRANSFORM_CLASS(gst_lerf_scale_parent_class)->transform(trans, inbuf, outbuf);
  Settings s;
  {
    std::lock_guard lock(self->state->lock);
    s = self->state->settings;
  }
  GstVideoFilter* filter = GST_VIDEO_FILTER(trans);
  return lerfgst::guarded(GST_ELEMENT(trans), "lerfscale", [&] {
    lerfgst::Rect r = content_rect(filter->in_info, filter->out_info, s.add_borders);
    auto map = lerf::resize_map({GST_VIDEO_INFO_WIDTH(&filter->in_info), GST_VIDEO_INFO_HEIGHT(&filter->in_info)},
                                {r.width, r.height});
    self->state->vk.render(s.engine, inbuf, outbuf, map, r, lerf::Border::Clamp, false);
  });
}

// Pointer coordinates of navigation events (mouse clicks in a video window) travel upstream
// in output pixels; the elements upstream want them in their own (input) pixels, as
// videoscale does it. With add-borders, a point on a border maps outside the input.
static gboolean gst_lerf_scale_src_event(GstBaseTransform* trans, GstEvent* event) {
  GstVideoFilter* filter = GST_VIDEO_FILTER(trans);
  gdouble x, y;
  if (GST_EVENT_TYPE(event) == GST_EVENT_NAVIGATION && filter->negotiated &&
      gst_navigation_event_get_coordinates(event, &x, &y)) {
    bool add_borders;
    {
      std::lock_guard lock(GST_LERF_SCALE(trans)->state->lock);
      add_borders = GST_LERF_SCALE(trans)->state->settings.add_borders;
    }
    lerfgst::Rect r = content_rect(filter->in_info, filter->out_info, add_borders);
    if (r.width > 0 && r.height > 0) {
      event = gst_event_make_writable(event);
      gst_navigation_event_set_coordinates(event, (x - r.x) * GST_VIDEO_INFO_WIDTH(&filter->in_info) / r.width,
                                           (y - r.y) * GST_VIDEO_INFO_HEIGHT(&filter->in_info) / r.height);
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_lerf_scale_parent_class)->src_event(trans, event);
}

static void gst_lerf_scale_class_init(GstLerfScaleClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_lerf_scale_debug, "lerfscale", 0, "learned video rescaling");

  gobject_class->set_property = gst_lerf_scale_set_property;
  gobject_class->get_property = gst_lerf_scale_get_property;
  gobject_class->finalize = gst_lerf_scale_finalize;

  lerfgst::install_engine_properties(gobject_class);
  lerfgst::install_cmsr_property(gobject_class);
  g_object_class_install_property(
      gobject_class, PROP_ADD_BORDERS,
      g_param_spec_boolean("add-borders", "Add Borders",
                           "Add black borders if necessary to keep the display aspect ratio", kDefaultAddBorders,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_PLAYING)));

  gst_element_class_set_static_metadata(
      element_class, "Learned video scaler", "Filter/Converter/Video/Scaler",
      "Rescales video with learned steerable resampling (LeRF) or classical kernels", "lerfscale developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  lerfgst::SharedVfuncs<ScaleTraits>::install(element_class, trans_class);
  trans_class->src_event = gst_lerf_scale_src_event;
  trans_class->transform = gst_lerf_scale_transform;
  trans_class->transform_caps = gst_lerf_scale_transform_caps;
  trans_class->fixate_caps = gst_lerf_scale_fixate_caps;
  filter_class->set_info = gst_lerf_scale_set_info;
  filter_class->transform_frame = gst_lerf_scale_transform_frame;

  gst_type_mark_as_plugin_api(lerfgst::method_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(lerfgst::backend_get_type(), static_cast<GstPluginAPIFlags>(0));
}

static void gst_lerf_scale_init(GstLerfScale* self) {
  self->state = new ScaleState();
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
