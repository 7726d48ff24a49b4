// lerf-bench: ms/frame and fps of every method and backend on I420 frames of a real clip,
// with GStreamer's videoscale and OpenCV's cv::resize on the same frames in the same run
// (ratios are what to compare on a noisy shared machine). See docs/PERFORMANCE.md.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <sstream>

#include "cpu/fast_paths.hpp"
#include "cpu/simd_kernels.hpp"
#include "lerf/engine.hpp"
#include "lerf/error.hpp"

#ifdef LERF_BENCH_GST
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#endif

namespace {

using namespace lerf;
using Clock = std::chrono::steady_clock;

struct Case {
  std::string name;
  Size in, out;
};

const std::vector<Case> kCases = {
    {"540p->1080p", {960, 540}, {1920, 1080}},   {"1080p->2160p", {1920, 1080}, {3840, 2160}},
    {"x1.5", {1280, 720}, {1920, 1080}},         {"x3.7", {520, 290}, {1924, 1074}},
    {"1080p->360p", {1920, 1080}, {640, 360}},
    // Issue #8's figure for the implicit methods (854x480 is 16:9 480p; x2.25).
    {"480p->1080p", {854, 480}, {1920, 1080}},
};

// One I420 frame in OpenCV's contiguous layout: Y (w x h), U and V (w/2 x h/2) after it.
struct I420 {
  cv::Mat data;
  Size size;
  explicit I420(Size s) : data(s.height * 3 / 2, s.width, CV_8UC1), size(s) {}
  PlaneView plane(int i) {
    const int w = size.width, h = size.height;
    std::uint8_t* p = data.data;
    if (i == 0) return {p, w, h, w, 1};
    return {p + w * h + (i - 1) * (w / 2) * (h / 2), w / 2, h / 2, w / 2, 1};
  }
};

std::vector<cv::Mat> read_clip(const std::string& path, int frames) {
  cv::VideoCapture cap(path);
  if (!cap.isOpened()) throw Error("cannot open " + path);
  std::vector<cv::Mat> v;
  cv::Mat f;
  while (static_cast<int>(v.size()) < frames && cap.read(f)) v.push_back(f.clone());
  if (v.empty()) throw Error("no frames in " + path);
  return v;
}

std::vector<I420> frames_at(const std::vector<cv::Mat>& clip, Size s) {
  std::vector<I420> v;
  for (const auto& f : clip) {
    cv::Mat bgr;
    cv::resize(f, bgr, cv::Size(s.width, s.height), 0, 0, cv::INTER_AREA);
    I420 frame(s);
    cv::cvtColor(bgr, frame.data, cv::COLOR_BGR2YUV_I420);
    v.push_back(std::move(frame));
  }
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
long current_rss_kb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double cpu_now_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Times fn(frame index) over `frames` frames `repeat` times after `warmup` calls: median wall
// ms, and CPU ms of the whole process (all threads) per frame, the figure that a machine
// shared with other jobs disturbs least.
struct Timing {
  double ms = 0, cpu_ms = 0;
};
template <typename Fn>
Timing time_frames(int frames, int warmup, int repeat, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn(i % frames);
  std::vector<double> ms;
  const double cpu0 = cpu_now_ms();
  for (int r = 0; r < repeat; ++r)
    for (int i = 0; i < frames; ++i) {
      auto t0 = Clock::now();
      fn(i);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  return {median(ms), (cpu_now_ms() - cpu0) / static_cast<double>(ms.size())};
}

struct EngineRunner {
  std::unique_ptr<Engine> engine;
  Case c;
  std::vector<PlaneJob> jobs(I420& in, I420& out) {
    std::vector<PlaneJob> j;
    for (int i = 0; i < 3; ++i) {
      PlaneView ip = in.plane(i), op = out.plane(i);
      j.push_back({ConstPlaneView(ip), op, resize_map(ip.size(), op.size())});
    }
    return j;
  }
};

#ifdef LERF_BENCH_GST
// appsrc ! videoscale method=M n-threads=N ! caps ! appsink; times push .. pull of one frame
// (the buffer is filled before the clock starts, the pipeline is set up once).
class GstScale {
 public:
  GstScale(Size in, Size out, const std::string& method, int threads) {
    std::ostringstream d;
    d << "appsrc name=src format=time caps=video/x-raw,format=I420,width=" << in.width << ",height=" << in.height
      << ",framerate=25/1 ! videoscale method=" << method << " n-threads=" << threads
      << " ! video/x-raw,width=" << out.width << ",height=" << out.height
      << " ! appsink name=sink sync=false max-buffers=2";
    GError* err = nullptr;
    pipeline_ = gst_parse_launch(d.str().c_str(), &err);
    if (!pipeline_ || err) throw Error(std::string("gst: ") + (err ? err->message : "parse failed"));
    src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    gst_video_info_set_format(&info_, GST_VIDEO_FORMAT_I420, in.width, in.height);
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      throw Error("gst: cannot start " + d.str());
  }
  ~GstScale() {
    gst_app_src_end_of_stream(GST_APP_SRC(src_));
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
  }
  double run(I420& frame) {
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info_), nullptr);
    GstVideoFrame vf;
    gst_video_frame_map(&vf, &info_, buf, GST_MAP_WRITE);
    for (int p = 0; p < 3; ++p) {
      PlaneView pv = frame.plane(p);
      auto* dst = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&vf, p));
      const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, p);
      for (int y = 0; y < pv.height; ++y) std::memcpy(dst + y * stride, pv.row(y), pv.width);
    }
    gst_video_frame_unmap(&vf);
    GST_BUFFER_PTS(buf) = pts_;
    GST_BUFFER_DURATION(buf) = GST_SECOND / 25;
    pts_ += GST_SECOND / 25;
    auto t0 = Clock::now();
    gst_app_src_push_buffer(GST_APP_SRC(src_), buf);
    GstSample* s = gst_app_sink_pull_sample(GST_APP_SINK(sink_));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!s) throw Error("gst: no output sample");
    gst_sample_unref(s);
    return ms;
  }

 private:
  GstElement *pipeline_ = nullptr, *src_ = nullptr, *sink_ = nullptr;
  GstVideoInfo info_;
  GstClockTime pts_ = 0;
};
#endif

const char* videoscale_method(Method m) {
  switch (m) {
    case Method::Nearest: return "nearest-neighbour";
    case Method::Bilinear: return "bilinear";
    case Method::Bicubic: return "catrom";
    default: return "lanczos";  // lanczos, and the reference for learned methods
  }
}
int opencv_interp(Method m) {
  switch (m) {
    case Method::Nearest: return cv::INTER_NEAREST;
    case Method::Bilinear: return cv::INTER_LINEAR;
    case Method::Bicubic: return cv::INTER_CUBIC;
    default: return cv::INTER_LANCZOS4;
  }
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) if (!item.empty()) v.push_back(item);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lerf-bench: ms/frame of every method and backend on I420 frames of a real clip, "
               "with GStreamer videoscale and OpenCV on the same frames"};
  std::string clip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  std::string methods_text = "nearest,bilinear,bicubic,lanczos,lerf-l,lerf-g";
  std::string backends_text = "cpu";
  std::string cases_text;
  std::string model_dir, json_path;
  int threads = 2, frames = 10, repeat = 3, warmup = 2, memory_frames = 0, slow_frames = 3;
  bool no_gst = false, no_opencv = false;
  std::string simd_target;
  app.add_option("--simd-target", simd_target, "restrict the CPU backend to one Highway target (AVX3, AVX2, SSE4, ...)");
  app.add_option("--clip", clip, "video file (read with OpenCV)")->capture_default_str();
  app.add_option("--methods", methods_text)->capture_default_str();
  app.add_option("--backends", backends_text, "cpu, cpu-ref (the plain reference path), vulkan")
      ->capture_default_str();
  std::string case_names;
  for (auto& c : kCases) case_names += (case_names.empty() ? "" : ",") + c.name;
  app.add_option("--cases", cases_text, "comma-separated, of: " + case_names);
  app.add_option("--model-dir", model_dir, "model folder for learned methods");
  app.add_option("--threads", threads, "threads for every contender")->capture_default_str();
  app.add_option("--frames", frames, "distinct clip frames per case")->capture_default_str();
  app.add_option("--repeat", repeat, "passes over the frames")->capture_default_str();
  app.add_option("--slow-frames", slow_frames, "frames (one pass) for cpu-ref and vulkan")->capture_default_str();
  app.add_option("--memory-frames", memory_frames,
                 "instead of timing: run this many frames of each method/case, report RSS growth");
  app.add_flag("--no-gst", no_gst, "skip videoscale");
  app.add_flag("--no-opencv", no_opencv, "skip cv::resize");
  app.add_option("--json", json_path, "also write the results as JSON");
  CLI11_PARSE(app, argc, argv);

  try {
#ifdef LERF_BENCH_GST
    gst_init(&argc, &argv);
#else
    no_gst = true;
#endif
    cv::setNumThreads(threads);
    if (!simd_target.empty()) {
      bool found = false;
      for (auto& [t, name] : cpu::simd::available_targets())
        if (name == simd_target) cpu::simd::force_target(t), found = true;
      if (!found) throw Error("SIMD target " + simd_target + " is not available here");
    }
    std::vector<Method> methods;
    for (auto& n : split(methods_text)) {
      auto m = parse_method(n);
      if (!m) throw Error("unknown method " + n);
      methods.push_back(*m);
    }
    std::vector<Case> cases;
    for (auto& n : split(cases_text.empty() ? case_names : cases_text)) {
      auto it = std::find_if(kCases.begin(), kCases.end(), [&](const Case& c) { return c.name == n; });
      if (it == kCases.end()) throw Error("unknown case " + n);
      cases.push_back(*it);
    }
    auto clip_frames = read_clip(clip, frames);
    frames = static_cast<int>(clip_frames.size());

    std::printf("# lerf-bench: %s, %d frames x %d passes, %d threads, I420, SIMD target %s\n", clip.c_str(), frames,
                repeat, threads, cpu::simd::current_target().c_str());
    nlohmann::json results = nlohmann::json::array();
    for (const auto& c : cases) {
      auto in = frames_at(clip_frames, c.in);
      I420 out(c.out);
      std::printf("\n## %s (%dx%d -> %dx%d)\n", c.name.c_str(), c.in.width, c.in.height, c.out.width,
                  c.out.height);
      if (memory_frames == 0)
        std::printf("%-9s %-8s %10s %8s %14s %10s %12s %10s   %s\n", "method", "backend", "ms/frame", "fps",
                    "videoscale", "ratio", "cv::resize", "ratio", "CPU ms/frame: ours, videoscale, ratio");
      std::map<std::string, Timing> vs_ms;  // videoscale per method name
      for (Method m : methods) {
        Timing vst, cvt;
        const std::string vsm = videoscale_method(m);
#ifdef LERF_BENCH_GST
        if (!no_gst && memory_frames == 0) {
          if (!vs_ms.count(vsm)) {
            GstScale g(c.in, c.out, vsm, threads);
            vs_ms[vsm] = time_frames(frames, warmup, repeat, [&](int i) { g.run(in[i]); });
          }
          vst = vs_ms[vsm];
        }
#endif
        if (!no_opencv && memory_frames == 0 && is_classical(m)) {
          cv::Mat o[3];
          cvt = time_frames(frames, warmup, repeat, [&](int i) {
            for (int p = 0; p < 3; ++p) {
              PlaneView ip = in[i].plane(p), op = out.plane(p);
              cv::Mat src(ip.height, ip.width, CV_8UC1, ip.data, ip.stride);
              cv::Mat dst(op.height, op.width, CV_8UC1, op.data, op.stride);
              cv::resize(src, dst, dst.size(), 0, 0, opencv_interp(m));
            }
          });
        }
        for (const auto& b : split(backends_text)) {
          EngineOptions o;
          o.method = m;
          o.threads = threads;
          o.model_dir = model_dir;
          o.backend = b == "vulkan" ? BackendKind::Vulkan : BackendKind::Cpu;
          cpu::set_default_cpu_path(b == "cpu-ref" ? cpu::CpuPath::Reference : cpu::CpuPath::Fast);
          std::unique_ptr<Engine> engine;
          try {
            engine = std::make_unique<Engine>(o);
          } catch (const Error& e) {
            std::printf("%-9s %-8s unavailable: %s\n", std::string(method_name(m)).c_str(), b.c_str(), e.what());
            continue;
          }
          cpu::set_default_cpu_path(cpu::CpuPath::Fast);
          EngineRunner r{std::move(engine), c};
          std::vector<std::vector<PlaneJob>> jobs;
          for (auto& f : in) jobs.push_back(r.jobs(f, out));
          if (memory_frames > 0) {
            long rss0 = 0, rss_mid = 0;
            for (int i = 0; i < memory_frames; ++i) {
              r.engine->run(jobs[i % frames]);
              if (i == std::min(100, memory_frames / 2)) rss0 = current_rss_kb();
              if (i == memory_frames / 2) rss_mid = current_rss_kb();
            }
            long rss1 = current_rss_kb();
            std::printf("%-9s %-8s %d frames: RSS %.1f MB at frame %d, %.1f MB at %d, %.1f MB at the end; "
                        "peak RSS of the process %.1f MB\n",
                        std::string(method_name(m)).c_str(), b.c_str(), memory_frames, rss0 / 1024.0,
                        std::min(100, memory_frames / 2), rss_mid / 1024.0, memory_frames / 2, rss1 / 1024.0,
                        peak_rss_kb() / 1024.0);
            results.push_back({{"case", c.name}, {"method", method_name(m)}, {"backend", b},
                               {"frames", memory_frames}, {"rss_start_mb", rss0 / 1024.0},
                               {"rss_end_mb", rss1 / 1024.0}, {"peak_rss_mb", peak_rss_kb() / 1024.0}});
            continue;
          }
          const bool slow = b != "cpu";
          const int nf = slow ? std::min(frames, slow_frames) : frames;
          const Timing t = time_frames(nf, slow ? 1 : warmup, slow ? 1 : repeat, [&](int i) { r.engine->run(jobs[i]); });
          const double ms = t.ms, vs = vst.ms, cvms = cvt.ms;
          char vs_txt[32] = "-", vs_ratio[32] = "-", cv_txt[32] = "-", cv_ratio[32] = "-";
          if (vs > 0) {
            std::snprintf(vs_txt, sizeof vs_txt, "%.2f (%s)", vs, vsm == "nearest-neighbour" ? "nn" : vsm.c_str());
            std::snprintf(vs_ratio, sizeof vs_ratio, "%.2fx", ms / vs);
          }
          if (cvms > 0) {
            std::snprintf(cv_txt, sizeof cv_txt, "%.2f", cvms);
            std::snprintf(cv_ratio, sizeof cv_ratio, "%.2fx", ms / cvms);
          }
          char cpu_txt[64] = "";
          if (vst.cpu_ms > 0)
            std::snprintf(cpu_txt, sizeof cpu_txt, "%.2f, %.2f, %.2fx", t.cpu_ms, vst.cpu_ms, t.cpu_ms / vst.cpu_ms);
          std::printf("%-9s %-8s %10.2f %8.1f %14s %10s %12s %10s   %s\n", std::string(method_name(m)).c_str(),
                      b.c_str(), ms, 1000.0 / ms, vs_txt, vs_ratio, cv_txt, cv_ratio, cpu_txt);
          std::fflush(stdout);
          results.push_back({{"case", c.name}, {"method", method_name(m)}, {"backend", b},
                             {"ms", ms}, {"cpu_ms", t.cpu_ms}, {"videoscale_method", vsm}, {"videoscale_ms", vs},
                             {"videoscale_cpu_ms", vst.cpu_ms}, {"opencv_ms", cvms}, {"opencv_cpu_ms", cvt.cpu_ms},
                             {"threads", threads}});
        }
      }
    }
    std::printf("\npeak RSS of this process: %.1f MB\n", peak_rss_kb() / 1024.0);
    if (!json_path.empty()) {
      std::ofstream(json_path) << nlohmann::json{{"threads", threads},
                                                 {"simd_target", cpu::simd::current_target()},
                                                 {"results", results}}
                                      .dump(2)
                               << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "lerf-bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
