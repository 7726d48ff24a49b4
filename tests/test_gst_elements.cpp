// The lerf GStreamer plugin, tested through the real registered elements (lerfscale,
// lerfwarp) with GstHarness and real pipelines: negotiation, every format, passthrough,
// property and caps changes mid-stream, agreement with the lerf CLI, warping, errors, and
// a real clip.
#include <gst/app/gstappsink.h>
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/navigation.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "gst_test_support.hpp"
#include "lerf/engine.hpp"
#include "lerf/geometry.hpp"

namespace fs = std::filesystem;

namespace {

using namespace gsttest;

const char* const kClip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

// The authors' LUTs in ../shared (LERF_SHARED_DIR), or empty when absent.
std::string official_luts() {
  const char* shared = std::getenv("LERF_SHARED_DIR");
  if (!shared || !*shared) return {};
  fs::path p = fs::path(shared) / "reference" / "lerf-official";
  return fs::is_directory(p / "lerf-g") ? p.string() : std::string();
}

#define REQUIRE_LUTS()                                                                                    \
  do {                                                                                                    \
    if (official_luts().empty())                                                                          \
      GTEST_SKIP() << "../shared/reference/lerf-official is absent (LERF_SHARED_DIR): no LeRF LUTs to test"; \
  } while (0)

// RAII around GstHarness.
struct Harness {
  GstHarness* h;
  explicit Harness(const char* launch) : h(gst_harness_new_parse(launch)) {}
  ~Harness() { gst_harness_teardown(h); }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  GstHarness* operator->() const { return h; }
  operator GstHarness*() const { return h; }
  // The element of the parsed bin called name.
  GstElement* element(const char* name) const { return gst_bin_get_by_name(GST_BIN(h->element), name); }
};

struct ObjectRef {
  gpointer p;
  explicit ObjectRef(gpointer o) : p(o) {}
  ~ObjectRef() {
    if (p) gst_object_unref(p);
  }
  ObjectRef(const ObjectRef&) = delete;
  ObjectRef& operator=(const ObjectRef&) = delete;
};

GstBuffer* make_buffer(const GstVideoInfo& info, int seed, int noise = 12) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame f;
  EXPECT_TRUE(gst_video_frame_map(&f, &info, buf, GST_MAP_WRITE));
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); ++p) {
    int comp = plane_component(info, p);
    int w = GST_VIDEO_FRAME_COMP_WIDTH(&f, comp), h = GST_VIDEO_FRAME_COMP_HEIGHT(&f, comp);
    int ch = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
    auto* data = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, p));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w * ch; ++x)
        data[y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p) + x] =
            pattern(x / ch, y, static_cast<int>(p) * 4 + x % ch, seed, noise);
  }
  gst_video_frame_unmap(&f);
  GST_BUFFER_PTS(buf) = 0;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

double psnr(const std::vector<PlaneData>& a, const std::vector<PlaneData>& b) {
  if (a.size() != b.size()) return 0;
  double se = 0;
  std::size_t n = 0;
  for (std::size_t p = 0; p < a.size(); ++p) {
    if (a[p].bytes.size() != b[p].bytes.size()) return 0;
    for (std::size_t i = 0; i < a[p].bytes.size(); ++i) {
      double d = static_cast<double>(a[p].bytes[i]) - b[p].bytes[i];
      se += d * d;
    }
    n += a[p].bytes.size();
  }
  if (se == 0) return 99;
  return 10 * std::log10(255.0 * 255.0 / (se / static_cast<double>(n)));
}

// The engine run on explicit planes: the reference for the element's output.
PlaneData engine_plane(lerf::Method method, const PlaneData& in, int out_w, int out_h, const lerf::CoordinateMap& map,
                       const std::string& model_dir = {}) {
  lerf::EngineOptions o;
  o.method = method;
  o.threads = 2;
  o.model_dir = model_dir;
  lerf::Engine engine(o);
  PlaneData out{out_w, out_h, in.channels, std::vector<std::uint8_t>(static_cast<std::size_t>(out_w) * out_h * in.channels)};
  lerf::PlaneJob job;
  job.in = {in.bytes.data(), in.width, in.height, static_cast<std::ptrdiff_t>(in.width) * in.channels, in.channels};
  job.out = {out.bytes.data(), out_w, out_h, static_cast<std::ptrdiff_t>(out_w) * in.channels, in.channels};
  job.map = map;
  engine.run(std::span<const lerf::PlaneJob>(&job, 1));
  return out;
}

GstCaps* current_caps(GstHarness* h) { return gst_pad_get_current_caps(h->sinkpad); }

// Pushes buf and pulls one output buffer; null (and a failure) when the push failed.
GstBuffer* push_pull(GstHarness* h, GstBuffer* buf) {
  GstFlowReturn ret = gst_harness_push(h, buf);
  EXPECT_EQ(ret, GST_FLOW_OK) << gst_flow_get_name(ret);
  if (ret != GST_FLOW_OK) return nullptr;
  return gst_harness_pull(h);
}

// The first error message on bus (or empty).
std::string bus_error(GstBus* bus) {
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  if (!msg) return {};
  GError* err = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_error(msg, &err, &dbg);
  std::string text = std::string(err->message) + " | " + (dbg ? dbg : "");
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(msg);
  return text;
}

// ---------------------------------------------------------------------------------------
// Registration

TEST(GstPlugin, RegistersBothElementsWithDocumentedProperties) {
  GstPlugin* plugin = gst_registry_find_plugin(gst_registry_get(), "lerf");
  ASSERT_NE(plugin, nullptr) << "plugin lerf not found; GST_PLUGIN_PATH=" << (g_getenv("GST_PLUGIN_PATH") ? g_getenv("GST_PLUGIN_PATH") : "");
  gst_object_unref(plugin);
  for (const char* name : {"lerfscale", "lerfwarp"}) {
    GstElement* e = gst_element_factory_make(name, nullptr);
    ASSERT_NE(e, nullptr) << name;
    ObjectRef guard(e);
    for (const char* prop : {"method", "backend", "model-dir", "n-threads", "device-index"}) {
      GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop);
      ASSERT_NE(ps, nullptr) << name << "::" << prop;
      EXPECT_NE(std::string(g_param_spec_get_blurb(ps)), "") << prop;
    }
    GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "method");
    GEnumClass* ec = G_ENUM_CLASS(g_type_class_ref(ps->value_type));
    // Every engine method name is a nick, with the engine's value.
    for (lerf::Method m : lerf::all_methods()) {
      GEnumValue* v = g_enum_get_value_by_nick(ec, std::string(lerf::method_name(m)).c_str());
      ASSERT_NE(v, nullptr) << lerf::method_name(m);
      EXPECT_EQ(v->value, static_cast<int>(m));
    }
    g_type_class_unref(ec);
    gst_util_set_object_arg(G_OBJECT(e), "method", "lanczos");
    GValue val = G_VALUE_INIT;
    g_value_init(&val, ps->value_type);
    g_object_get_property(G_OBJECT(e), "method", &val);
    GEnumClass* mc = G_ENUM_CLASS(g_type_class_ref(ps->value_type));
    EXPECT_STREQ(g_enum_get_value(mc, g_value_get_enum(&val))->value_nick, "lanczos");
    g_type_class_unref(mc);
    g_value_unset(&val);
  }
  GstElement* e = gst_element_factory_make("lerfscale", nullptr);
  ObjectRef guard(e);
  gboolean qos = FALSE, borders = FALSE;
  g_object_get(e, "qos", &qos, "add-borders", &borders, nullptr);
  EXPECT_TRUE(qos);
  EXPECT_TRUE(borders);
}

// ---------------------------------------------------------------------------------------
// Negotiation: videoscale's table (gst-plugins-base tests/check/elements/videoscale.c) and
// the lead's case, run through real pipelines, and checked against videoscale itself.

struct NegotiationCase {
  const char* in;
  const char* out;
  int width, height, par_n, par_d;
};

const NegotiationCase kNegotiation[] = {
    {"width=720,height=576,pixel-aspect-ratio=16/15", "width=768,height=576", 768, 576, 1, 1},
    {"width=320,height=240", "width=640,height=320", 640, 320, 2, 3},
    {"width=320,height=240", "width=640,height=320,pixel-aspect-ratio=[0/1,1/1]", 640, 320, 2, 3},
    {"width=1920,height=2560,pixel-aspect-ratio=1/1",
     "width=[1,2048],height=[1,2048],pixel-aspect-ratio=1/1", 1536, 2048, 1, 1},
    {"width=1920,height=2560,pixel-aspect-ratio=1/1", "width=[1,2048],height=[1,2048]", 1920, 2048, 4, 5},
    {"width=1920,height=2560", "width=[1,2048],height=[1,2048]", 1920, 2048, 4, 5},
    {"width=1920,height=2560", "width=1200,height=[1,2048],pixel-aspect-ratio=1/1", 1200, 1600, 1, 1},
    // Doesn't keep the DAR but must be possible.
    {"width=320,height=240,pixel-aspect-ratio=1/1", "width=200,height=200,pixel-aspect-ratio=1/2", 200, 200, 1, 2},
    {"width=854,height=480", "width=[2,512,2],height=[2,512,2],pixel-aspect-ratio=1/1", 512, 288, 1, 1},
    // Height only, PAR fixed: the width keeps the DAR (720x576 at 16/15 is 4:3).
    {"width=720,height=576,pixel-aspect-ratio=16/15", "height=1080,pixel-aspect-ratio=1/1", 1440, 1080, 1, 1},
    // Height only, PAR free: the input width is kept and the PAR absorbs the change.
    {"width=720,height=576,pixel-aspect-ratio=16/15", "height=1080", 720, 1080, 2, 1},
    // Width only, PAR fixed / free.
    {"width=320,height=240,pixel-aspect-ratio=1/1", "width=1280,pixel-aspect-ratio=1/1", 1280, 960, 1, 1},
    {"width=320,height=240,pixel-aspect-ratio=1/1", "width=1280", 1280, 240, 1, 4},
    // Upscale and downscale with both sizes fixed.
    {"width=320,height=240", "width=1280,height=960", 1280, 960, 1, 1},
    {"width=640,height=480", "width=160,height=120", 160, 120, 1, 1},
    // Only the PAR fixed: the DAR is kept at the input height.
    {"width=720,height=576,pixel-aspect-ratio=16/15", "pixel-aspect-ratio=1/1", 768, 576, 1, 1},
};

// Negotiates videotestsrc ! in ! scaler ! out ! fakesink and returns the sink's caps.
GstCaps* negotiate(const char* scaler, const NegotiationCase& c) {
  std::string launch = std::string("videotestsrc num-buffers=1 pattern=black ! video/x-raw,format=AYUV,") + c.in +
                       " ! " + scaler + " ! video/x-raw," + c.out + " ! fakesink name=sink";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  if (err) {
    ADD_FAILURE() << launch << ": " << err->message;
    g_error_free(err);
    return nullptr;
  }
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 20 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR));
  GstCaps* caps = nullptr;
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ASYNC_DONE) {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    caps = gst_pad_get_current_caps(pad);
    gst_object_unref(pad);
    gst_object_unref(sink);
  } else {
    ADD_FAILURE() << launch << ": " << (msg ? "error" : "timeout");
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return caps;
}

TEST(LerfScaleNegotiation, KeepsDisplayAspectRatioLikeVideoscale) {
  for (const auto& c : kNegotiation) {
    SCOPED_TRACE(std::string(c.in) + " -> " + c.out);
    GstCaps* caps = negotiate("lerfscale method=nearest", c);
    ASSERT_NE(caps, nullptr);
    GstStructure* s = gst_caps_get_structure(caps, 0);
    int w = 0, h = 0, n = 1, d = 1;
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
    gst_structure_get_fraction(s, "pixel-aspect-ratio", &n, &d);
    EXPECT_EQ(w, c.width);
    EXPECT_EQ(h, c.height);
    EXPECT_EQ(n, c.par_n);
    EXPECT_EQ(d, c.par_d);
    // And exactly what videoscale negotiates.
    GstCaps* ref = negotiate("videoscale method=nearest-neighbour", c);
    ASSERT_NE(ref, nullptr);
    GstStructure* r = gst_caps_get_structure(ref, 0);
    int rw = 0, rh = 0, rn = 1, rd = 1;
    gst_structure_get_int(r, "width", &rw);
    gst_structure_get_int(r, "height", &rh);
    gst_structure_get_fraction(r, "pixel-aspect-ratio", &rn, &rd);
    EXPECT_EQ(w, rw);
    EXPECT_EQ(h, rh);
    EXPECT_EQ(n * rd, rn * d);
    gst_caps_unref(ref);
    gst_caps_unref(caps);
  }
}

TEST(LerfScaleNegotiation, ImpossibleCapsFailCleanly) {
  // Format conversion is not lerfscale's job: I420 in, NV12 out cannot negotiate (both are
  // in the templates, so the failure happens at run time, as an error, not a crash).
  // The capsfilters get their caps after linking, so that parsing does not refuse the link.
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "videotestsrc num-buffers=1 ! capsfilter name=in ! lerfscale method=nearest ! capsfilter name=out ! fakesink",
      &err);
  ASSERT_EQ(err, nullptr) << err->message;
  for (auto [name, caps] : {std::pair{"in", "video/x-raw,format=I420,width=64,height=48"},
                            std::pair{"out", "video/x-raw,format=NV12,width=128"}}) {
    GstElement* filter = gst_bin_get_by_name(GST_BIN(pipeline), name);
    GstCaps* c = gst_caps_from_string(caps);
    g_object_set(filter, "caps", c, nullptr);
    gst_caps_unref(c);
    gst_object_unref(filter);
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  std::string error = bus_error(bus);
  EXPECT_NE(error.find("not-negotiated"), std::string::npos) << error;
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

// ---------------------------------------------------------------------------------------
// Formats at odd sizes

const GstVideoFormat kFormats[] = {
    GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21,
    GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB,
    GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_RGB,
    GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_NV16, GST_VIDEO_FORMAT_NV61, GST_VIDEO_FORMAT_NV24,
    GST_VIDEO_FORMAT_Y41B, GST_VIDEO_FORMAT_A420, GST_VIDEO_FORMAT_AYUV, GST_VIDEO_FORMAT_GBR,
    GST_VIDEO_FORMAT_GBRA,
};

// Scales in format F and converts to RGBA, versus scaling in RGBA and converting through F:
// a plane put in the wrong place, a swapped chroma plane or a wrong channel count shows as
// a large difference; conversion and subsampling losses stay small on a smooth picture.
TEST(LerfScaleFormats, EveryFormatAtOddSizesLooksRight) {
  const int in_w = 33, in_h = 17, out_w = 70, out_h = 45;
  GstVideoInfo rgba = info_from(caps_of(GST_VIDEO_FORMAT_RGBA, in_w, in_h));
  for (GstVideoFormat f : kFormats) {
    const char* name = gst_video_format_to_string(f);
    SCOPED_TRACE(name);
    std::string fmt = std::string("video/x-raw,format=") + name;
    std::string size = ",width=" + std::to_string(out_w) + ",height=" + std::to_string(out_h);
    Harness test(("videoconvert ! " + fmt + " ! lerfscale method=bilinear add-borders=false ! " + fmt + size +
                  " ! videoconvert ! capsfilter caps=video/x-raw,format=RGBA").c_str());
    Harness ref(("lerfscale method=bilinear add-borders=false ! video/x-raw" + size + " ! videoconvert ! " + fmt +
                 " ! videoconvert ! capsfilter caps=video/x-raw,format=RGBA").c_str());
    for (GstHarness* h : {test.h, ref.h}) gst_harness_set_src_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGBA, in_w, in_h).c_str());
    GstBuffer* a = push_pull(test, make_buffer(rgba, 1, 0));
    GstBuffer* b = push_pull(ref, make_buffer(rgba, 1, 0));
    ASSERT_TRUE(a && b);
    GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_RGBA, out_w, out_h));
    GstCaps* caps = current_caps(test);
    GstVideoInfo got;
    ASSERT_TRUE(gst_video_info_from_caps(&got, caps));
    gst_caps_unref(caps);
    EXPECT_EQ(got.width, out_w);
    EXPECT_EQ(got.height, out_h);
    double p = psnr(planes_of(out, a), planes_of(out, b));
    bool subsampled = GST_VIDEO_FORMAT_INFO_W_SUB(gst_video_format_get_info(f), 1) > 0 ||
                      GST_VIDEO_FORMAT_INFO_H_SUB(gst_video_format_get_info(f), 1) > 0;
    EXPECT_GT(p, subsampled ? 28.0 : 38.0) << "PSNR " << p;
    gst_buffer_unref(a);
    gst_buffer_unref(b);
  }
}

// I420 at odd sizes, bit for bit against the engine on the same planes, for both chroma
// sitings (centred "jpeg", left co-sited "mpeg2"): the element must use the caps' siting.
TEST(LerfScaleFormats, I420MatchesTheEngineForEachChromaSiting) {
  const int in_w = 33, in_h = 17, out_w = 70, out_h = 45;
  for (const char* site : {"jpeg", "mpeg2"}) {
    SCOPED_TRACE(site);
    std::string extra = std::string(",chroma-site=") + site;
    GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_I420, in_w, in_h, extra.c_str()));
    GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_I420, out_w, out_h, extra.c_str()));
    Harness h("lerfscale method=bicubic add-borders=false");
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, in_w, in_h, extra.c_str()).c_str(),
                             caps_of(GST_VIDEO_FORMAT_I420, out_w, out_h, extra.c_str()).c_str());
    GstBuffer* input = make_buffer(in, 3);
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    auto got = planes_of(out, result);
    gst_buffer_unref(result);
    auto luma = lerf::resize_map({in_w, in_h}, {out_w, out_h});
    lerf::PlaneSampling chroma{2, 2, std::string(site) == "mpeg2", false};
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], engine_plane(lerf::Method::Bicubic, in_planes[0], out_w, out_h, luma));
    for (int p = 1; p < 3; ++p) {
      EXPECT_EQ(got[p].width, 35);
      EXPECT_EQ(got[p].height, 23);
      EXPECT_EQ(got[p], engine_plane(lerf::Method::Bicubic, in_planes[p], 35, 23, lerf::plane_map(luma, chroma)));
    }
  }
}

TEST(LerfScaleFormats, NV12AndRGBAMatchTheEngine) {
  const int in_w = 31, in_h = 19, out_w = 47, out_h = 40;
  {
    GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_NV12, in_w, in_h, ",chroma-site=jpeg"));
    GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_NV12, out_w, out_h, ",chroma-site=jpeg"));
    Harness h("lerfscale method=lanczos add-borders=false");
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_NV12, in_w, in_h, ",chroma-site=jpeg").c_str(),
                             caps_of(GST_VIDEO_FORMAT_NV12, out_w, out_h, ",chroma-site=jpeg").c_str());
    GstBuffer* input = make_buffer(in, 4);
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    auto got = planes_of(out, result);
    gst_buffer_unref(result);
    auto luma = lerf::resize_map({in_w, in_h}, {out_w, out_h});
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].channels, 2);
    EXPECT_EQ(got[0], engine_plane(lerf::Method::Lanczos, in_planes[0], out_w, out_h, luma));
    EXPECT_EQ(got[1], engine_plane(lerf::Method::Lanczos, in_planes[1], 24, 20, lerf::plane_map(luma, {2, 2})));
  }
  {
    GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_RGBA, in_w, in_h));
    GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_RGBA, out_w, out_h));
    Harness h("lerfscale method=bicubic add-borders=false");
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGBA, in_w, in_h).c_str(),
                             caps_of(GST_VIDEO_FORMAT_RGBA, out_w, out_h).c_str());
    GstBuffer* input = make_buffer(in, 5);  // alpha varies too: it is resampled like the rest
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    auto got = planes_of(out, result);
    gst_buffer_unref(result);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].channels, 4);
    EXPECT_EQ(got[0], engine_plane(lerf::Method::Bicubic, in_planes[0], out_w, out_h,
                                   lerf::resize_map({in_w, in_h}, {out_w, out_h})));
  }
}

// A buffer of a tightly packed single-plane format holding d's bytes.
GstBuffer* buffer_of(const GstVideoInfo& info, const PlaneData& d) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame f;
  EXPECT_TRUE(gst_video_frame_map(&f, &info, buf, GST_MAP_WRITE));
  const std::size_t row = static_cast<std::size_t>(d.width) * d.channels;
  for (int y = 0; y < d.height; ++y)
    std::memcpy(static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
                d.bytes.data() + y * row, row);
  gst_video_frame_unmap(&f);
  GST_BUFFER_PTS(buf) = 0;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

// d without its byte `pad` of every pixel (4 channels -> 3).
PlaneData without_byte(const PlaneData& d, int pad) {
  PlaneData r{d.width, d.height, 3, {}};
  for (std::size_t i = 0; i < d.bytes.size(); ++i)
    if (static_cast<int>(i % 4) != pad) r.bytes.push_back(d.bytes[i]);
  return r;
}

TEST(LerfScaleFormats, PaddingByteIsNotResampledByLearnedMethods) {
  // BGRx / xRGB through lerf-g (the shipped model) and lerfwarp's lerf-l: the colour bytes are
  // those of the same picture as BGR / RGB (3 bytes a pixel), the padding byte is 255 although
  // the input's varies; stretched and letterboxed (add-borders: the picture in a sub-rectangle).
  struct Case {
    GstVideoFormat padded, packed;
    int pad;
  };
  for (Case c : {Case{GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_BGR, 3}, Case{GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_RGB, 0}})
    for (const char* launch : {"lerfscale method=lerf-g add-borders=false", "lerfscale method=lerf-g add-borders=true",
                               "lerfwarp method=lerf-l matrix=<0.55,0.05,1.0,-0.04,0.5,0.5,0.001,0.0,1.0>"}) {
      SCOPED_TRACE(std::string(gst_video_format_to_string(c.padded)) + " " + launch);
      const int in_w = 31, in_h = 19, out_w = 47, out_h = 41;
      auto run = [&](GstVideoFormat f, GstBuffer* input) {
        Harness h(launch);
        gst_harness_set_caps_str(h, caps_of(f, in_w, in_h).c_str(), caps_of(f, out_w, out_h).c_str());
        GstBuffer* result = push_pull(h, input);
        if (!result) return Planes{};
        auto planes = planes_of(info_from(caps_of(f, out_w, out_h)), result);
        gst_buffer_unref(result);
        return planes;
      };
      GstBuffer* padded_in = make_buffer(info_from(caps_of(c.padded, in_w, in_h)), 9);
      const PlaneData colour_in = without_byte(planes_of(info_from(caps_of(c.padded, in_w, in_h)), padded_in)[0], c.pad);
      const Planes padded = run(c.padded, padded_in);
      const Planes packed = run(c.packed, buffer_of(info_from(caps_of(c.packed, in_w, in_h)), colour_in));
      ASSERT_EQ(padded.size(), 1u);
      ASSERT_EQ(packed.size(), 1u);
      EXPECT_EQ(without_byte(padded[0], c.pad), packed[0]);
      int not_opaque = 0;
      for (std::size_t i = c.pad; i < padded[0].bytes.size(); i += 4) not_opaque += padded[0].bytes[i] != 255;
      EXPECT_EQ(not_opaque, 0);
    }
}

// ---------------------------------------------------------------------------------------
// Borders, passthrough, changes mid-stream

TEST(LerfScale, AddBordersLetterboxesWithBlack) {
  // 64x48 (4:3) into 64x64 square pixels: 8 black rows above and below the picture.
  for (bool borders : {true, false}) {
    SCOPED_TRACE(borders ? "add-borders" : "stretch");
    Harness h("lerfscale name=s method=bilinear");
    GstElement* scale = h.element("s");
    g_object_set(scale, "add-borders", static_cast<gboolean>(borders), nullptr);
    gst_object_unref(scale);
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, 64, 48).c_str(),
                             caps_of(GST_VIDEO_FORMAT_I420, 64, 64).c_str());
    GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_I420, 64, 48));
    GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_I420, 64, 64));
    GstBuffer* input = make_buffer(in, 6, 0);
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    auto got = planes_of(out, result);
    gst_buffer_unref(result);
    auto row_is = [](const PlaneData& p, int y, int v) {
      for (int x = 0; x < p.width * p.channels; ++x)
        if (p.bytes[static_cast<std::size_t>(y * p.width * p.channels + x)] != v) return false;
      return true;
    };
    for (int y : {0, 7, 56, 63}) EXPECT_EQ(row_is(got[0], y, 16), borders) << y;
    for (int y : {0, 3, 28, 31}) EXPECT_EQ(row_is(got[1], y, 128) && row_is(got[2], y, 128), borders);
    if (borders) {
      // The picture in rows 8..55 is the input, unscaled (same size, identity map).
      for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x)
          ASSERT_EQ(got[0].bytes[static_cast<std::size_t>((y + 8) * 64 + x)], in_planes[0].bytes[static_cast<std::size_t>(y * 64 + x)]);
    }
  }
}

TEST(LerfScale, PassthroughOnEqualCaps) {
  Harness h("lerfscale name=s method=lanczos");
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, 64, 48).c_str(),
                           caps_of(GST_VIDEO_FORMAT_I420, 64, 48).c_str());
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_I420, 64, 48));
  GstBuffer* input = make_buffer(in, 7);
  GstBuffer* result = push_pull(h, input);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result, input) << "equal caps must pass the very buffer through";
  GstElement* scale = h.element("s");
  EXPECT_TRUE(gst_base_transform_is_passthrough(GST_BASE_TRANSFORM(scale)));
  gst_object_unref(scale);
  gst_buffer_unref(result);
}

TEST(LerfScale, MethodChangeWhilePlayingTakesEffectAtTheNextFrame) {
  const int in_w = 32, in_h = 24, out_w = 80, out_h = 60;
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_GRAY8, in_w, in_h));
  GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_GRAY8, out_w, out_h));
  Harness h("lerfscale name=s method=nearest");
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_GRAY8, in_w, in_h).c_str(),
                           caps_of(GST_VIDEO_FORMAT_GRAY8, out_w, out_h).c_str());
  GstElement* scale = h.element("s");
  GstBuffer* input = make_buffer(in, 8);
  auto in_planes = planes_of(in, input);
  auto map = lerf::resize_map({in_w, in_h}, {out_w, out_h});
  struct Step {
    const char* method;
    lerf::Method engine_method;
  };
  for (Step step : {Step{"nearest", lerf::Method::Nearest}, Step{"bilinear", lerf::Method::Bilinear},
                    Step{"lanczos", lerf::Method::Lanczos}, Step{"nearest", lerf::Method::Nearest}}) {
    SCOPED_TRACE(step.method);
    gst_util_set_object_arg(G_OBJECT(scale), "method", step.method);
    GstBuffer* result = push_pull(h, gst_buffer_copy(input));
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(planes_of(out, result)[0], engine_plane(step.engine_method, in_planes[0], out_w, out_h, map));
    gst_buffer_unref(result);
  }
  // A learned method whose model cannot be found: an element error naming it, not a crash.
  gst_util_set_object_arg(G_OBJECT(scale), "method", "liif");
  g_object_set(scale, "model-dir", "/nonexistent/lerf-models", nullptr);
  EXPECT_EQ(gst_harness_push(h, gst_buffer_copy(input)), GST_FLOW_ERROR);
  std::string error = bus_error(bus);
  EXPECT_NE(error.find("no model for liif"), std::string::npos) << error;
  g_object_set(scale, "model-dir", "", nullptr);
  // A Vulkan device that does not exist: also an element error.
  gst_util_set_object_arg(G_OBJECT(scale), "method", "bilinear");
  gst_util_set_object_arg(G_OBJECT(scale), "backend", "vulkan");
  g_object_set(scale, "device-index", 1000u, nullptr);
  EXPECT_EQ(gst_harness_push(h, gst_buffer_copy(input)), GST_FLOW_ERROR);
  error = bus_error(bus);
  EXPECT_NE(error.find("Vulkan"), std::string::npos) << error;
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_object_unref(scale);
  gst_buffer_unref(input);
}

TEST(LerfScale, ResolutionChangeMidStreamRenegotiates) {
  Harness h("lerfscale method=bilinear ! capsfilter caps=video/x-raw,width=96,pixel-aspect-ratio=1/1");
  struct Step {
    int in_w, in_h, out_h;
  };
  for (Step s : {Step{32, 24, 72}, Step{48, 16, 32}, Step{24, 24, 96}}) {
    SCOPED_TRACE(std::to_string(s.in_w) + "x" + std::to_string(s.in_h));
    gst_harness_set_src_caps_str(h, caps_of(GST_VIDEO_FORMAT_Y444, s.in_w, s.in_h).c_str());
    GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_Y444, s.in_w, s.in_h));
    GstBuffer* input = make_buffer(in, s.in_w);
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    GstCaps* caps = current_caps(h);
    GstVideoInfo out;
    ASSERT_TRUE(gst_video_info_from_caps(&out, caps));
    gst_caps_unref(caps);
    EXPECT_EQ(out.width, 96);
    EXPECT_EQ(out.height, s.out_h);
    EXPECT_EQ(gst_buffer_get_size(result), GST_VIDEO_INFO_SIZE(&out));
    auto got = planes_of(out, result);
    auto map = lerf::resize_map({s.in_w, s.in_h}, {96, s.out_h});
    for (int p = 0; p < 3; ++p)
      EXPECT_EQ(got[static_cast<std::size_t>(p)], engine_plane(lerf::Method::Bilinear, in_planes[static_cast<std::size_t>(p)], 96, s.out_h, map));
    gst_buffer_unref(result);
  }
}

// ---------------------------------------------------------------------------------------
// Agreement with the lerf CLI

// Runs `lerf resize` on a PNG of the same BGR picture and compares it with the element.
void expect_same_as_cli(const char* method, const std::string& model_dir) {
  const char* cli = std::getenv("LERF_CLI");
  ASSERT_TRUE(cli && fs::exists(cli)) << "LERF_CLI is not set to the built lerf tool";
  const int in_w = 37, in_h = 29, out_w = 80, out_h = 61;
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_BGR, in_w, in_h));
  GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_BGR, out_w, out_h));
  GstBuffer* input = make_buffer(in, 9);
  auto in_planes = planes_of(in, input);
  fs::path dir = fs::temp_directory_path() / ("lerf-gst-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  cv::Mat img(in_h, in_w, CV_8UC3, in_planes[0].bytes.data());
  ASSERT_TRUE(cv::imwrite((dir / "in.png").string(), img));
  std::string cmd = std::string(cli) + " resize " + (dir / "in.png").string() + " " + (dir / "out.png").string() +
                    " --size " + std::to_string(out_w) + "x" + std::to_string(out_h) + " --method " + method +
                    (model_dir.empty() ? "" : " --model-dir " + model_dir) + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  cv::Mat expected = cv::imread((dir / "out.png").string(), cv::IMREAD_UNCHANGED);
  fs::remove_all(dir);
  ASSERT_EQ(expected.cols, out_w);
  ASSERT_EQ(expected.rows, out_h);
  ASSERT_EQ(expected.channels(), 3);

  Harness h((std::string("lerfscale add-borders=false method=") + method + (model_dir.empty() ? "" : " model-dir=" + model_dir)).c_str());
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_BGR, in_w, in_h).c_str(),
                           caps_of(GST_VIDEO_FORMAT_BGR, out_w, out_h).c_str());
  GstBuffer* result = push_pull(h, input);
  ASSERT_NE(result, nullptr);
  auto got = planes_of(out, result);
  gst_buffer_unref(result);
  std::vector<std::uint8_t> want(expected.data, expected.data + static_cast<std::size_t>(out_w) * out_h * 3);
  ASSERT_TRUE(expected.isContinuous());
  EXPECT_EQ(got[0].bytes, want) << "element output differs from `lerf resize`";
}

TEST(LerfScaleCli, SameAsLerfResizeBicubic) { expect_same_as_cli("bicubic", ""); }

TEST(LerfScaleCli, SameAsLerfResizeLerfG) {
  REQUIRE_LUTS();
  expect_same_as_cli("lerf-g", official_luts());
}

// ---------------------------------------------------------------------------------------
// Errors

TEST(LerfScaleErrors, MissingModelIsAnErrorNamingThePath) {
  const std::string missing = "/nonexistent/lerf-models-for-test";
  Harness h(("lerfscale method=lerf-g model-dir=" + missing).c_str());
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, 32, 24).c_str(),
                           caps_of(GST_VIDEO_FORMAT_I420, 64, 48).c_str());
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_I420, 32, 24));
  EXPECT_EQ(gst_harness_push(h, make_buffer(in, 10)), GST_FLOW_ERROR);
  std::string error = bus_error(bus);
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_NE(error.find("lerf-g"), std::string::npos) << error;
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

TEST(LerfScaleErrors, BrokenModelIsAnErrorNamingTheFile) {
  fs::path dir = fs::temp_directory_path() / ("lerf-gst-broken-" + std::to_string(::getpid())) / "lerf-g";
  fs::create_directories(dir);
  for (const char* name : {"LUTft_s1_sr0.npy", "LUTft_s1_cr0.npy", "LUTft_s1_tr0.npy", "LUTft_s2_sr0.npy",
                           "LUTft_s2_sr1.npy", "LUTft_s2_cr0.npy", "LUTft_s2_cr1.npy", "LUTft_s2_tr0.npy",
                           "LUTft_s2_tr1.npy"}) {
    FILE* f = std::fopen((dir / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("not a numpy file", f);
    std::fclose(f);
  }
  Harness h(("lerfscale method=lerf-g model-dir=" + dir.string()).c_str());
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGB, 32, 24).c_str(),
                           caps_of(GST_VIDEO_FORMAT_RGB, 64, 48).c_str());
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_RGB, 32, 24));
  EXPECT_EQ(gst_harness_push(h, make_buffer(in, 11)), GST_FLOW_ERROR);
  std::string error = bus_error(bus);
  EXPECT_NE(error.find(dir.string()), std::string::npos) << error;
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  fs::remove_all(dir.parent_path());
}

// ---------------------------------------------------------------------------------------
// lerfwarp

TEST(LerfWarp, IdentityReturnsTheInput) {
  for (GstVideoFormat f : {GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12}) {
    SCOPED_TRACE(gst_video_format_to_string(f));
    GstVideoInfo in = info_from(caps_of(f, 33, 17));
    Harness h("lerfwarp method=bicubic");
    gst_harness_set_src_caps_str(h, caps_of(f, 33, 17).c_str());
    GstBuffer* input = make_buffer(in, 12);
    auto in_planes = planes_of(in, input);
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    GstCaps* caps = current_caps(h);
    GstVideoInfo out;
    ASSERT_TRUE(gst_video_info_from_caps(&out, caps));
    gst_caps_unref(caps);
    EXPECT_EQ(out.width, 33);  // free output caps default to the input size
    EXPECT_EQ(out.height, 17);
    EXPECT_EQ(planes_of(out, result), in_planes);
    gst_buffer_unref(result);
  }
}

TEST(LerfWarp, TranslationShiftsThePictureWithTheChosenBorder) {
  const int w = 40, hgt = 30, dx = 5, dy = 3;
  GstVideoInfo info = info_from(caps_of(GST_VIDEO_FORMAT_RGBA, w, hgt));
  struct Case {
    const char* border;
    std::array<int, 4> outside;  // expected RGBA left of the picture; -1 = the edge pixel
  };
  for (Case c : {Case{"black", {0, 0, 0, 255}}, Case{"transparent", {0, 0, 0, 0}}, Case{"clamp", {-1, -1, -1, -1}}}) {
    SCOPED_TRACE(c.border);
    Harness h((std::string("lerfwarp method=bilinear border=") + c.border +
               " matrix=\"<1.0,0.0,5.0, 0.0,1.0,3.0, 0.0,0.0,1.0>\"")
                  .c_str());
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGBA, w, hgt).c_str(),
                             caps_of(GST_VIDEO_FORMAT_RGBA, w, hgt).c_str());
    GstBuffer* input = make_buffer(info, 13);
    auto in_p = planes_of(info, input)[0];
    GstBuffer* result = push_pull(h, input);
    ASSERT_NE(result, nullptr);
    auto out_p = planes_of(info, result)[0];
    gst_buffer_unref(result);
    auto at = [](const PlaneData& p, int x, int y, int ch) {
      return static_cast<int>(p.bytes[static_cast<std::size_t>((y * p.width + x) * 4 + ch)]);
    };
    for (int y = dy; y < hgt; ++y)
      for (int x = dx; x < w; ++x)
        for (int ch = 0; ch < 4; ++ch) ASSERT_EQ(at(out_p, x, y, ch), at(in_p, x - dx, y - dy, ch)) << x << "," << y;
    for (int y = dy; y < hgt; ++y)
      for (int ch = 0; ch < 4; ++ch) {
        int want = c.outside[static_cast<std::size_t>(ch)] < 0 ? at(in_p, 0, y - dy, ch) : c.outside[static_cast<std::size_t>(ch)];
        ASSERT_EQ(at(out_p, 0, y, ch), want) << "row " << y;
      }
  }
}

TEST(LerfWarp, I420BordersAreVideoBlackAndSizeFollowsCaps) {
  GstVideoInfo in = info_from(caps_of(GST_VIDEO_FORMAT_I420, 32, 24));
  // Scale by 2 via the matrix into a 64x48 output: every output pixel maps inside.
  Harness h("lerfwarp method=bilinear matrix=\"<2.0,0.0,0.5, 0.0,2.0,0.5, 0.0,0.0,1.0>\" ! capsfilter caps=video/x-raw,width=80,height=48");
  gst_harness_set_src_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, 32, 24).c_str());
  GstBuffer* input = make_buffer(in, 14);
  auto in_planes = planes_of(in, input);
  GstBuffer* result = push_pull(h, input);
  ASSERT_NE(result, nullptr);
  GstVideoInfo out = info_from(caps_of(GST_VIDEO_FORMAT_I420, 80, 48));
  auto got = planes_of(out, result);
  gst_buffer_unref(result);
  // Columns 64..79 lie outside the input: Y=16, U=V=128.
  for (int y = 0; y < 48; ++y) EXPECT_EQ(got[0].bytes[static_cast<std::size_t>(y * 80 + 70)], 16);
  for (int y = 0; y < 24; ++y) EXPECT_EQ(got[1].bytes[static_cast<std::size_t>(y * 40 + 36)], 128);
  // Inside, the same as lerfscale's 2x upscale (same map).
  auto map = lerf::resize_map({32, 24}, {64, 48});
  auto ref = engine_plane(lerf::Method::Bilinear, in_planes[0], 64, 48, map);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x)
      ASSERT_EQ(got[0].bytes[static_cast<std::size_t>(y * 80 + x)], ref.bytes[static_cast<std::size_t>(y * 64 + x)]);
}

TEST(LerfWarp, SingularMatrixIsAnElementError) {
  Harness h("lerfwarp method=bilinear matrix=\"<1.0,2.0,0.0, 2.0,4.0,0.0, 0.0,0.0,1.0>\"");
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGBA, 16, 16).c_str());
  EXPECT_EQ(gst_harness_push(h, make_buffer(info_from(caps_of(GST_VIDEO_FORMAT_RGBA, 16, 16)), 15)), GST_FLOW_ERROR);
  std::string error = bus_error(bus);
  EXPECT_NE(error.find("matrix"), std::string::npos) << error;
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

TEST(LerfWarp, MatrixPropertyRoundTrips) {
  GstElement* e = gst_element_factory_make("lerfwarp", nullptr);
  ASSERT_NE(e, nullptr);
  ObjectRef guard(e);
  gst_util_set_object_arg(G_OBJECT(e), "matrix", "<1.5,0.0,2.0, 0.25,1.0,-3.0, 0.001,0.0,1.0>");
  GValue v = G_VALUE_INIT;
  g_value_init(&v, GST_TYPE_ARRAY);
  g_object_get_property(G_OBJECT(e), "matrix", &v);
  ASSERT_EQ(gst_value_array_get_size(&v), 9u);
  const double want[9] = {1.5, 0, 2, 0.25, 1, -3, 0.001, 0, 1};
  for (guint i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(g_value_get_double(gst_value_array_get_value(&v, i)), want[i]);
  g_value_unset(&v);
}

// ---------------------------------------------------------------------------------------
// A real clip: vtest.avi (768x576, 10 fps; MS-MPEG-4 v3 in AVI, decoded by gst-libav's
// avdec_msmpeg4 through decodebin) decoded and upscaled to 1920x1440.

std::vector<GstSample*> decode_clip(int frames) {
  std::vector<GstSample*> samples;
  std::string launch = std::string("filesrc location=") + kClip +
                       " ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false max-buffers=2";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  if (err) {
    ADD_FAILURE() << err->message;
    g_error_free(err);
    return samples;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  for (int i = 0; i < frames; ++i) {
    GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    if (!s) break;
    samples.push_back(s);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return samples;
}

// Upscales each decoded frame with `scaler` and with videoscale's `reference`; returns the
// lowest PSNR between the two.
double upscale_clip(const std::vector<GstSample*>& frames, const std::string& scaler, const char* reference) {
  const char* out_caps = "capsfilter caps=video/x-raw,format=I420,width=1920,height=1440";
  Harness test((scaler + " ! " + out_caps).c_str());
  Harness ref((std::string(reference) + " ! " + out_caps).c_str());
  GstCaps* caps = gst_sample_get_caps(frames[0]);
  GstVideoInfo in;
  EXPECT_TRUE(gst_video_info_from_caps(&in, caps));
  EXPECT_EQ(in.width, 768);
  EXPECT_EQ(in.height, 576);
  gst_harness_set_src_caps(test, gst_caps_ref(caps));
  gst_harness_set_src_caps(ref, gst_caps_ref(caps));
  GstVideoInfo out = info_from("video/x-raw,format=I420,width=1920,height=1440,framerate=10/1");
  double worst = 99;
  for (GstSample* s : frames) {
    GstBuffer* a = push_pull(test, gst_buffer_ref(gst_sample_get_buffer(s)));
    GstBuffer* b = push_pull(ref, gst_buffer_ref(gst_sample_get_buffer(s)));
    if (!a || !b) return 0;
    GstCaps* got = current_caps(test);
    GstVideoInfo gi;
    EXPECT_TRUE(gst_video_info_from_caps(&gi, got));
    gst_caps_unref(got);
    EXPECT_EQ(gi.width, 1920);
    EXPECT_EQ(gi.height, 1440);
    worst = std::min(worst, psnr(planes_of(out, a), planes_of(out, b)));
    gst_buffer_unref(a);
    gst_buffer_unref(b);
  }
  return worst;
}

TEST(LerfScaleClip, VtestUpscaledTo1920x1440) {
  if (!fs::exists(kClip)) GTEST_SKIP() << kClip << " is absent (Debian package opencv-doc; run scripts/setup.sh)";
  auto frames = decode_clip(4);
  ASSERT_EQ(frames.size(), 4u) << "vtest.avi did not decode";
  // Bilinear is bilinear: close to videoscale's up to rounding and edge handling.
  double p = upscale_clip(frames, "lerfscale method=bilinear", "videoscale method=bilinear");
  std::cout << "vtest: lerfscale bilinear vs videoscale bilinear, lowest PSNR " << p << " dB\n";
  EXPECT_GT(p, 38.0);
  if (!official_luts().empty()) {
    std::vector<GstSample*> one(frames.begin(), frames.begin() + 1);
    double q = upscale_clip(one, "lerfscale method=lerf-g model-dir=" + official_luts(), "videoscale method=lanczos");
    std::cout << "vtest: lerfscale lerf-g vs videoscale lanczos, PSNR " << q << " dB\n";
    EXPECT_GT(q, 30.0) << "LeRF-G should look like a sharp interpolator";
    EXPECT_LT(q, 99.0);
  }
  for (GstSample* s : frames) gst_sample_unref(s);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int ret = RUN_ALL_TESTS();
  return ret;
}

// Sends a mouse click at output pixel coordinates (x, y) upstream through the harnessed
// element (already negotiated); true with the coordinates that reached upstream, false when
// no navigation event arrived.
bool click_upstream(GstHarness* h, double x, double y, double& got_x, double& got_y) {
  while (GstEvent* e = gst_harness_try_pull_upstream_event(h)) gst_event_unref(e);  // QoS, latency...
  gst_harness_push_upstream_event(h, gst_navigation_event_new_mouse_button_press(1, x, y, GST_NAVIGATION_MODIFIER_NONE));
  bool found = false;
  while (GstEvent* e = gst_harness_try_pull_upstream_event(h)) {
    if (GST_EVENT_TYPE(e) == GST_EVENT_NAVIGATION && !found)
      found = gst_navigation_event_get_coordinates(e, &got_x, &got_y);
    gst_event_unref(e);
  }
  return found;
}

// A click at output pixel (x, y) reaches upstream at the matching input pixel, borders
// (add-borders) subtracted, as videoscale translates navigation events.
TEST(LerfScale, NavigationEventsAreTranslatedToInputPixels) {
  struct Case {
    bool borders;
    int out_w, out_h;
    double x, y, want_x, want_y;
  };
  // 64x48 -> 128x96 (x2); 64x48 -> 128x128 with borders: picture 128x96 at y = 16.
  for (Case c : {Case{false, 128, 96, 100.0, 30.0, 50.0, 15.0}, Case{true, 128, 128, 64.0, 16.0, 32.0, 0.0},
                 Case{true, 128, 128, 10.0, 112.0, 5.0, 48.0}}) {
    Harness h("lerfscale name=s method=bilinear");
    GstElement* scale = h.element("s");
    g_object_set(scale, "add-borders", static_cast<gboolean>(c.borders), nullptr);
    gst_object_unref(scale);
    gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_I420, 64, 48).c_str(),
                             caps_of(GST_VIDEO_FORMAT_I420, c.out_w, c.out_h).c_str());
    GstBuffer* result = push_pull(h, make_buffer(info_from(caps_of(GST_VIDEO_FORMAT_I420, 64, 48)), 3, 0));
    ASSERT_NE(result, nullptr);
    gst_buffer_unref(result);
    double x = -1, y = -1;
    ASSERT_TRUE(click_upstream(h, c.x, c.y, x, y));
    EXPECT_DOUBLE_EQ(x, c.want_x);
    EXPECT_DOUBLE_EQ(y, c.want_y);
  }
}

// Through lerfwarp a click maps by the inverse homography (pixel centres at +0.5); a point
// beyond the horizon of a perspective has no preimage and is not forwarded.
TEST(LerfWarp, NavigationEventsFollowTheInverseWarp) {
  Harness h("lerfwarp name=w method=bilinear");
  GstElement* warp = h.element("w");
  gst_util_set_object_arg(G_OBJECT(warp), "matrix", "<2.0,0.0,10.0, 0.0,2.0,4.0, 0.0,0.0,1.0>");
  gst_harness_set_caps_str(h, caps_of(GST_VIDEO_FORMAT_RGBA, 32, 24).c_str(),
                           caps_of(GST_VIDEO_FORMAT_RGBA, 32, 24).c_str());
  GstBuffer* result = push_pull(h, make_buffer(info_from(caps_of(GST_VIDEO_FORMAT_RGBA, 32, 24)), 3, 0));
  ASSERT_NE(result, nullptr);
  gst_buffer_unref(result);
  double x = -1, y = -1;
  // Output centre (49.5, 20.5) = 2 * input centre + (10, 4): input centre (19.75, 8.25).
  ASSERT_TRUE(click_upstream(h, 50.0, 21.0, x, y));
  EXPECT_DOUBLE_EQ(x, 20.25);
  EXPECT_DOUBLE_EQ(y, 8.75);
  // w = 1 - 0.1 x' < 0 for output points right of x' = 10 under the inverse of this matrix.
  gst_util_set_object_arg(G_OBJECT(warp), "matrix", "<1.0,0.0,0.0, 0.0,1.0,0.0, 0.1,0.0,1.0>");
  gst_object_unref(warp);
  EXPECT_FALSE(click_upstream(h, 30.0, 5.0, x, y));
}

// Interlaced video: each field is resampled on its own. A frame whose top field (even rows) is
// flat 50 and bottom field (odd rows) flat 200 comes out with every even row 50 and every odd
// row 200, at a fractional scale and with letterbox borders on an odd row; resampled as one
// picture the fields would blend. Mixed mode without the buffer's interlaced flag is
// progressive (blended), alternate mode (one field per buffer) likewise.
TEST(LerfScale, InterlacedFieldsAreScaledSeparately) {
  struct Case {
    const char* mode;
    bool flag;  // GST_VIDEO_BUFFER_FLAG_INTERLACED on the buffer
    int out_w, out_h;
    bool borders;
    bool separate;
  };
  for (Case c : {Case{"interleaved", false, 24, 30, false, true}, Case{"interleaved", false, 24, 29, true, true},
                 Case{"mixed", true, 24, 30, false, true}, Case{"mixed", false, 24, 30, false, false},
                 Case{"progressive", false, 24, 30, false, false}}) {
    for (const char* method : {"bilinear", "bicubic", "lerf-g"}) {
      SCOPED_TRACE(std::string(c.mode) + " " + method + " " + std::to_string(c.out_h) + (c.flag ? " flagged" : ""));
      Harness h((std::string("lerfscale name=s method=") + method).c_str());
      GstElement* scale = h.element("s");
      g_object_set(scale, "add-borders", static_cast<gboolean>(c.borders), nullptr);
      gst_object_unref(scale);
      auto caps = [&](int w, int hgt, const char* par) {
        return std::string("video/x-raw,format=GRAY8,width=") + std::to_string(w) + ",height=" +
               std::to_string(hgt) + ",framerate=25/1,pixel-aspect-ratio=" + par + ",interlace-mode=" + c.mode;
      };
      // Borders: 16x12 at 1:1 into 24x29 at 1:1 keeps 4:3, so the picture is 24x18 at row 5 or 6.
      gst_harness_set_caps_str(h, caps(16, 12, "1/1").c_str(), caps(c.out_w, c.out_h, c.borders ? "1/1" : "5/4").c_str());
      GstVideoInfo in = info_from(caps(16, 12, "1/1"));
      GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&in), nullptr);
      GstMapInfo map;
      ASSERT_TRUE(gst_buffer_map(buf, &map, GST_MAP_WRITE));
      for (int y = 0; y < 12; ++y) std::memset(map.data + y * GST_VIDEO_INFO_PLANE_STRIDE(&in, 0), y % 2 ? 200 : 50, 16);
      gst_buffer_unmap(buf, &map);
      if (c.flag) GST_BUFFER_FLAG_SET(buf, GST_VIDEO_BUFFER_FLAG_INTERLACED);
      GstBuffer* result = push_pull(h, buf);
      ASSERT_NE(result, nullptr);
      auto got = planes_of(info_from(caps(c.out_w, c.out_h, c.borders ? "1/1" : "5/4")), result);
      gst_buffer_unref(result);
      ASSERT_EQ(got[0].height, c.out_h);
      int picture_rows = 0, blended = 0, wrong_parity = 0;
      for (int y = 0; y < c.out_h; ++y) {
        const std::uint8_t* row = &got[0].bytes[static_cast<std::size_t>(y) * c.out_w];
        if (c.borders && row[0] == 0 && row[c.out_w - 1] == 0) continue;  // letterbox (GRAY8 black)
        ++picture_rows;
        for (int x = 0; x < c.out_w; ++x) {
          if (row[x] != 50 && row[x] != 200) ++blended;
          else if (row[x] != (y % 2 ? 200 : 50)) ++wrong_parity;
        }
      }
      EXPECT_GE(picture_rows, 18);
      if (c.separate) {
        EXPECT_EQ(blended, 0);
        EXPECT_EQ(wrong_parity, 0);
      } else {
        EXPECT_GT(blended, 0);  // one picture: the fields mix
      }
    }
  }
}
