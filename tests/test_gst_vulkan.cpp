// The lerf elements with Vulkan: device memory (memory:VulkanImage between GStreamer's own
// vulkanupload / vulkandownload, sharing their GstVulkanDevice), the CPU fallback of
// backend=auto when Vulkan fails mid-stream, and the behaviour without any Vulkan driver
// (the GstVulkanNoDriver cases run in their own meson test with VK_ICD_FILENAMES=/nonexistent).
// Every result is compared with the CPU backend on system memory. Without a Vulkan device
// (lavapipe suffices) or GStreamer's vulkan elements, the cases skip saying why.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lerf/backend.hpp"
#include "lerf/error.hpp"

namespace {

struct Frame {
  int width = 0, height = 0;
  std::vector<std::uint8_t> bytes;  // every plane's rows, tightly packed, one plane after the other
};

struct Result {
  std::vector<Frame> frames;
  std::vector<std::string> errors, warnings;
  std::string caps_seen;  // caps of the element named "probe"'s src pad, when present
};

// Runs a gst-launch description ending in `appsink name=sink` to EOS or error.
Result run_pipeline(const std::string& launch) {
  Result r;
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  if (!pipeline) {
    r.errors.push_back(std::string("parse: ") + (err ? err->message : "?"));
    g_clear_error(&err);
    return r;
  }
  if (err) {
    r.errors.push_back(std::string("parse: ") + err->message);
    g_clear_error(&err);
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  EXPECT_NE(sink, nullptr) << launch;
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  bool done = false;
  while (!done && sink) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 50 * GST_MSECOND);
    if (sample) {
      GstVideoInfo info;
      GstVideoFrame vf;
      if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
          gst_video_frame_map(&vf, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
        Frame f;
        f.width = GST_VIDEO_FRAME_WIDTH(&vf);
        f.height = GST_VIDEO_FRAME_HEIGHT(&vf);
        for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&vf); ++p) {
          gint comps[GST_VIDEO_MAX_COMPONENTS];
          gst_video_format_info_component(vf.info.finfo, p, comps);
          const int row = GST_VIDEO_FRAME_COMP_WIDTH(&vf, comps[0]) * GST_VIDEO_FRAME_COMP_PSTRIDE(&vf, comps[0]);
          const auto* data = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&vf, p));
          for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&vf, comps[0]); ++y) {
            const std::uint8_t* r = data + static_cast<std::ptrdiff_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&vf, p);
            f.bytes.insert(f.bytes.end(), r, r + row);
          }
        }
        gst_video_frame_unmap(&vf);
        r.frames.push_back(std::move(f));
      }
      gst_sample_unref(sample);
    }
    while (GstMessage* msg = gst_bus_pop_filtered(
               bus, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS))) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        done = true;
      } else {
        GError* e = nullptr;
        gchar* dbg = nullptr;
        const bool is_error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
        if (is_error) gst_message_parse_error(msg, &e, &dbg);
        else gst_message_parse_warning(msg, &e, &dbg);
        std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + (e ? e->message : "?") +
                           " [" + (dbg ? dbg : "") + "]";
        (is_error ? r.errors : r.warnings).push_back(text);
        if (is_error) done = true;
        g_clear_error(&e);
        g_free(dbg);
      }
      gst_message_unref(msg);
    }
  }
  if (GstElement* probe = gst_bin_get_by_name(GST_BIN(pipeline), "probe")) {
    GstPad* pad = gst_element_get_static_pad(probe, "src");
    if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
      gchar* s = gst_caps_to_string(caps);
      r.caps_seen = s;
      g_free(s);
      gst_caps_unref(caps);
    }
    gst_object_unref(pad);
    gst_object_unref(probe);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  if (sink) gst_object_unref(sink);
  gst_object_unref(pipeline);
  return r;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

struct Diff {
  double psnr = 0;
  int max_abs = 0;
};

Diff compare(const Frame& a, const Frame& b) {
  Diff d;
  double se = 0;
  for (std::size_t i = 0; i < a.bytes.size(); ++i) {
    int v = std::abs(int(a.bytes[i]) - int(b.bytes[i]));
    d.max_abs = std::max(d.max_abs, v);
    se += double(v) * v;
  }
  double mse = se / std::max<std::size_t>(1, a.bytes.size());
  d.psnr = mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
  return d;
}

void expect_same_frames(const Result& got, const Result& want, const char* what) {
  ASSERT_TRUE(got.errors.empty()) << what << ": " << joined(got.errors);
  ASSERT_EQ(got.frames.size(), want.frames.size()) << what;
  for (std::size_t i = 0; i < got.frames.size(); ++i) {
    // The reference is a real picture (the ball on black), not a flat frame that any path matches.
    auto [lo, hi] = std::minmax_element(want.frames[i].bytes.begin(), want.frames[i].bytes.end());
    ASSERT_GE(int(*hi) - int(*lo), 40) << what << " frame " << i << ": flat reference";
    ASSERT_EQ(got.frames[i].width, want.frames[i].width) << what;
    ASSERT_EQ(got.frames[i].height, want.frames[i].height) << what;
    Diff d = compare(got.frames[i], want.frames[i]);
    EXPECT_GE(d.psnr, 50.0) << what << " frame " << i;
    EXPECT_LE(d.max_abs, 2) << what << " frame " << i;
    ::testing::Test::RecordProperty(std::string(what) + "_psnr_" + std::to_string(i), std::to_string(d.psnr));
  }
}

bool have_vulkan_device(std::string& why) {
  try {
    if (lerf::list_vulkan_devices().empty()) {
      why = "no Vulkan device";
      return false;
    }
    return true;
  } catch (const lerf::Error& e) {
    why = e.what();
    return false;
  }
}

bool no_driver_env() {
  const char* icd = std::getenv("VK_ICD_FILENAMES");
  return icd && std::string(icd) == "/nonexistent";
}

#define REQUIRE_VULKAN()                                                                      \
  do {                                                                                        \
    std::string why_;                                                                         \
    if (no_driver_env()) GTEST_SKIP() << "VK_ICD_FILENAMES=/nonexistent: no-driver run";      \
    if (!have_vulkan_device(why_)) GTEST_SKIP() << "no usable Vulkan device: " << why_;       \
  } while (0)

#define REQUIRE_GST_VULKAN()                                                                               \
  do {                                                                                                     \
    REQUIRE_VULKAN();                                                                                      \
    for (const char* f : {"vulkanupload", "vulkandownload"}) {                                             \
      GstElementFactory* fac = gst_element_factory_find(f);                                                \
      if (!fac) GTEST_SKIP() << "GStreamer element " << f << " is unavailable (gst-plugins-bad vulkan)";   \
      gst_object_unref(fac);                                                                               \
    }                                                                                                      \
  } while (0)

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~ScopedEnv() { unsetenv(name.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
};

const char* const kSource = "videotestsrc num-buffers=3 pattern=ball ! video/x-raw,format=BGRA,width=64,height=48";
const char* const kScaleOut = "video/x-raw,width=128,height=96";
const char* const kWarpMatrix = "matrix=\"<0.9,-0.1,6.0, 0.05,0.95,3.0, 0.0005,0.0,1.0>\"";

std::string scale_cpu(const char* method) {
  return std::string(kSource) + " ! lerfscale backend=cpu method=" + method + " ! " + kScaleOut +
         " ! appsink name=sink sync=false";
}
std::string warp_cpu(const char* method) {
  return std::string(kSource) + " ! lerfwarp backend=cpu method=" + method + " " + kWarpMatrix +
         " ! appsink name=sink sync=false";
}

// The authors' LUTs in ../shared (LERF_SHARED_DIR), or empty when absent.
std::string official_luts() {
  const char* shared = std::getenv("LERF_SHARED_DIR");
  if (!shared || !*shared) return {};
  std::string p = std::string(shared) + "/reference/lerf-official";
  return g_file_test((p + "/lerf-g").c_str(), G_FILE_TEST_IS_DIR) ? p : std::string();
}

// Method and, for learned methods, the model-dir property.
std::string method_args(const char* method) {
  std::string m = method;
  if (m.rfind("lerf", 0) == 0) return "method=" + m + " model-dir=" + official_luts();
  return "method=" + m;
}

// The device-memory pipeline: upload, the element (named probe) on VulkanImage, download.
std::string on_device(const std::string& element, const std::string& out_caps) {
  return std::string(kSource) + " ! vulkanupload ! " + element + " name=probe ! video/x-raw(memory:VulkanImage)" +
         out_caps + " ! vulkandownload ! video/x-raw,format=BGRA ! appsink name=sink sync=false";
}

}  // namespace

// --- memory:VulkanImage in and out, on the pipeline's device (vulkanupload's) ---

class GstVulkanDeviceMemory : public ::testing::TestWithParam<const char*> {};

TEST_P(GstVulkanDeviceMemory, ScaleMatchesCpu) {
  REQUIRE_GST_VULKAN();
  const char* method = GetParam();
  if (std::string(method).rfind("lerf", 0) == 0 && official_luts().empty())
    GTEST_SKIP() << "../shared/reference/lerf-official is absent (LERF_SHARED_DIR): no LeRF LUTs";
  Result want = run_pipeline(std::string(kSource) + " ! lerfscale backend=cpu " + method_args(method) + " ! " +
                             kScaleOut + " ! appsink name=sink sync=false");
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  for (const char* backend : {"vulkan", "auto"}) {
    Result got = run_pipeline(on_device(std::string("lerfscale backend=") + backend + " " + method_args(method),
                                        ",width=128,height=96"));
    EXPECT_NE(got.caps_seen.find("memory:VulkanImage"), std::string::npos) << got.caps_seen;
    expect_same_frames(got, want, (std::string("scale_") + method + "_" + backend).c_str());
    EXPECT_TRUE(got.warnings.empty()) << joined(got.warnings);
  }
}

TEST_P(GstVulkanDeviceMemory, WarpMatchesCpu) {
  REQUIRE_GST_VULKAN();
  const char* method = GetParam();
  if (std::string(method).rfind("lerf", 0) == 0 && official_luts().empty())
    GTEST_SKIP() << "../shared/reference/lerf-official is absent (LERF_SHARED_DIR): no LeRF LUTs";
  Result want = run_pipeline(std::string(kSource) + " ! lerfwarp backend=cpu " + method_args(method) + " " +
                             kWarpMatrix + " ! appsink name=sink sync=false");
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  Result got = run_pipeline(
      on_device(std::string("lerfwarp backend=vulkan ") + method_args(method) + " " + kWarpMatrix, ""));
  EXPECT_NE(got.caps_seen.find("memory:VulkanImage"), std::string::npos) << got.caps_seen;
  expect_same_frames(got, want, (std::string("warp_") + method).c_str());
}

INSTANTIATE_TEST_SUITE_P(Methods, GstVulkanDeviceMemory,
                         ::testing::Values("bilinear", "nearest", "bicubic", "lanczos", "lerf-g", "lerf-l", "im-lut"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(GstVulkanDeviceMemoryCases, AddBordersAndTransparentWarp) {
  REQUIRE_GST_VULKAN();
  // 64x48 into 128x128: letterboxed (black bars above and below).
  Result want = run_pipeline(std::string(kSource) +
                             " ! lerfscale backend=cpu method=bicubic ! video/x-raw,width=128,height=128,"
                             "pixel-aspect-ratio=1/1 ! appsink name=sink sync=false");
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  Result got = run_pipeline(on_device("lerfscale backend=vulkan method=bicubic", ",width=128,height=128,pixel-aspect-ratio=1/1"));
  expect_same_frames(got, want, "add_borders");
  // I420 pillarboxed to an odd content width (85 columns from column 16: a half-covered chroma
  // column). Output width 120: chroma rows of 60 bytes, a multiple of 4 (vulkandownload in 1.22
  // writes chroma rows unpadded, so widths whose chroma stride is padded, e.g. 100, read back wrong).
  const std::string i420 =
      "videotestsrc num-buffers=2 pattern=ball foreground-color=0xff30c040 background-color=0xff902050 ! "
      "video/x-raw,format=I420,width=64,height=48";
  Result want_i = run_pipeline(i420 + " ! lerfscale backend=cpu method=bilinear ! video/x-raw,width=120,height=64,"
                               "pixel-aspect-ratio=1/1 ! appsink name=sink sync=false");
  ASSERT_EQ(want_i.frames.size(), 2u) << joined(want_i.errors);
  Result got_i = run_pipeline(i420 + " ! vulkanupload ! lerfscale backend=vulkan method=bilinear ! "
                              "video/x-raw(memory:VulkanImage),width=120,height=64,pixel-aspect-ratio=1/1 ! "
                              "vulkandownload ! video/x-raw,format=I420 ! appsink name=sink sync=false");
  expect_same_frames(got_i, want_i, "add_borders_i420");
  Result want_w = run_pipeline(std::string(kSource) + " ! lerfwarp backend=cpu method=bilinear border=transparent " +
                               kWarpMatrix + " ! video/x-raw,width=80,height=60 ! appsink name=sink sync=false");
  ASSERT_EQ(want_w.frames.size(), 3u) << joined(want_w.errors);
  Result got_w = run_pipeline(
      on_device(std::string("lerfwarp backend=vulkan method=bilinear border=transparent ") + kWarpMatrix,
                ",width=80,height=60"));
  expect_same_frames(got_w, want_w, "warp_transparent");
}

// Graphics neighbours (render passes sampling our output image, as vulkansink does, and
// writing our input image) instead of transfers.
TEST(GstVulkanDeviceMemoryCases, BetweenSamplingElements) {
  REQUIRE_GST_VULKAN();
  GstElementFactory* fac = gst_element_factory_find("vulkanimageidentity");
  if (!fac) GTEST_SKIP() << "GStreamer element vulkanimageidentity is unavailable";
  gst_object_unref(fac);
  Result want = run_pipeline(scale_cpu("bicubic"));
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  Result got = run_pipeline(std::string(kSource) +
                            " ! vulkanupload ! vulkanimageidentity ! lerfscale name=probe backend=vulkan "
                            "method=bicubic ! video/x-raw(memory:VulkanImage),width=128,height=96 ! "
                            "vulkanimageidentity ! vulkandownload ! video/x-raw,format=BGRA ! appsink name=sink "
                            "sync=false");
  EXPECT_NE(got.caps_seen.find("memory:VulkanImage"), std::string::npos) << got.caps_seen;
  expect_same_frames(got, want, "between_identity");
}

// DISABLED: under CPU load (tests in parallel) the pipeline's final unref after this error can
// block forever inside libgstvulkan 1.22's display teardown (g_cond_wait in a GstVulkan
// object's finalize, main thread; seen in 3 of 21 stressed runs, never alone). The element
// side is fixed (it waits for in-flight submissions on the input before the error leaves;
// that removed the lavapipe segfaults). Run with --gtest_also_run_disabled_tests.
TEST(GstVulkanDeviceMemoryCases, DISABLED_CpuBackendOnDeviceMemoryIsAClearError) {
  REQUIRE_GST_VULKAN();
  Result got = run_pipeline(on_device("lerfscale backend=cpu method=bilinear", ",width=128,height=96"));
  ASSERT_FALSE(got.errors.empty());
  EXPECT_NE(got.errors[0].find("backend=cpu cannot process memory:VulkanImage"), std::string::npos) << got.errors[0];
}

TEST(GstVulkanDeviceMemoryCases, OtherFormatsNegotiateSystemMemory) {
  REQUIRE_VULKAN();
  // NV16 has no VulkanImage caps on the elements: system memory, whatever the backend.
  Result want = run_pipeline(
      "videotestsrc num-buffers=2 pattern=ball ! video/x-raw,format=NV16,width=64,height=48 ! lerfscale backend=cpu "
      "method=bilinear name=probe ! video/x-raw,width=128,height=96 ! videoconvert ! video/x-raw,format=BGRA ! "
      "appsink name=sink sync=false");
  Result got = run_pipeline(
      "videotestsrc num-buffers=2 pattern=ball ! video/x-raw,format=NV16,width=64,height=48 ! lerfscale "
      "backend=vulkan method=bilinear name=probe ! video/x-raw,width=128,height=96 ! videoconvert ! "
      "video/x-raw,format=BGRA ! appsink name=sink sync=false");
  EXPECT_EQ(got.caps_seen.find("memory:"), std::string::npos) << got.caps_seen;
  expect_same_frames(got, want, "nv16_system_memory");
}

// Every format with device caps, plane by plane, against the CPU: images (one per plane), or
// buffers (planes at the video meta's offsets and strides; turned into images for
// vulkandownload by a second vulkanupload).
void check_format_on_device(const std::string& fmt, bool buffers, const std::string& method_scale,
                            const std::string& method_warp) {
  const std::string src =
      "videotestsrc num-buffers=2 pattern=ball foreground-color=0xff30c040 background-color=0xff902050 ! "
      "video/x-raw,format=" + fmt + ",width=64,height=48";
  const std::string tail = " ! appsink name=sink sync=false";
  const std::string mem = buffers ? "video/x-raw(memory:VulkanBuffer)" : "video/x-raw(memory:VulkanImage)";
  for (const std::string& element : {"lerfscale " + method_args(method_scale.c_str()),
                                     "lerfwarp border=black " + method_args(method_warp.c_str()) + " " + kWarpMatrix}) {
    const std::string out_size = element.rfind("lerfscale", 0) == 0 ? ",width=96,height=72" : "";
    Result want = run_pipeline(src + " ! " + element + " backend=cpu ! video/x-raw" + out_size + tail);
    ASSERT_EQ(want.frames.size(), 2u) << joined(want.errors);
    Result got = run_pipeline(src + " ! vulkanupload ! " + mem + " ! " + element + " backend=vulkan name=probe ! " +
                              mem + out_size + (buffers ? " ! vulkanupload ! video/x-raw(memory:VulkanImage)" : "") +
                              " ! vulkandownload ! video/x-raw,format=" + fmt + tail);
    EXPECT_NE(got.caps_seen.find(buffers ? "memory:VulkanBuffer" : "memory:VulkanImage"), std::string::npos)
        << got.caps_seen;
    expect_same_frames(got, want,
                       (fmt + (buffers ? "_buffer" : "_image") + (out_size.empty() ? "_warp" : "_scale")).c_str());
  }
}

class GstVulkanDeviceFormats : public ::testing::TestWithParam<const char*> {};

TEST_P(GstVulkanDeviceFormats, ImagesScaleAndWarpMatchCpu) {
  REQUIRE_GST_VULKAN();
  check_format_on_device(GetParam(), false, "bicubic", "bilinear");
}

TEST_P(GstVulkanDeviceFormats, BuffersScaleAndWarpMatchCpu) {
  REQUIRE_GST_VULKAN();
  check_format_on_device(GetParam(), true, "lanczos", "nearest");
}

INSTANTIATE_TEST_SUITE_P(Formats, GstVulkanDeviceFormats,
                         ::testing::Values("I420", "NV12", "YV12", "Y444", "Y41B", "GRAY8", "AYUV", "xRGB", "RGBA"),
                         [](const auto& info) { return std::string(info.param); });

// Buffers read back by mapping them (host-visible Vulkan memory), so that padded strides are
// tested without vulkandownload (whose 1.22 chroma readback ignores padding): I420 100 pixels
// wide has 52-byte chroma strides for 50-pixel chroma rows.
TEST(GstVulkanDeviceMemoryCases, BuffersWithPaddedStrides) {
  REQUIRE_GST_VULKAN();
  const std::string src =
      "videotestsrc num-buffers=2 pattern=ball foreground-color=0xff30c040 background-color=0xff902050 ! "
      "video/x-raw,format=I420,width=100,height=60";
  Result want = run_pipeline(src + " ! lerfscale backend=cpu method=bicubic ! video/x-raw,width=150,height=90 ! "
                             "appsink name=sink sync=false");
  ASSERT_EQ(want.frames.size(), 2u) << joined(want.errors);
  Result got = run_pipeline(src + " ! vulkanupload ! video/x-raw(memory:VulkanBuffer) ! lerfscale name=probe "
                            "backend=vulkan method=bicubic ! video/x-raw(memory:VulkanBuffer),width=150,height=90 ! "
                            "appsink name=sink sync=false");
  EXPECT_NE(got.caps_seen.find("memory:VulkanBuffer"), std::string::npos) << got.caps_seen;
  expect_same_frames(got, want, "i420_buffer_padded");
}

TEST(GstVulkanDeviceMemoryCases, LerfOnBuffers) {
  REQUIRE_GST_VULKAN();
  if (official_luts().empty()) GTEST_SKIP() << "../shared/reference/lerf-official is absent: no LeRF LUTs";
  check_format_on_device("NV12", true, "lerf-g", "lerf-l");
}

TEST(GstVulkanDeviceMemoryCases, LerfGOnI420) {
  REQUIRE_GST_VULKAN();
  if (official_luts().empty()) GTEST_SKIP() << "../shared/reference/lerf-official is absent: no LeRF LUTs";
  const std::string src = "videotestsrc num-buffers=2 pattern=ball ! video/x-raw,format=I420,width=64,height=48";
  Result want = run_pipeline(src + " ! lerfscale backend=cpu " + method_args("lerf-g") +
                             " ! video/x-raw,width=128,height=96 ! appsink name=sink sync=false");
  Result got = run_pipeline(src + " ! vulkanupload ! lerfscale backend=vulkan name=probe " + method_args("lerf-g") +
                            " ! video/x-raw(memory:VulkanImage),width=128,height=96 ! vulkandownload ! "
                            "video/x-raw,format=I420 ! appsink name=sink sync=false");
  EXPECT_NE(got.caps_seen.find("memory:VulkanImage"), std::string::npos) << got.caps_seen;
  expect_same_frames(got, want, "i420_lerf_g");
}

// --- CPU fallback of backend=auto when Vulkan fails mid-stream (system memory) ---

TEST(GstVulkanFallback, AutoFallsBackToCpuMidStreamAndWarnsOnce) {
  REQUIRE_VULKAN();
  Result want = run_pipeline(scale_cpu("bilinear"));
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  // auto picks lavapipe (reported as a GPU) and the backend fails from its 2nd submission on.
  ScopedEnv gpu("LERF_VK_TEST_SOFTWARE_AS_GPU", "1");
  ScopedEnv lose("LERF_VK_TEST_LOSE_DEVICE_AFTER", "1");
  Result got = run_pipeline(std::string(kSource) + " ! lerfscale backend=auto method=bilinear ! " + kScaleOut +
                            " ! appsink name=sink sync=false");
  expect_same_frames(got, want, "auto_fallback");
  ASSERT_EQ(got.warnings.size(), 1u) << joined(got.warnings);
  EXPECT_NE(got.warnings[0].find("continuing on the CPU"), std::string::npos) << got.warnings[0];
  EXPECT_NE(got.warnings[0].find("device lost"), std::string::npos) << got.warnings[0];
}

TEST(GstVulkanFallback, WarpAutoFallsBackToCpuMidStream) {
  REQUIRE_VULKAN();
  Result want = run_pipeline(warp_cpu("bicubic"));
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  ScopedEnv gpu("LERF_VK_TEST_SOFTWARE_AS_GPU", "1");
  ScopedEnv lose("LERF_VK_TEST_LOSE_DEVICE_AFTER", "2");
  Result got = run_pipeline(std::string(kSource) + " ! lerfwarp backend=auto method=bicubic " + kWarpMatrix +
                            " ! appsink name=sink sync=false");
  expect_same_frames(got, want, "warp_auto_fallback");
  EXPECT_EQ(got.warnings.size(), 1u) << joined(got.warnings);
}

TEST(GstVulkanFallback, ExplicitVulkanPostsErrorWhenDeviceIsLost) {
  REQUIRE_VULKAN();
  ScopedEnv lose("LERF_VK_TEST_LOSE_DEVICE_AFTER", "1");
  Result got = run_pipeline(std::string(kSource) + " ! lerfscale backend=vulkan method=bilinear ! " + kScaleOut +
                            " ! appsink name=sink sync=false");
  ASSERT_FALSE(got.errors.empty()) << "backend=vulkan must not fall back";
  EXPECT_NE(got.errors[0].find("device lost"), std::string::npos) << got.errors[0];
  EXPECT_EQ(got.frames.size(), 1u);
  EXPECT_TRUE(got.warnings.empty()) << joined(got.warnings);
}

// --- No Vulkan driver at all (meson test gst-vulkan-nodriver: VK_ICD_FILENAMES=/nonexistent) ---

TEST(GstVulkanNoDriver, AutoUsesCpuAndVulkanFailsClearly) {
  if (!no_driver_env()) GTEST_SKIP() << "runs under VK_ICD_FILENAMES=/nonexistent (meson test gst-vulkan-nodriver)";
  Result want = run_pipeline(scale_cpu("bilinear"));
  ASSERT_EQ(want.frames.size(), 3u) << joined(want.errors);
  Result got = run_pipeline(std::string(kSource) + " ! lerfscale backend=auto method=bilinear ! " + kScaleOut +
                            " ! appsink name=sink sync=false");
  expect_same_frames(got, want, "nodriver_auto");
  Result bad = run_pipeline(std::string(kSource) + " ! lerfscale backend=vulkan method=bilinear ! " + kScaleOut +
                            " ! appsink name=sink sync=false");
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_NE(bad.errors[0].find("Vulkan"), std::string::npos) << bad.errors[0];
  EXPECT_NE(bad.errors[0].find("lerfscale"), std::string::npos) << bad.errors[0];
  EXPECT_TRUE(bad.frames.empty());
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
