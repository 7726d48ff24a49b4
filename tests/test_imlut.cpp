// IM-LUT (docs/IMLUT.md) on the CPU: the LUT look-up against a direct evaluation of its
// definition, the mixing weights, flat images, thread counts, scale-bin interpolation,
// conformance with the classical kernels and lerf-g under one-hot weights, model validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "cpu/fast_paths.hpp"
#include "cpu/imlut_cpu.hpp"
#include "lerf/backend.hpp"
#include "lerf/error.hpp"
#include "lerf/imlut.hpp"
#include "lerf/lerf_lut.hpp"
#include "lerf/npy.hpp"
#include "lerf/thread_pool.hpp"
#include "opencv_planes.hpp"
#include "test_helpers.hpp"

using namespace lerf;
namespace fs = std::filesystem;

namespace {

const std::vector<Method> kAll = {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos, Method::LerfG};

// An in-memory model: K components, 6 bins 1.5..4, tables from `entry(pattern, vertex, column)`.
template <typename F>
std::shared_ptr<Model> make_model(const std::vector<Method>& comps, F entry, bool affine = false) {
  auto m = std::make_shared<Model>();
  m->method = Method::ImLut;
  m->imlut.components = comps;
  m->imlut.scale_first = 1.5f;
  m->imlut.scale_step = 0.5f;
  m->imlut.scale_bins = 6;
  m->imlut.affine = affine;
  const int cols = m->imlut.columns();
  for (int p = 0; p < kLutPatterns; ++p) {
    m->imlut.tables[p].resize(static_cast<std::size_t>(kLutEntries) * cols);
    for (int v = 0; v < kLutEntries; ++v)
      for (int c = 0; c < cols; ++c) m->imlut.tables[p][static_cast<std::size_t>(v) * cols + c] = entry(p, v, c);
  }
  if (std::find(comps.begin(), comps.end(), Method::LerfG) != comps.end())
    m->lut = load_model(Method::LerfG, find_model_dir(Method::LerfG)).lut;
  return m;
}

std::shared_ptr<Model> random_model(const std::vector<Method>& comps, unsigned seed, int range = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-range - 1, range);
  return make_model(comps, [&](int, int, int) { return static_cast<std::int8_t>(d(rng)); });
}

cv::Mat run(std::shared_ptr<const Model> model, Method method, const cv::Mat& in, Scale s, int threads = 2) {
  MethodSetup setup;
  setup.method = method;
  if (method == Method::ImLut) setup.model = model;
  if (method == Method::LerfG) setup.model = std::make_shared<Model>(load_model(Method::LerfG, find_model_dir(Method::LerfG)));
  auto backend = make_cpu_backend(setup, threads);
  Size isz{in.cols, in.rows};
  Size osz = scaled_size(isz, s);
  cv::Mat out(osz.height, osz.width, in.type());
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), resize_map(isz, osz, s)};
  backend->render(*backend->analyse(job.in), job);
  return out;
}

cv::Mat photo(int w = 64, int h = 48) {
  cv::Mat img = test::sample_image();
  return img(cv::Rect(150, 100, w, h)).clone();
}

// Direct evaluation of one look-up from the definition (lerf_lut's walk from the base vertex).
double simplex_direct(const std::vector<std::int8_t>& lut, int cols, int col, const std::array<int, 4>& px) {
  std::array<int, 4> msb, lsb, order = {0, 1, 2, 3};
  for (int i = 0; i < 4; ++i) msb[i] = px[i] / 16, lsb[i] = px[i] % 16;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return lsb[a] > lsb[b]; });
  auto value = [&](const std::array<int, 4>& v) {
    int idx = ((v[0] * 17 + v[1]) * 17 + v[2]) * 17 + v[3];
    return static_cast<double>(lut[static_cast<std::size_t>(idx) * cols + col]);
  };
  std::array<int, 4> v = msb;
  double total = (16 - lsb[order[0]]) * value(v);
  for (int step = 0; step < 4; ++step) {
    v[order[step]] += 1;
    int next = step < 3 ? lsb[order[step + 1]] : 0;
    total += (lsb[order[step]] - next) * value(v);
  }
  return total / 16;
}

}  // namespace

TEST(ImLut, LogitSumsMatchDirectEvaluation) {
  auto model = random_model({Method::Bilinear, Method::Bicubic, Method::Lanczos}, 3);
  const ImLutModel& m = model->imlut;
  cv::Mat img = photo(40, 30);
  ConstPlaneView in = cv_bridge::const_view(img);
  const int cols = m.columns();
  std::vector<std::int16_t> acc(static_cast<std::size_t>(in.width) * in.height * 3 * cols);
  ThreadPool pool(2);
  for (int c = 0; c < 3; ++c) imlut_logit_sums(m, in, c, acc.data(), 3 * cols, pool);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 60; ++trial) {
    int x = trial < 4 ? (trial & 1) * (in.width - 1) : static_cast<int>(rng() % in.width);
    int y = trial < 4 ? (trial >> 1) * (in.height - 1) : static_cast<int>(rng() % in.height);
    int c = static_cast<int>(rng() % 3);
    for (int col = 0; col < cols; ++col) {
      double direct = 0;
      for (int p = 0; p < kLutPatterns; ++p)
        for (int r = 0; r < 4; ++r) {
          std::array<int, 4> px;
          for (int k = 0; k < 4; ++k) {
            auto o = rotate_offset(kLutPatternOffsets[p][k], r);
            px[k] = in.row(std::clamp(y + o[0], 0, in.height - 1))[std::clamp(x + o[1], 0, in.width - 1) * 3 + c];
          }
          direct += simplex_direct(m.tables[p], cols, col, px);
        }
      ASSERT_EQ(acc[(static_cast<std::size_t>(y) * in.width + x) * 3 * cols + c * cols + col], direct * 16)
          << "pixel " << x << "," << y << " column " << col;
    }
  }
}

TEST(ImLut, WeightsSumToOneAndInterpolateBetweenScaleBins) {
  for (bool affine : {false, true}) {
    auto model = random_model(kAll, 11);
    model->imlut.affine = affine;
    const ImLutModel& m = model->imlut;
    const int K = 5, cols = m.columns();
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> d(-24576, 24576);
    std::vector<std::int16_t> sums(4 * cols);
    for (auto& v : sums) v = static_cast<std::int16_t>(d(rng) / (affine ? 40 : 1));
    const std::int16_t* a[4] = {&sums[0], &sums[cols], &sums[2 * cols], &sums[3 * cols]};
    float w[6], w0[6], w1[6];
    for (double s : {1.0, 1.5, 1.8, 2.0, 2.25, 3.7, 4.0, 6.0}) {
      float t = imlut_scale_position(m, s);
      imlut_weights(m, a, 0.3f, 0.7f, t, w);
      float sum = 0;
      for (int k = 0; k < K; ++k) sum += w[k];
      EXPECT_NEAR(sum, 1.0f, 1e-5f) << "scale " << s;
    }
    // Clamped outside the bins, linear in the logits in between.
    auto weights = [&](double s, float* out) { imlut_weights(m, a, 0.3f, 0.7f, imlut_scale_position(m, s), out); };
    weights(6.0, w0), weights(4.0, w1);
    for (int k = 0; k < K; ++k) EXPECT_EQ(w0[k], w1[k]);
    weights(1.0, w0), weights(1.5, w1);
    for (int k = 0; k < K; ++k) EXPECT_EQ(w0[k], w1[k]);
    EXPECT_FLOAT_EQ(imlut_scale_position(m, 2.25), 1.5f);
    // At 2.25 (between the bins 2 and 2.5) the logits are the mean of the two bins' logits.
    auto logits = [&](int bin, int k) {
      float wx1 = 0.3f, wy1 = 0.7f, z = 0;
      const float bw[4] = {(1 - wy1) * (1 - wx1), (1 - wy1) * wx1, wy1 * (1 - wx1), wy1 * wx1};
      for (int j = 0; j < 4; ++j) z += bw[j] * a[j][bin * K + k] / 3072.0f;
      return z;
    };
    float z[5], zmax = -1e30f, zmean = 0, esum = 0;
    for (int k = 0; k < K; ++k) z[k] = 0.5f * (logits(1, k) + logits(2, k)), zmax = std::max(zmax, z[k]), zmean += z[k] / K;
    for (int k = 0; k < K; ++k) esum += std::exp(z[k] - zmax);
    weights(2.25, w);
    for (int k = 0; k < K; ++k)
      EXPECT_NEAR(w[k], affine ? z[k] - zmean + 0.2f : std::exp(z[k] - zmax) / esum, 1e-5f) << "component " << k;
  }
}

TEST(ImLut, FlatInFlatOut) {
  auto model = random_model(kAll, 21);
  for (int value : {0, 77, 255}) {
    cv::Mat flat(20, 24, CV_8UC3, cv::Scalar(value, value, value));
    for (Scale s : {Scale{2, 2}, Scale{3.3, 1.7}, Scale{4, 4}}) {
      cv::Mat out = run(model, Method::ImLut, flat, s);
      double lo, hi;
      cv::minMaxLoc(out.reshape(1), &lo, &hi);
      EXPECT_EQ(lo, value);
      EXPECT_EQ(hi, value);
    }
  }
}

TEST(ImLut, ThreadCountInvariant) {
  auto model = random_model(kAll, 31);
  cv::Mat img = photo();
  cv::Mat one = run(model, Method::ImLut, img, {2.5, 2.5}, 1);
  for (int t : {2, 3, 5}) EXPECT_EQ(test::max_abs_diff(one, run(model, Method::ImLut, img, {2.5, 2.5}, t)), 0);
}

TEST(ImLut, OneHotWeightsEqualTheComponentExactly) {
  cv::Mat img = photo();
  for (std::size_t hot = 0; hot < kAll.size(); ++hot) {
    auto model = make_model(kAll, [&](int, int, int c) {
      return static_cast<std::int8_t>(c % 5 == static_cast<int>(hot) ? 127 : -128);
    });
    for (Scale s : {Scale{2, 2}, Scale{3, 3}, Scale{1.7, 3.4}}) {
      cv::Mat mixed = run(model, Method::ImLut, img, s);
      cv::Mat ref = run(nullptr, kAll[hot], img, s);
      EXPECT_EQ(test::max_abs_diff(mixed, ref), 0) << method_name(kAll[hot]) << " x" << s.h << "x" << s.w;
    }
  }
}

TEST(ImLut, WarpRunsWithTheLocalScale) {
  auto model = random_model(kAll, 41);
  cv::Mat img = photo();
  MethodSetup setup{Method::ImLut, model};
  auto backend = make_cpu_backend(setup, 2);
  cv::Mat out(96, 128, img.type());
  Matrix3 in_to_out{{2.0, 0.1, 3.0, -0.05, 2.0, 1.0, 0.0001, 0.0, 1.0}};
  PlaneJob job{cv_bridge::const_view(img), cv_bridge::view(out), warp_map(in_to_out), Border::Constant};
  backend->render(*backend->analyse(job.in), job);
  // Local scale of a pure x2 map is 2 everywhere.
  auto map2 = warp_map(Matrix3{{2, 0, 0, 0, 2, 0, 0, 0.0, 1}});
  EXPECT_NEAR(cpu::imlut_local_scale(map2, 5, 7), 2.0, 1e-9);
  auto persp = warp_map(Matrix3{{2, 0, 0, 0, 2, 0, 0.001, 0.0, 1}});
  EXPECT_GT(cpu::imlut_local_scale(persp, 0, 0), cpu::imlut_local_scale(persp, 100, 0));
}

TEST(ImLut, ModelValidationNamesFileAndProblem) {
  fs::path dir = fs::temp_directory_path() / ("imlut-model-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto expect_error = [&](const std::string& needle) {
    try {
      load_model(Method::ImLut, dir);
      ADD_FAILURE() << "no error, expected " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto write_json = [&](const std::string& text) { std::ofstream(dir / "model.json") << text; };
  expect_error("model.json: model file missing");
  write_json(R"({"method": "lerf-g"})");
  expect_error("not im-lut");
  write_json(R"({"method": "im-lut", "components": ["bicubic", "liif"], "scale_bins": [2]})");
  expect_error("component \"liif\"");
  write_json(R"({"method": "im-lut", "components": ["bicubic"], "scale_bins": [2, 3, 5]})");
  expect_error("uniformly spaced");
  write_json(R"({"method": "im-lut", "components": ["bicubic", "lanczos"], "scale_bins": [2, 3]})");
  expect_error("imlut_s.npy: model file missing");
  NpyArray bad;
  bad.dtype = "|i1";
  bad.shape = {static_cast<std::size_t>(kLutEntries), 3};
  bad.bytes.assign(static_cast<std::size_t>(kLutEntries) * 3, 0);
  write_npy(dir / "imlut_s.npy", bad);
  expect_error("imlut_s.npy: shape (83521,3,), expected (83521, 4)");
  fs::remove_all(dir);
}

TEST(ImLut, FastPathIsBitExactWithTheReference) {
  cv::Mat img = photo(70, 50);
  for (bool affine : {false, true}) {
    auto model = random_model(kAll, 51, affine ? 12 : 127);
    model->imlut.affine = affine;
    auto render = [&](cpu::CpuPath path, Scale s, Border border, bool warp) {
      const cpu::CpuPath before = cpu::default_cpu_path();
      cpu::set_default_cpu_path(path);
      MethodSetup setup{Method::ImLut, model};
      auto backend = make_cpu_backend(setup, 2);
      cpu::set_default_cpu_path(before);
      Size isz{img.cols, img.rows};
      Size osz = scaled_size(isz, s);
      cv::Mat out(osz.height, osz.width, img.type());
      PlaneJob job{cv_bridge::const_view(img), cv_bridge::view(out), resize_map(isz, osz, s), border, {9, 99, 199, 0}};
      if (warp) job.map = warp_map(Matrix3{{s.w, 0.2, -3.0, 0.1, s.h, 4.0, 0.0005, 0.0, 1.0}});
      auto a = backend->analyse(job.in);
      backend->render(*a, job);
      if (!warp) {  // a second render of the same analysis at another scale, then this one again
        cv::Mat other(osz.height + 3, osz.width + 1, img.type());
        PlaneJob j2{job.in, cv_bridge::view(other), resize_map(isz, {osz.width + 1, osz.height + 3})};
        backend->render(*a, j2);
        backend->render(*a, job);
      }
      return out;
    };
    for (Scale s : {Scale{2, 2}, Scale{2.25, 2.25}, Scale{3.7, 1.6}, Scale{1.2, 1.2}, Scale{5, 5}})
      for (Border b : {Border::Clamp, Border::Constant})
        for (bool warp : {false, true}) {
          if (warp && b == Border::Clamp) continue;
          const cv::Mat ref = render(cpu::CpuPath::Reference, s, b, warp);
          for (bool portable : {false, true}) {  // the AVX2 logit sums (where the CPU has it), the portable loop
            cpu::imlut_use_portable_sums(portable);
            EXPECT_EQ(test::max_abs_diff(ref, render(cpu::CpuPath::Fast, s, b, warp)), 0)
                << (affine ? "affine" : "softmax") << " x" << s.h << "x" << s.w << (warp ? " warp" : "")
                << (portable ? " portable sums" : "");
          }
          cpu::imlut_use_portable_sums(false);
        }
  }
}

TEST(ImLut, TinyPlanesChannelsAndDownscalingMatchTheReference) {
  auto model = random_model(kAll, 61, 12);
  model->imlut.affine = true;
  std::mt19937 rng(2);
  for (int ch : {1, 2, 4})
    for (Size in : {Size{1, 1}, Size{1, 7}, Size{5, 1}, Size{3, 4}, Size{40, 30}})
      for (Scale s : {Scale{2, 2}, Scale{3.5, 1.25}, Scale{0.5, 0.5}, Scale{0.3, 1.0}}) {
        cv::Mat img(in.height, in.width, CV_8UC(ch));
        for (int i = 0; i < img.rows * img.cols * ch; ++i) img.data[i] = static_cast<std::uint8_t>(rng());
        Size osz = scaled_size(in, s);
        cv::Mat out[2];
        for (int path = 0; path < 2; ++path) {
          const cpu::CpuPath before = cpu::default_cpu_path();
          cpu::set_default_cpu_path(path ? cpu::CpuPath::Fast : cpu::CpuPath::Reference);
          auto backend = make_cpu_backend(MethodSetup{Method::ImLut, model}, 2);
          cpu::set_default_cpu_path(before);
          out[path] = cv::Mat(osz.height, osz.width, img.type());
          PlaneJob job{cv_bridge::const_view(img), cv_bridge::view(out[path]), resize_map(in, osz, s)};
          backend->render(*backend->analyse(job.in), job);
        }
        EXPECT_EQ(test::max_abs_diff(out[0], out[1]), 0) << ch << " ch " << in.width << "x" << in.height << " x" << s.h;
      }
}
