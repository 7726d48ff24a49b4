// The Vulkan backend against the CPU reference (on lavapipe when there is no GPU): every
// method at integer, non-integer, asymmetric and downscaling factors, 1- and 4-channel
// strided planes and homography warps, PSNR >= 50 dB and max abs diff <= 2; LeRF's LUT
// stages bit-exact; and the fallback when no Vulkan driver is usable.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <unistd.h>
#include <map>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "cpu/cpu_methods.hpp"
#include "lerf/engine.hpp"
#include "lerf/error.hpp"
#include "lerf/implicit.hpp"
#include "lerf/model.hpp"
#include "lerf/safetensors.hpp"
#include "lerf/thread_pool.hpp"
#include "opencv_planes.hpp"
#include "test_helpers.hpp"
#include "vulkan/vulkan_backend.hpp"

#include <random>

namespace lerf {
namespace {

std::filesystem::path official_luts() {
  auto shared = test::shared_dir();
  if (shared.empty()) return {};
  auto dir = shared / "reference" / "lerf-official";
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path{};
}

// True (and the reason in `why`) when the tests cannot run here.
bool unavailable(Method m, std::string& why) {
  try {
    if (list_vulkan_devices().empty()) {
      why = "no Vulkan device (install Mesa's lavapipe: scripts/setup.sh)";
      return true;
    }
  } catch (const Error& e) {
    why = std::string("Vulkan unusable: ") + e.what();
    return true;
  }
  // im-lut's model (with its lerf-g component) ships in models/.
  if (method_needs_model(m) && m != Method::ImLut && official_luts().empty()) {
    why = "the authors' LUTs ($LERF_SHARED_DIR/reference/lerf-official) are absent";
    return true;
  }
  return false;
}

#define LERF_REQUIRE_VULKAN(method)       \
  do {                                    \
    std::string why_;                     \
    if (unavailable(method, why_)) GTEST_SKIP() << why_; \
  } while (0)

// One engine per (method, backend) for the whole executable: pipelines compile once, and
// the Vulkan buffers are reused across the differently sized jobs.
Engine& engine(Method m, BackendKind b) {
  static std::map<std::pair<Method, BackendKind>, std::unique_ptr<Engine>> engines;
  auto& e = engines[{m, b}];
  if (!e) {
    EngineOptions o;
    o.method = m;
    o.backend = b;
    o.threads = 2;
    if (method_needs_model(m) && m != Method::ImLut) o.model_dir = official_luts().string();
    e = std::make_unique<Engine>(o);
  }
  return *e;
}

// A 160x120 crop of the real photograph, as BGR, grey or BGRA.
cv::Mat test_image(int channels) {
  cv::Mat bgr = test::sample_image()(cv::Rect(150, 150, 160, 120)).clone();
  if (channels == 1) cv::cvtColor(bgr, bgr, cv::COLOR_BGR2GRAY);
  if (channels == 4) {
    cv::cvtColor(bgr, bgr, cv::COLOR_BGR2BGRA);
    // A varying alpha channel so that the fourth channel is exercised too.
    for (int y = 0; y < bgr.rows; ++y)
      for (int x = 0; x < bgr.cols; ++x) bgr.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>((x * 3 + y * 5) & 255);
  }
  return bgr;
}

// A view of `rows` x `cols` inside a larger matrix, so that the stride exceeds the row.
cv::Mat strided(int rows, int cols, int type) {
  cv::Mat big(rows + 3, cols + 7, type, cv::Scalar::all(77));
  return big(cv::Rect(5, 2, cols, rows));
}

struct Case {
  const char* name;
  int channels;
  bool strided;
  enum { Rescale, Warp, WarpMinifying } kind;
  Scale scale;  // Rescale
  Border border;
};

const Case kCases[] = {
    {"x2", 3, false, Case::Rescale, {2, 2}, Border::Clamp},
    {"x1_7", 3, false, Case::Rescale, {1.7, 1.7}, Border::Clamp},
    {"x2x3", 3, false, Case::Rescale, {2, 3}, Border::Clamp},
    {"x0_4", 3, false, Case::Rescale, {0.4, 0.4}, Border::Clamp},
    {"grey_x2_5", 1, true, Case::Rescale, {2.5, 2.5}, Border::Clamp},
    {"bgra_x1_7", 4, true, Case::Rescale, {1.7, 1.7}, Border::Clamp},
    {"bgra_x0_4_constant", 4, false, Case::Rescale, {0.4, 0.55}, Border::Constant},
    {"warp_clamp", 3, false, Case::Warp, {}, Border::Clamp},
    {"warp_constant", 3, true, Case::Warp, {}, Border::Constant},
    {"grey_warp_constant", 1, false, Case::Warp, {}, Border::Constant},
    {"warp_minifying", 3, false, Case::WarpMinifying, {}, Border::Constant},
};

// Runs the case on one backend: both phases, output of a fresh (optionally strided) matrix.
cv::Mat run_case(Method m, BackendKind b, const Case& c, const cv::Mat& in) {
  Size in_size{in.cols, in.rows};
  Size out_size;
  PlaneJob job;
  if (c.kind == Case::Rescale) {
    out_size = scaled_size(in_size, c.scale);
    job.map = resize_map(in_size, out_size, c.scale);
  } else if (c.kind == Case::WarpMinifying) {
    // Rotated and shrunk 2.2 to 3.4 times (classical kernels widen: antialiasing).
    out_size = {60, 48};
    job.map = warp_map(Matrix3{{0.36, 0.1, 4.0, -0.1, 0.36, 12.0, -0.0006, 0.0004, 1.0}});
  } else {
    // A perspective warp that leaves part of the output outside the input.
    out_size = {176, 132};
    job.map = warp_map(Matrix3{{0.92, 0.12, 9.5, -0.07, 1.04, 6.25, 0.0009, -0.0006, 1.0}});
    EXPECT_FALSE(job.map.is_separable());
  }
  cv::Mat out = c.strided ? strided(out_size.height, out_size.width, in.type())
                          : cv::Mat(out_size.height, out_size.width, in.type(), cv::Scalar::all(0));
  job.in = cv_bridge::const_view(in);
  job.out = cv_bridge::view(out);
  job.border = c.border;
  job.border_value = {10, 200, 30, 250};
  engine(m, b).run(std::span<const PlaneJob>(&job, 1));
  return out;
}

class VulkanParity : public testing::TestWithParam<std::tuple<Method, Case>> {};

TEST_P(VulkanParity, MatchesCpu) {
  auto [m, c] = GetParam();
  LERF_REQUIRE_VULKAN(m);
  cv::Mat in = test_image(c.channels);
  if (c.strided) {
    cv::Mat s = strided(in.rows, in.cols, in.type());
    in.copyTo(s);
    in = s;
  }
  cv::Mat cpu = run_case(m, BackendKind::Cpu, c, in);
  cv::Mat gpu = run_case(m, BackendKind::Vulkan, c, in);
  ASSERT_EQ(engine(m, BackendKind::Vulkan).backend().kind(), BackendKind::Vulkan);
  double p = test::psnr(cpu, gpu);
  int d = test::max_abs_diff(cpu, gpu);
  RecordProperty("psnr", std::to_string(p));
  RecordProperty("max_abs_diff", d);
  EXPECT_GE(p, 50.0) << method_name(m) << " " << c.name;
  EXPECT_LE(d, 2) << method_name(m) << " " << c.name;
  // The border pixels of constant-border cases really are there (and identical).
  if (c.border == Border::Constant) {
    cv::Mat diff;
    cv::absdiff(cpu, gpu, diff);
    EXPECT_GT(cv::countNonZero(cpu.reshape(1) == 10), 0) << "no border pixels in " << c.name;
  }
}

std::string case_name(const testing::TestParamInfo<std::tuple<Method, Case>>& info) {
  std::string n = std::string(method_name(std::get<0>(info.param))) + "_" + std::get<1>(info.param).name;
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllMethods, VulkanParity,
                         testing::Combine(testing::Values(Method::Nearest, Method::Bilinear, Method::Bicubic,
                                                          Method::Lanczos, Method::LerfG, Method::LerfL),
                                          testing::ValuesIn(kCases)),
                         case_name);

// Stage 1 and stage 2 are integer maths with half-to-even rounding: bit-exact with the CPU.
TEST(Vulkan, LerfStagesBitExact) {
  for (Method m : {Method::LerfG, Method::LerfL}) {
    LERF_REQUIRE_VULKAN(m);
    for (int channels : {1, 3}) {
      cv::Mat in = test_image(channels);
      auto view = cv_bridge::const_view(in);
      Engine& vk = engine(m, BackendKind::Vulkan);
      // The plain CPU reference (not whatever fast path the CPU backend takes).
      cpu::LerfAnalysis ref;
      ThreadPool pool(2);
      cpu::analyse_lerf(vk.model()->lut, view, ref, pool);
      auto gpu = vk.analyse(std::span<const ConstPlaneView>(&view, 1));
      std::vector<std::uint8_t> filtered, hyper;
      vk::download_lerf_analysis(const_cast<Backend&>(vk.backend()), *gpu[0], filtered, hyper);
      ASSERT_EQ(filtered.size(), static_cast<std::size_t>(in.cols) * in.rows * channels);
      EXPECT_TRUE(std::equal(filtered.begin(), filtered.end(), ref.filtered.data())) << method_name(m);
      EXPECT_EQ(hyper, ref.hyper) << method_name(m);
    }
  }
}

// One analysis, several renders of different sizes (video whose output size changes), and
// analyses released and re-made (buffers recycled) give the same frames.
TEST(Vulkan, AnalysisReuse) {
  LERF_REQUIRE_VULKAN(Method::LerfG);
  Engine& vk = engine(Method::LerfG, BackendKind::Vulkan);
  cv::Mat in = test_image(3);
  auto view = cv_bridge::const_view(in);
  Size in_size{in.cols, in.rows};
  cv::Mat first;
  for (int round = 0; round < 2; ++round) {
    auto analysis = vk.analyse(std::span<const ConstPlaneView>(&view, 1));
    for (Size out : {Size{320, 240}, Size{200, 150}, Size{320, 240}}) {
      cv::Mat res(out.height, out.width, in.type());
      PlaneJob job{view, cv_bridge::view(res), resize_map(in_size, out)};
      vk.render(analysis, std::span<const PlaneJob>(&job, 1));
      if (out.width == 320) {
        if (first.empty()) first = res;
        else EXPECT_EQ(test::max_abs_diff(first, res), 0);
      }
    }
  }
}

TEST(Vulkan, DevicesAndErrors) {
  LERF_REQUIRE_VULKAN(Method::Bilinear);
  auto devices = list_vulkan_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_FALSE(devices[0].name.empty());
  EXPECT_NE(engine(Method::Bilinear, BackendKind::Vulkan).backend().description().find("vulkan"), std::string::npos);
  // auto uses Vulkan exactly when device 0 is not a software implementation.
  EngineOptions o;
  o.method = Method::Bilinear;
  o.backend = BackendKind::Auto;
  Engine automatic(o);
  EXPECT_EQ(automatic.backend().kind(), auto_uses_vulkan(devices[0]) ? BackendKind::Vulkan : BackendKind::Cpu);
  // An absent device is a clear error for backend=vulkan, and auto falls back.
  o.backend = BackendKind::Vulkan;
  o.device_index = static_cast<int>(devices.size()) + 3;
  try {
    Engine e(o);
    FAIL() << "expected lerf::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no Vulkan device"), std::string::npos) << e.what();
  }
  o.backend = BackendKind::Auto;
  EXPECT_EQ(Engine(o).backend().kind(), BackendKind::Cpu);
}

// --- IM-LUT (docs/IMLUT.md): the mixing shaders and the components from the existing ones ---

// A small odd-sized crop (61 x 47) of the photograph: lavapipe renders K = 5 components.
cv::Mat small_image(int channels) { return test_image(channels)(cv::Rect(40, 30, 61, 47)).clone(); }

struct ImLutCase {
  const char* name;
  int channels;
  bool strided;
  bool warp;
  Scale scale;
  Border border;
};

const ImLutCase kImLutCases[] = {
    {"x1_5", 3, false, false, {1.5, 1.5}, Border::Clamp},
    {"x2", 3, false, false, {2, 2}, Border::Clamp},
    {"x2_5", 1, false, false, {2.5, 2.5}, Border::Clamp},
    {"x3", 3, false, false, {3, 3}, Border::Clamp},
    {"x4", 1, true, false, {4, 4}, Border::Clamp},
    {"x3_7_between_bins", 3, false, false, {3.7, 3.7}, Border::Clamp},
    {"x2x3_asymmetric", 3, false, false, {2, 3}, Border::Clamp},
    {"x1_2_below_bins", 3, false, false, {1.2, 1.2}, Border::Clamp},
    {"x0_6_downscale", 3, false, false, {0.6, 0.6}, Border::Clamp},
    {"x5_above_bins", 1, false, false, {5, 5}, Border::Clamp},
    {"bgra_x1_7_constant", 4, true, false, {1.7, 1.7}, Border::Constant},
    {"warp_clamp", 3, false, true, {}, Border::Clamp},
    {"warp_constant", 3, true, true, {}, Border::Constant},
    {"grey_warp_reflect", 1, false, true, {}, Border::Reflect},
};

void PrintTo(const ImLutCase& c, std::ostream* os) { *os << c.name; }

// Runs one case on a backend: analysis then render into a fresh (optionally strided) matrix.
cv::Mat run_imlut(Backend& b, const ImLutCase& c, const cv::Mat& in) {
  Size in_size{in.cols, in.rows};
  Size out_size;
  PlaneJob job;
  if (!c.warp) {
    out_size = scaled_size(in_size, c.scale);
    job.map = resize_map(in_size, out_size, c.scale);
  } else {
    // A perspective warp whose local scale varies over the output (x1.85 at the top left to
    // x2.71 at the bottom right: bins 0 to 3 are used) and leaves part of the output outside
    // the input.
    out_size = {120, 92};
    job.map = warp_map(Matrix3{{0.52, 0.07, -2.5, -0.04, 0.55, -1.75, 0.0016, 0.0011, 1.0}});
    EXPECT_FALSE(job.map.is_separable());
  }
  cv::Mat out = c.strided ? strided(out_size.height, out_size.width, in.type())
                          : cv::Mat(out_size.height, out_size.width, in.type(), cv::Scalar::all(0));
  job.in = cv_bridge::const_view(in);
  job.out = cv_bridge::view(out);
  job.border = c.border;
  job.border_value = {10, 200, 30, 250};
  b.render(*b.analyse(job.in), job);
  return out;
}

cv::Mat imlut_input(const ImLutCase& c) {
  cv::Mat in = small_image(c.channels);
  if (c.strided) {
    cv::Mat s = strided(in.rows, in.cols, in.type());
    in.copyTo(s);
    in = s;
  }
  return in;
}

class VulkanImLut : public testing::TestWithParam<ImLutCase> {};

// The shipped model (affine mixing, lerf-g among the components) through the engine with
// backend=vulkan, against the CPU backend.
TEST_P(VulkanImLut, MatchesCpu) {
  const ImLutCase& c = GetParam();
  LERF_REQUIRE_VULKAN(Method::ImLut);
  cv::Mat in = imlut_input(c);
  Engine& cpu = engine(Method::ImLut, BackendKind::Cpu);
  Engine& vk = engine(Method::ImLut, BackendKind::Vulkan);
  ASSERT_EQ(vk.backend().kind(), BackendKind::Vulkan);
  cv::Mat want = run_imlut(const_cast<Backend&>(cpu.backend()), c, in);
  cv::Mat got = run_imlut(const_cast<Backend&>(vk.backend()), c, in);
  double p = test::psnr(want, got);
  int d = test::max_abs_diff(want, got);
  RecordProperty("psnr", std::to_string(p));
  RecordProperty("max_abs_diff", d);
  EXPECT_GE(p, 50.0) << c.name;
  EXPECT_LE(d, 2) << c.name;
  if (c.border == Border::Constant) {
    EXPECT_GT(cv::countNonZero(want.reshape(1) == 10), 0) << "no border pixels";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, VulkanImLut, testing::ValuesIn(kImLutCases),
                         [](const testing::TestParamInfo<ImLutCase>& info) { return std::string(info.param.name); });

// Random tables, softmax and affine mixing, with and without a lerf-g component (without it
// the analysis makes no LeRF stages): the sums, bins and mixing of any model, not only the
// shipped one's near-identity weights.
TEST(VulkanImLutModels, RandomTablesMatchCpu) {
  LERF_REQUIRE_VULKAN(Method::ImLut);
  const ImLutCase cases[] = {kImLutCases[1], kImLutCases[5], kImLutCases[8], kImLutCases[12]};
  for (bool with_lerf : {true, false})
    for (bool affine : {false, true}) {
      auto model = std::make_shared<Model>();
      model->method = Method::ImLut;
      model->imlut.components = with_lerf ? std::vector<Method>{Method::Bilinear, Method::Lanczos, Method::LerfG}
                                          : std::vector<Method>{Method::Nearest, Method::Bicubic, Method::Lanczos};
      model->imlut.scale_bins = 6;
      model->imlut.affine = affine;
      // Loaded in both cases: the CPU backend's fast path reads LeRF tables from any model
      // (it crashes in FastCpu's constructor without them); the Vulkan backend only uploads
      // them when lerf-g is a component.
      model->lut = load_model(Method::LerfG, find_model_dir(Method::LerfG)).lut;
      std::mt19937 rng(7 + with_lerf * 2 + affine);
      // Affine: small entries (weights within a few units); softmax: the full int8 range.
      std::uniform_int_distribution<int> dist(affine ? -6 : -128, affine ? 6 : 127);
      const std::size_t n = static_cast<std::size_t>(kLutEntries) * model->imlut.columns();
      for (auto& t : model->imlut.tables) {
        t.resize(n);
        for (auto& v : t) v = static_cast<std::int8_t>(dist(rng));
      }
      MethodSetup setup;
      setup.method = Method::ImLut;
      setup.model = model;
      auto cpu = make_cpu_backend(setup, 2);
      auto vk = make_vulkan_backend(setup, 0);
      for (const ImLutCase& c : cases) {
        cv::Mat in = imlut_input(c);
        cv::Mat want = run_imlut(*cpu, c, in), got = run_imlut(*vk, c, in);
        double p = test::psnr(want, got);
        int d = test::max_abs_diff(want, got);
        std::string what = std::string(with_lerf ? "with lerf-g, " : "classical only, ") +
                           (affine ? "affine " : "softmax ") + c.name;
        EXPECT_GE(p, 50.0) << what;
        EXPECT_LE(d, 2) << what;
        RecordProperty(what, std::to_string(p) + " dB, max diff " + std::to_string(d));
      }
    }
}

// The engine's backend choice for im-lut: vulkan uses Vulkan on any device (lavapipe
// included); auto keeps the CPU on a software device.
TEST(VulkanImLutModels, BackendChoice) {
  LERF_REQUIRE_VULKAN(Method::ImLut);
  EXPECT_EQ(engine(Method::ImLut, BackendKind::Vulkan).backend().kind(), BackendKind::Vulkan);
  auto devices = list_vulkan_devices();
  EngineOptions o;
  o.method = Method::ImLut;
  o.backend = BackendKind::Auto;
  Engine automatic(o);
  EXPECT_EQ(automatic.backend().kind(), auto_uses_vulkan(devices[0]) ? BackendKind::Vulkan : BackendKind::Cpu);
}

// The CLI without a usable Vulkan driver: auto must still produce the CPU's frames, vulkan
// must fail with a clear message.
std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  status = pclose(p);
  return out;
}


// ---- implicit methods (liif, a-liif, lmf): Vulkan against the CPU fast path -------------------

// A random model written like tests/test_implicit.cpp writes them: tensors named as
// docs/IMPLICIT.md names them, uniform(-g, g) / sqrt(fan_in); `arch` is model.json's
// "architecture" as C, R, mlp_hidden, K, B, latent_hidden, L, render_hidden.
struct ImplicitArch {
  int C, R, mlp_hidden, K, B, latent_hidden, L, render_hidden;
};

std::shared_ptr<const Model> random_implicit_model(Method method, const ImplicitArch& a, unsigned seed) {
  std::mt19937 rng(seed);
  SafeTensors st;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, int fan_in) {
    Tensor t{shape, {}};
    std::uniform_real_distribution<float> d(-1.5f / std::sqrt(float(fan_in)), 1.5f / std::sqrt(float(fan_in)));
    t.data.resize(t.count());
    for (float& v : t.data) v = d(rng);
    st.tensors[name] = std::move(t);
  };
  auto linear = [&](const std::string& p, int in, int out) {
    add(p + ".weight", {out, in}, in);
    add(p + ".bias", {out}, in);
  };
  auto conv = [&](const std::string& p, int in, int out) {
    add(p + ".weight", {out, in, 3, 3}, 9 * in);
    add(p + ".bias", {out}, 9 * in);
  };
  const int C = a.C, Q = 9 * C + 4;
  conv("enc.head", 1, C);
  for (int i = 0; i < a.R; ++i) {
    conv("enc.body." + std::to_string(i) + ".conv1", C, C);
    conv("enc.body." + std::to_string(i) + ".conv2", C, C);
  }
  conv("enc.tail", C, C);
  if (method == Method::Liif) {
    const int H = a.mlp_hidden, d[5] = {Q, H, H, H, 1};
    for (int l = 0; l < 4; ++l) linear("dec.layers." + std::to_string(l), d[l], d[l + 1]);
  } else if (method == Method::ALiif) {
    const int H = a.mlp_hidden, d[4] = {Q, H, H, a.K}, bd[5] = {Q, a.B, a.B, a.B, 1};
    for (int l = 0; l < 3; ++l) linear("dec.expand." + std::to_string(l), d[l], d[l + 1]);
    for (int l = 0; l < 4; ++l) {
      add("dec.basis.w" + std::to_string(l), {a.K, bd[l + 1], bd[l]}, bd[l]);
      add("dec.basis.b" + std::to_string(l), {a.K, bd[l + 1]}, bd[l]);
    }
  } else {
    linear("dec.latent.0", 9 * C, a.latent_hidden);
    linear("dec.latent.1", a.latent_hidden, (2 * a.L + 1) * a.render_hidden);
    for (int l = 0; l <= a.L; ++l)
      linear("dec.render." + std::to_string(l), l == 0 ? a.render_hidden + 4 : a.render_hidden,
             l == a.L ? 1 : a.render_hidden);
  }
  auto dir = std::filesystem::temp_directory_path() /
             ("lerf-vk-implicit-" + std::to_string(::getpid())) / (std::string(method_name(method)) + std::to_string(seed));
  std::filesystem::create_directories(dir);
  char json[512];
  std::snprintf(json, sizeof json,
                "{\"method\": \"%s\", \"version\": \"test\", \"architecture\": {\"channels\": %d, \"blocks\": %d, "
                "\"mlp_hidden\": %d, \"basis\": %d, \"basis_hidden\": %d, \"latent_hidden\": %d, \"render_layers\": %d, "
                "\"render_hidden\": %d}}",
                std::string(method_name(method)).c_str(), a.C, a.R, a.mlp_hidden, a.K, a.B, a.latent_hidden, a.L,
                a.render_hidden);
  { std::ofstream(dir / "model.json") << json; }
  write_safetensors(dir / "model.safetensors", st);
  return std::make_shared<const Model>(load_model(method, dir));
}

std::unique_ptr<Backend> implicit_backend(std::shared_ptr<const Model> model, BackendKind kind) {
  MethodSetup setup;
  setup.method = model->method;
  setup.model = std::move(model);
  setup.cmsr = false;  // CMSR is CPU-only: the Vulkan LMF renders every pixel
  return kind == BackendKind::Vulkan ? make_vulkan_backend(setup, 0) : make_cpu_backend(setup, 2);
}

struct ImplicitCase {
  const char* name;
  int w, h, channels;
  double sx, sy;  // rescale factors; 0: a magnifying warp; -1: a warp that minifies near the top left
  Border border;
  bool strided;
};

cv::Mat implicit_render(Backend& b, const cv::Mat& in, const ImplicitCase& c) {
  const Size isz{in.cols, in.rows};
  Size osz;
  CoordinateMap map;
  if (c.sx > 0) {
    osz = scaled_size(isz, Scale{c.sx, c.sy});
    map = resize_map(isz, osz, Scale{c.sx, c.sy});
  } else if (c.sx < 0) {
    // Shrinks 1.3x at the top left, enlarges towards the bottom right: both render paths
    // (the antialiased classical bicubic where it minifies, the network elsewhere) in one plane.
    osz = isz;
    map.out_to_in = Matrix3{{1.3, 0.1, -1.0, -0.1, 1.3, -1.0, 0.03, 0.02, 1.0}};
  } else {
    // A perspective warp about the centre: rotation, zoom x1.6..2.4, slight perspective.
    osz = {in.cols * 2, in.rows * 2};
    const double r = 0.3, cs = std::cos(r) / 2, sn = std::sin(r) / 2, cx = in.cols / 2.0, cy = in.rows / 2.0;
    map.out_to_in = Matrix3{{cs, -sn, cx - cs * osz.width / 2.0 + sn * osz.height / 2.0, sn, cs,
                             cy - sn * osz.width / 2.0 - cs * osz.height / 2.0, 0.0004, 0.0002, 1.0}};
  }
  cv::Mat out = c.strided ? strided(osz.height, osz.width, in.type()) : cv::Mat(osz.height, osz.width, in.type());
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), map};
  job.border = c.border;
  job.border_value = {9, 19, 29, 39};
  b.render(*b.analyse(job.in), job);
  return out.clone();
}

cv::Mat implicit_input(const ImplicitCase& c) {
  cv::Mat img = test_image(c.channels)(cv::Rect(40, 30, c.w, c.h)).clone();
  if (!c.strided) return img;
  cv::Mat s = strided(c.h, c.w, img.type());
  img.copyTo(s);
  return s;
}

// Checks Vulkan against the CPU fast path for `cases`; records PSNR / max diff per case.
void expect_implicit_parity(std::shared_ptr<const Model> model, std::span<const ImplicitCase> cases,
                            const std::string& label) {
  auto cpu = implicit_backend(model, BackendKind::Cpu);
  auto gpu = implicit_backend(model, BackendKind::Vulkan);
  EXPECT_EQ(gpu->kind(), BackendKind::Vulkan);
  for (const auto& c : cases) {
    const cv::Mat in = implicit_input(c);
    const cv::Mat want = implicit_render(*cpu, in, c), got = implicit_render(*gpu, in, c);
    const double p = test::psnr(want, got);
    const int d = test::max_abs_diff(want, got);
    const std::string what = label + "/" + c.name;
    testing::Test::RecordProperty(what, std::to_string(p) + " dB, max diff " + std::to_string(d));
    std::printf("  %-28s %6.1f dB  max diff %d\n", what.c_str(), p, d);
    EXPECT_GE(p, 50.0) << what;
    EXPECT_LE(d, 1) << what;
  }
}

constexpr ImplicitCase kImplicitCases[] = {
    {"x2", 23, 17, 1, 2, 2, Border::Clamp, false},
    {"x3", 19, 13, 1, 3, 3, Border::Clamp, false},
    {"x1.7_bgra_strided", 17, 13, 4, 1.7, 1.7, Border::Clamp, true},
    {"2x3_grey", 15, 11, 1, 2, 3, Border::Clamp, false},
    {"x0.6_downscale", 21, 17, 3, 0.6, 0.6, Border::Clamp, false},
    {"warp_constant", 16, 12, 1, 0, 0, Border::Constant, false},
    {"warp_clamp_bgr", 16, 12, 3, 0, 0, Border::Clamp, true},
    {"warp_minifying_bgr", 16, 12, 3, -1, -1, Border::Clamp, false},
};

bool vulkan_missing(std::string& why) {
  try {
    if (list_vulkan_devices().empty()) {
      why = "no Vulkan device";
      return true;
    }
  } catch (const Error& e) {
    why = std::string("Vulkan unusable: ") + e.what();
    return true;
  }
  return false;
}

TEST(VulkanImplicit, TinyRandomModelsMatchCpu) {
  std::string why;
  if (vulkan_missing(why)) GTEST_SKIP() << why;
  const ImplicitArch a{8, 1, 16, 3, 6, 12, 2, 5};
  for (Method m : {Method::Liif, Method::ALiif, Method::Lmf})
    expect_implicit_parity(random_implicit_model(m, a, 21 + static_cast<unsigned>(m)), kImplicitCases,
                           std::string(method_name(m)));
}

// The shipped architecture (C = 32, R = 4, widths 64 / 6x16 / 128, 4x16) at a small size;
// with the shipped trained models when present, else random ones.
TEST(VulkanImplicit, ShippedArchitectureMatchesCpu) {
  std::string why;
  if (vulkan_missing(why)) GTEST_SKIP() << why;
  const ImplicitCase cases[] = {{"x2", 13, 11, 1, 2, 2, Border::Clamp, false},
                                {"warp_constant", 12, 9, 1, 0, 0, Border::Constant, false}};
  for (Method m : {Method::Liif, Method::ALiif, Method::Lmf}) {
    std::shared_ptr<const Model> model;
    std::filesystem::path dir;
    try {
      dir = find_model_dir(m);
    } catch (const Error&) {
    }
    const bool shipped = !dir.empty() && has_implicit_files(dir);
    if (shipped) model = std::make_shared<const Model>(load_model(m, dir));
    else model = random_implicit_model(m, {32, 4, 64, 6, 16, 128, 4, 16}, 40 + static_cast<unsigned>(m));
    expect_implicit_parity(model, cases, std::string(method_name(m)) + (shipped ? "_shipped" : "_random"));
  }
}

// LMF's latent field in bands of rows (bounded memory on large planes), forced to 3 rows here.
TEST(VulkanImplicit, LmfLatentBandsMatchCpu) {
  std::string why;
  if (vulkan_missing(why)) GTEST_SKIP() << why;
  setenv("LERF_VK_TEST_IMPLICIT_BAND_ROWS", "3", 1);
  const ImplicitCase cases[] = {{"x2_bands", 14, 11, 1, 2, 2, Border::Clamp, false}};
  expect_implicit_parity(random_implicit_model(Method::Lmf, {8, 1, 16, 3, 6, 12, 2, 5}, 77), cases, "lmf");
  unsetenv("LERF_VK_TEST_IMPLICIT_BAND_ROWS");
}

TEST(VulkanImplicit, EngineBackendChoiceAndLimits) {
  std::string why;
  if (vulkan_missing(why)) GTEST_SKIP() << why;
  auto model = random_implicit_model(Method::Liif, {8, 1, 16, 3, 6, 12, 2, 5}, 90);
  EngineOptions o;
  o.method = Method::Liif;
  o.model_dir = model->directory.string();
  o.backend = BackendKind::Vulkan;
  Engine e(o);  // used to throw "not implemented on Vulkan"
  EXPECT_EQ(e.backend().kind(), BackendKind::Vulkan);
  o.backend = BackendKind::Auto;
  Engine a(o);
  if (list_vulkan_devices()[0].is_cpu) {
    EXPECT_EQ(a.backend().kind(), BackendKind::Cpu) << "auto keeps the CPU on a software device";
  }
  // Wider than the shaders hold: a clear error, no crash.
  auto wide = random_implicit_model(Method::Liif, {4, 1, 96, 3, 6, 12, 2, 5}, 91);
  try {
    implicit_backend(wide, BackendKind::Vulkan);
    ADD_FAILURE() << "accepted mlp_hidden 96";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("mlp_hidden 96"), std::string::npos) << err.what();
  }
}

TEST(VulkanFallback, NoDriverAutoUsesCpuAndVulkanFails) {
  const char* cli = std::getenv("LERF_CLI");
  if (!cli) GTEST_SKIP() << "LERF_CLI is not set (run through meson test)";
  auto dir = std::filesystem::temp_directory_path() / ("lerf_vk_fallback_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto in = (dir / "in.png").string(), auto_out = (dir / "auto.png").string(), cpu_out = (dir / "cpu.png").string();
  cv::imwrite(in, test_image(3));
  const std::string no_driver = "VK_ICD_FILENAMES=/nonexistent ";
  const std::string args = " resize " + in + " --scale 1.7 --method bicubic --backend ";
  int status = 0;
  std::string log = run_command(no_driver + cli + args + "auto " + auto_out, status);
  EXPECT_EQ(status, 0) << log;
  EXPECT_NE(log.find("warning"), std::string::npos) << "auto should warn that Vulkan is unavailable: " << log;
  run_command(std::string(cli) + args + "cpu " + cpu_out, status);
  ASSERT_EQ(status, 0);
  cv::Mat a = cv::imread(auto_out), c = cv::imread(cpu_out);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(test::max_abs_diff(a, c), 0);

  log = run_command(no_driver + cli + args + "vulkan " + (dir / "vk.png").string(), status);
  EXPECT_NE(status, 0) << log;
  EXPECT_NE(log.find("Vulkan"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir / "vk.png"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lerf
