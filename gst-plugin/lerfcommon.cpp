#include "lerfcommon.hpp"

#include <algorithm>
#include <cstring>

#include "lerf/error.hpp"
#include "lerf/methods.hpp"

namespace lerfgst {

namespace {

// Nicks are the engine's names (methods.hpp), checked against parse_method at registration.
const GEnumValue kMethodValues[] = {
    {static_cast<gint>(lerf::Method::Nearest), "Nearest neighbour", "nearest"},
    {static_cast<gint>(lerf::Method::Bilinear), "Bilinear (2 taps)", "bilinear"},
    {static_cast<gint>(lerf::Method::Bicubic), "Bicubic (Keys, a = -0.5)", "bicubic"},
    {static_cast<gint>(lerf::Method::Lanczos), "Lanczos-3", "lanczos"},
    {static_cast<gint>(lerf::Method::LerfL), "LeRF-L: learned steerable resampling, linear kernels", "lerf-l"},
    {static_cast<gint>(lerf::Method::LerfG), "LeRF-G: learned steerable resampling, Gaussian kernels", "lerf-g"},
    {static_cast<gint>(lerf::Method::ImLut), "IM-LUT: learned mix of interpolations per pattern and scale", "im-lut"},
    {static_cast<gint>(lerf::Method::Liif), "LIIF: local implicit image function, residual over bicubic", "liif"},
    {static_cast<gint>(lerf::Method::ALiif), "A-LIIF: LIIF with per-query mixed MLP weights", "a-liif"},
    {static_cast<gint>(lerf::Method::Lmf), "LMF: latent modulated functions, cheap per-pixel render (CMSR on the CPU)", "lmf"},
    {0, nullptr, nullptr},
};

const GEnumValue kBackendValues[] = {
    {static_cast<gint>(lerf::BackendKind::Auto), "Best available (Vulkan when built and usable, else CPU)", "auto"},
    {static_cast<gint>(lerf::BackendKind::Cpu), "CPU (reference, multi-threaded)", "cpu"},
    {static_cast<gint>(lerf::BackendKind::Vulkan), "Vulkan compute", "vulkan"},
    {0, nullptr, nullptr},
};

const GEnumValue kBorderValues[] = {
    {static_cast<gint>(WarpBorder::Black), "Black (opaque) outside the input", "black"},
    {static_cast<gint>(WarpBorder::Transparent), "Black with alpha 0 outside the input", "transparent"},
    {static_cast<gint>(WarpBorder::Clamp), "Repeat the nearest edge pixel", "clamp"},
    {0, nullptr, nullptr},
};

}  // namespace

GType method_get_type() {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    for (const GEnumValue* v = kMethodValues; v->value_nick; ++v) {
      auto parsed = lerf::parse_method(v->value_nick);
      if (!parsed || static_cast<gint>(*parsed) != v->value)
        g_critical("lerf: method nick '%s' does not match the engine's name", v->value_nick);
    }
    g_once_init_leave(&type, g_enum_register_static("GstLerfMethod", kMethodValues));
  }
  return type;
}

GType backend_get_type() {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    for (const GEnumValue* v = kBackendValues; v->value_nick; ++v) {
      auto parsed = lerf::parse_backend(v->value_nick);
      if (!parsed || static_cast<gint>(*parsed) != v->value)
        g_critical("lerf: backend nick '%s' does not match the engine's name", v->value_nick);
    }
    g_once_init_leave(&type, g_enum_register_static("GstLerfBackend", kBackendValues));
  }
  return type;
}

GType border_get_type() {
  static gsize type = 0;
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstLerfWarpBorder", kBorderValues));
  return type;
}

lerf::Engine& EngineCache::get(const EngineSettings& s) {
  if (engine_ && built_for_ && *built_for_ == s) return *engine_;
  engine_.reset();
  built_for_.reset();
  lerf::EngineOptions o;
  o.method = s.method;
  o.backend = cpu_fallback_ && s.backend == lerf::BackendKind::Auto ? lerf::BackendKind::Cpu : s.backend;
  o.model_dir = s.model_dir;
  o.threads = static_cast<int>(std::min<guint>(s.n_threads, 1024));
  o.device_index = static_cast<int>(std::min<guint>(s.device_index, G_MAXINT));
  o.cmsr = s.cmsr;
  engine_ = std::make_unique<lerf::Engine>(o);
  built_for_ = s;
  return *engine_;
}

void EngineCache::run(GstElement* element, const EngineSettings& s, const std::function<void(lerf::Engine&)>& fn) {
  lerf::Engine& engine = get(s);
  if (engine.backend().kind() != lerf::BackendKind::Vulkan || s.backend != lerf::BackendKind::Auto) {
    fn(engine);
    return;
  }
  try {
    fn(engine);
    return;
  } catch (const lerf::Error& e) {
    GST_ELEMENT_WARNING(element, RESOURCE, FAILED,
                        ("Vulkan failed mid-stream (%s); continuing on the CPU backend", e.what()),
                        ("backend=auto: engine rebuilt on the CPU after: %s", e.what()));
    cpu_fallback_ = true;
    engine_.reset();
    built_for_.reset();
  }
  fn(get(s));
}

void EngineCache::reset() {
  engine_.reset();
  built_for_.reset();
  cpu_fallback_ = false;
}

bool format_supported(GstVideoFormat format) {
  const GstVideoFormatInfo* f = gst_video_format_get_info(format);
  if (!f || GST_VIDEO_FORMAT_INFO_IS_COMPLEX(f) || GST_VIDEO_FORMAT_INFO_HAS_PALETTE(f) ||
      GST_VIDEO_FORMAT_INFO_IS_TILED(f))
    return false;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(f); ++c)
    if (GST_VIDEO_FORMAT_INFO_DEPTH(f, c) != 8 || GST_VIDEO_FORMAT_INFO_SHIFT(f, c) != 0) return false;
  // Every component of a plane must share its subsampling (no packed 4:2:2 like YUY2).
  for (guint p = 0; p < GST_VIDEO_FORMAT_INFO_N_PLANES(f); ++p) {
    gint comps[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component(f, p, comps);
    for (int i = 1; i < GST_VIDEO_MAX_COMPONENTS && comps[i] >= 0; ++i)
      if (f->w_sub[comps[i]] != f->w_sub[comps[0]] || f->h_sub[comps[i]] != f->h_sub[comps[0]]) return false;
    int stride = GST_VIDEO_FORMAT_INFO_PSTRIDE(f, comps[0]);
    if (stride < 1 || stride > 4) return false;
  }
  return true;
}

void apply_caps_chroma_site(GstCaps* caps, GstVideoInfo* info) {
  if (!caps || gst_caps_is_empty(caps)) return;
  const gchar* site = gst_structure_get_string(gst_caps_get_structure(caps, 0), "chroma-site");
  if (!site) return;
  GstVideoChromaSite parsed = gst_video_chroma_site_from_string(site);
  if (parsed != GST_VIDEO_CHROMA_SITE_UNKNOWN) info->chroma_site = parsed;
}

std::vector<PlaneLayout> plane_layouts(const GstVideoInfo& info) {
  const GstVideoFormatInfo* f = info.finfo;
  std::vector<PlaneLayout> layouts;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
    gint comps[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component(f, p, comps);
    PlaneLayout l;
    l.first_component = comps[0];
    l.channels = GST_VIDEO_FORMAT_INFO_PSTRIDE(f, comps[0]);
    l.w_sub = GST_VIDEO_FORMAT_INFO_W_SUB(f, comps[0]);
    l.h_sub = GST_VIDEO_FORMAT_INFO_H_SUB(f, comps[0]);
    l.sampling.sub_x = 1 << l.w_sub;
    l.sampling.sub_y = 1 << l.h_sub;
    l.sampling.cosited_x = l.w_sub > 0 && (info.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED);
    l.sampling.cosited_y = l.h_sub > 0 && (info.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED);
    layouts.push_back(l);
  }
  return layouts;
}

lerf::PlaneView plane_view(GstVideoFrame* frame, int plane, const PlaneLayout& l) {
  lerf::PlaneView v;
  v.data = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
  v.width = GST_VIDEO_FRAME_COMP_WIDTH(frame, l.first_component);
  v.height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, l.first_component);
  v.stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
  v.channels = l.channels;
  return v;
}

lerf::PlaneView plane_subview(const lerf::PlaneView& view, const PlaneLayout& l, const Rect& r) {
  int x0 = r.x >> l.w_sub, y0 = r.y >> l.h_sub;
  int x1 = std::min(view.width, GST_VIDEO_SUB_SCALE(l.w_sub, r.x + r.width));
  int y1 = std::min(view.height, GST_VIDEO_SUB_SCALE(l.h_sub, r.y + r.height));
  lerf::PlaneView v = view;
  v.data = view.data + y0 * view.stride + static_cast<std::ptrdiff_t>(x0) * view.channels;
  v.width = std::max(0, x1 - x0);
  v.height = std::max(0, y1 - y0);
  return v;
}

std::array<std::uint8_t, 4> plane_black(const GstVideoInfo& info, int plane, bool transparent) {
  const GstVideoFormatInfo* f = info.finfo;
  std::array<std::uint8_t, 4> v{255, 255, 255, 255};  // padding bytes (RGBx): opaque
  bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(f);
  bool full_range = info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(f); ++c) {
    if (GST_VIDEO_FORMAT_INFO_PLANE(f, c) != static_cast<guint>(plane)) continue;
    guint offset = GST_VIDEO_FORMAT_INFO_POFFSET(f, c);
    if (offset >= 4) continue;
    std::uint8_t value = 0;
    if (c == GST_VIDEO_COMP_A) value = transparent ? 0 : 255;
    else if (yuv) value = c == GST_VIDEO_COMP_Y ? (full_range ? 0 : 16) : 128;
    v[offset] = value;
  }
  return v;
}

int padding_byte(const GstVideoInfo& info, int plane) {
  const GstVideoFormatInfo* f = info.finfo;
  gint comps[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component(f, static_cast<guint>(plane), comps);
  if (comps[0] < 0 || GST_VIDEO_FORMAT_INFO_PSTRIDE(f, comps[0]) != 4) return -1;
  unsigned used = 0;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(f); ++c)
    if (GST_VIDEO_FORMAT_INFO_PLANE(f, c) == static_cast<guint>(plane)) used |= 1u << GST_VIDEO_FORMAT_INFO_POFFSET(f, c);
  for (int b = 0; b < 4; ++b)
    if (used == (15u & ~(1u << b))) return b;
  return -1;
}

void fill_plane(const lerf::PlaneView& view, const std::array<std::uint8_t, 4>& value) {
  for (int y = 0; y < view.height; ++y) {
    std::uint8_t* row = view.row(y);
    if (view.channels == 1) {
      std::memset(row, value[0], static_cast<std::size_t>(view.width));
      continue;
    }
    for (int x = 0; x < view.width; ++x)
      for (int c = 0; c < view.channels; ++c) row[x * view.channels + c] = value[static_cast<std::size_t>(c)];
  }
}

namespace {

// One field of a plane job: input rows of parity `field` (frame rows field, field + 2, ...),
// the output rows of the same parity (out_row0: the plane row where job.out starts, so a
// letterbox offset keeps the parity of frame rows), and the map between the two fields'
// row numbers: out_to_in_field = S_in^-1 M S_out, S_out: (x, j) -> (x, 2 j + o) in the output
// view, S_in^-1: (u, v) -> (u, (v - field) / 2).
lerf::PlaneJob field_job(const lerf::PlaneJob& job, int field, int out_row0) {
  lerf::PlaneJob f = job;
  const int o = ((field - out_row0) % 2 + 2) % 2;
  f.in.data = job.in.data + static_cast<std::ptrdiff_t>(field) * job.in.stride;
  f.in.stride = job.in.stride * 2;
  f.in.height = (job.in.height - field + 1) / 2;
  f.out.data = job.out.data + static_cast<std::ptrdiff_t>(o) * job.out.stride;
  f.out.stride = job.out.stride * 2;
  f.out.height = (job.out.height - o + 1) / 2;
  const lerf::Matrix3 s_out{{1, 0, 0, 0, 2, static_cast<double>(o), 0, 0, 1}};
  const lerf::Matrix3 s_in_inv{{1, 0, 0, 0, 0.5, -0.5 * field, 0, 0, 1}};
  f.map.out_to_in = s_in_inv * job.map.out_to_in * s_out;
  return f;
}

// The 3 colour bytes of each 4-byte pixel of src (pad: the padding byte's offset) into dst
// (3 channels, same size), and back with the padding byte set to 255.
template <int Pad>
void pack_colour(const lerf::ConstPlaneView& src, const lerf::PlaneView& dst) {
  for (int y = 0; y < src.height; ++y) {
    const std::uint8_t* s = src.row(y);
    std::uint8_t* d = dst.row(y);
    for (int x = 0; x < src.width; ++x)
      for (int c = 0, b = 0; b < 4; ++b)
        if (b != Pad) d[3 * x + c++] = s[4 * x + b];
  }
}

template <int Pad>
void unpack_colour(const lerf::ConstPlaneView& src, const lerf::PlaneView& dst) {
  for (int y = 0; y < src.height; ++y) {
    const std::uint8_t* s = src.row(y);
    std::uint8_t* d = dst.row(y);
    for (int x = 0; x < src.width; ++x)
      for (int c = 0, b = 0; b < 4; ++b) d[4 * x + b] = b == Pad ? 255 : s[3 * x + c++];
  }
}

void repack(bool pack, int pad, const lerf::ConstPlaneView& src, const lerf::PlaneView& dst) {
  switch (pad) {
    case 0: return pack ? pack_colour<0>(src, dst) : unpack_colour<0>(src, dst);
    case 1: return pack ? pack_colour<1>(src, dst) : unpack_colour<1>(src, dst);
    case 2: return pack ? pack_colour<2>(src, dst) : unpack_colour<2>(src, dst);
    default: return pack ? pack_colour<3>(src, dst) : unpack_colour<3>(src, dst);
  }
}

// A plane, reallocated only when its size changes.
lerf::PlaneView reuse_plane(lerf::Plane& p, int width, int height, int channels) {
  if (p.width() != width || p.height() != height || p.channels() != channels) p = lerf::Plane(width, height, channels);
  return p.view();
}

}  // namespace

void render_frame(lerf::Engine& engine, GstVideoFrame* in, GstVideoFrame* out, const lerf::CoordinateMap& luma_map,
                  const Rect& out_rect, lerf::Border border, bool transparent, RenderScratch* scratch) {
  // Interlaced frames (interleaved, or mixed with the buffer flagged interlaced): each field is
  // resampled on its own, so the two instants of a frame are never blended together. Alternate
  // mode carries one field per buffer: progressive here.
  const bool fields = GST_VIDEO_INFO_INTERLACE_MODE(&in->info) != GST_VIDEO_INTERLACE_MODE_ALTERNATE &&
                      GST_VIDEO_FRAME_IS_INTERLACED(in);
  auto in_layouts = plane_layouts(in->info);
  auto out_layouts = plane_layouts(out->info);
  if (in_layouts.size() != out_layouts.size()) throw lerf::Error("input and output formats differ");
  bool full = out_rect.x == 0 && out_rect.y == 0 && out_rect.width == GST_VIDEO_FRAME_WIDTH(out) &&
              out_rect.height == GST_VIDEO_FRAME_HEIGHT(out);
  std::vector<lerf::PlaneJob> jobs;
  // The plane resampled through scratch (a padding byte, a learned method), if any: its
  // output view and padding offset, for the unpacking after the run.
  lerf::PlaneView repacked_out;
  int repacked_pad = -1;
  for (std::size_t p = 0; p < in_layouts.size(); ++p) {
    const PlaneLayout& l = out_layouts[p];
    lerf::PlaneView out_plane = plane_view(out, static_cast<int>(p), l);
    auto black = plane_black(out->info, static_cast<int>(p), transparent);
    if (!full) fill_plane(out_plane, black);
    lerf::PlaneJob job;
    job.in = plane_view(in, static_cast<int>(p), in_layouts[p]);
    job.out = full ? out_plane : plane_subview(out_plane, l, out_rect);
    job.map = lerf::plane_map(luma_map, l.sampling);
    job.border = border;
    job.border_value = black;
    if (job.out.empty()) continue;
    const int pad = padding_byte(out->info, static_cast<int>(p));
    if (scratch && repacked_pad < 0 && pad >= 0 && pad == padding_byte(in->info, static_cast<int>(p)) &&
        lerf::method_needs_model(engine.method())) {
      lerf::PlaneView in3 = reuse_plane(scratch->in, job.in.width, job.in.height, 3);
      repack(true, pad, job.in, in3);
      repacked_out = job.out;
      repacked_pad = pad;
      job.in = in3;
      job.out = reuse_plane(scratch->out, job.out.width, job.out.height, 3);
      for (int c = 0, b = 0; b < 4; ++b)
        if (b != pad) job.border_value[static_cast<std::size_t>(c++)] = black[static_cast<std::size_t>(b)];
    }
    if (!fields) {
      jobs.push_back(job);
      continue;
    }
    const int out_row0 = full ? 0 : (out_rect.y >> l.h_sub);
    for (int field = 0; field < 2; ++field) {
      lerf::PlaneJob f = field_job(job, field, out_row0);
      if (f.in.height > 0 && !f.out.empty()) jobs.push_back(f);
    }
  }
  engine.run(jobs);
  if (repacked_pad >= 0) repack(false, repacked_pad, scratch->out.view(), repacked_out);
}

GstCaps* open_size_caps(GstCaps* caps, GstCaps* filter, bool open_par) {
  GstCaps* ret = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstStructure* st = gst_caps_get_structure(caps, i);
    GstCapsFeatures* features = gst_caps_get_features(caps, i);
    // This structure is already expressed by an earlier one, opened.
    if (i > 0 && gst_caps_is_subset_structure_full(ret, st, features)) continue;
    st = gst_structure_copy(st);
    if (!gst_caps_features_is_any(features)) {
      gst_structure_set(st, "width", GST_TYPE_INT_RANGE, 1, G_MAXINT, "height", GST_TYPE_INT_RANGE, 1, G_MAXINT,
                        nullptr);
      if (open_par && gst_structure_has_field(st, "pixel-aspect-ratio"))
        gst_structure_set(st, "pixel-aspect-ratio", GST_TYPE_FRACTION_RANGE, 1, G_MAXINT, G_MAXINT, 1, nullptr);
    }
    gst_caps_append_structure_full(ret, st, gst_caps_features_copy(features));
  }
  if (filter) {
    GstCaps* intersection = gst_caps_intersect_full(filter, ret, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(ret);
    ret = intersection;
  }
  return ret;
}

void post_error(GstElement* element, const char* what, const char* message) {
  GST_ELEMENT_ERROR(element, LIBRARY, SETTINGS, ("%s: %s", what, message), ("%s", message));
}

void install_engine_properties(GObjectClass* klass) {
  auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      klass, kPropMethod,
      g_param_spec_enum("method", "Method",
                        "Resampling method: classical kernels, or learned LeRF-L / LeRF-G / IM-LUT / LIIF / "
                        "A-LIIF / LMF (need a model)",
                        method_get_type(), static_cast<gint>(lerf::Method::LerfG), flags));
  g_object_class_install_property(
      klass, kPropBackend,
      g_param_spec_enum("backend", "Backend",
                        "Where the engine runs: auto = Vulkan on a GPU (on the pipeline's device for Vulkan "
                        "memory), else the CPU, falling back to the CPU if Vulkan fails mid-stream; "
                        "cpu; vulkan = any Vulkan device, errors are element errors",
                        backend_get_type(),
                        static_cast<gint>(lerf::BackendKind::Auto), flags));
  g_object_class_install_property(
      klass, kPropModelDir,
      g_param_spec_string("model-dir", "Model directory",
                          "Folder of the model, or a folder holding <method>/ folders; empty = the default search "
                          "path ($LERF_MODEL_DIR, the source tree's models/, the installed data directory)",
                          "", flags));
  g_object_class_install_property(
      klass, kPropNThreads,
      g_param_spec_uint("n-threads", "Threads", "Worker threads of the CPU backend (0 = all cores)", 0, 1024, 0,
                        flags));
  g_object_class_install_property(
      klass, kPropDeviceIndex,
      g_param_spec_uint("device-index", "Device index", "Vulkan physical device used by backend vulkan", 0,
                        G_MAXINT, 0, flags));
}

void install_cmsr_property(GObjectClass* klass) {
  auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      klass, kPropCmsr,
      g_param_spec_boolean("cmsr", "CMSR",
                           "lmf on the CPU backend: render smooth regions at a coarser scale and interpolate them "
                           "(controllable multi-scale rendering, when the model has a table for the scale)",
                           TRUE, flags));
}

bool set_engine_property(EngineSettings& s, guint prop_id, const GValue* value) {
  switch (prop_id) {
    case kPropMethod: s.method = static_cast<lerf::Method>(g_value_get_enum(value)); return true;
    case kPropBackend: s.backend = static_cast<lerf::BackendKind>(g_value_get_enum(value)); return true;
    case kPropModelDir: {
      const char* dir = g_value_get_string(value);
      s.model_dir = dir ? dir : "";
      return true;
    }
    case kPropNThreads: s.n_threads = g_value_get_uint(value); return true;
    case kPropDeviceIndex: s.device_index = g_value_get_uint(value); return true;
    case kPropCmsr: s.cmsr = g_value_get_boolean(value); return true;
    default: return false;
  }
}

bool get_engine_property(const EngineSettings& s, guint prop_id, GValue* value) {
  switch (prop_id) {
    case kPropMethod: g_value_set_enum(value, static_cast<gint>(s.method)); return true;
    case kPropBackend: g_value_set_enum(value, static_cast<gint>(s.backend)); return true;
    case kPropModelDir: g_value_set_string(value, s.model_dir.c_str()); return true;
    case kPropNThreads: g_value_set_uint(value, s.n_threads); return true;
    case kPropDeviceIndex: g_value_set_uint(value, s.device_index); return true;
    case kPropCmsr: g_value_set_boolean(value, s.cmsr); return true;
    default: return false;
  }
}

}  // namespace lerfgst
