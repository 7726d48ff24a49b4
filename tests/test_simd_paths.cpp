// The CPU backend's fast paths (cached tables, banded buffers, Highway SIMD) against the plain
// reference, on every SIMD target this machine runs (as dav1d's checkasm does):
//   classical separable passes and the LeRF LUT stages: bit-exact;
//   LeRF render: max abs diff <= 1 (vector exp), on < 1% of the samples.
// Outputs only, never timings.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

#include "cpu/cpu_methods.hpp"
#include "cpu/fast_paths.hpp"
#include "cpu/simd_kernels.hpp"
#include "lerf/engine.hpp"
#include "lerf/lerf_lut.hpp"
#include "opencv_planes.hpp"
#include "test_helpers.hpp"

using namespace lerf;
using lerf::test::max_abs_diff;
using lerf::test::sample_image;

namespace {

// Restores the default path and dispatch target when a test ends.
struct PathGuard {
  ~PathGuard() {
    cpu::set_default_cpu_path(cpu::CpuPath::Fast);
    cpu::simd::force_target(0);
  }
};

std::unique_ptr<Engine> make_engine(const EngineOptions& o, cpu::CpuPath path) {
  cpu::set_default_cpu_path(path);
  auto e = std::make_unique<Engine>(o);
  cpu::set_default_cpu_path(cpu::CpuPath::Fast);
  return e;
}

cv::Mat run(Engine& e, const cv::Mat& in, Size out, const CoordinateMap& map, Border border = Border::Clamp) {
  cv::Mat result(out.height, out.width, in.type(), cv::Scalar::all(7));
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(result), map};
  job.border = border;
  job.border_value = {1, 2, 3, 4};
  e.run(std::span<const PlaneJob>(&job, 1));
  return result;
}

cv::Mat image(int channels, int w, int h) {
  cv::Mat m = sample_image();
  cv::resize(m, m, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  if (channels == 1) cv::cvtColor(m, m, cv::COLOR_BGR2GRAY);
  return m;
}

struct Geometry {
  Size in, out;
  const char* name;
};
const Geometry kGeometries[] = {
    {{64, 40}, {128, 80}, "x2"},   {{61, 37}, {92, 56}, "x1.5"},   {{23, 17}, {86, 63}, "x3.7"},
    {{96, 90}, {32, 30}, "/3"},    {{70, 50}, {210, 40}, "3x0.8"}, {{1, 9}, {5, 20}, "1xN"},
    {{45, 33}, {7, 5}, "/6.5"},
};

std::string label(const std::string& target, Method m, const Geometry& g, int ch) {
  return target + " " + std::string(method_name(m)) + " " + g.name + " ch" + std::to_string(ch);
}

}  // namespace

TEST(SimdPaths, TargetsAreAvailable) {
  auto targets = cpu::simd::available_targets();
  ASSERT_FALSE(targets.empty());
  for (auto& [t, name] : targets) {
    cpu::simd::force_target(t);
    EXPECT_GE(cpu::simd::lanes_f32(), 1) << name;
    EXPECT_LE(cpu::simd::lanes_f32(), cpu::simd::kMaxLanes) << name;
    EXPECT_EQ(cpu::simd::current_target(), name);
  }
  cpu::simd::force_target(0);
  std::cout << "[ INFO ] SIMD targets compared with the reference:";
  for (auto& [t, name] : targets) std::cout << " " << name;
  std::cout << " (best: " << cpu::simd::current_target() << ")\n";
}

TEST(SimdPaths, ClassicalIsBitExactWithTheReferenceOnEveryTarget) {
  PathGuard guard;
  for (auto& [target, tname] : cpu::simd::available_targets()) {
    cpu::simd::force_target(target);
    for (Method m : {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos})
      for (float a : {-0.5f, -0.75f}) {
        if (a != -0.5f && m != Method::Bicubic) continue;
        EngineOptions o;
        o.method = m;
        o.backend = BackendKind::Cpu;
        o.threads = 2;
        o.cubic_a = a;
        auto ref = make_engine(o, cpu::CpuPath::Reference);
        auto fast = make_engine(o, cpu::CpuPath::Fast);
        ASSERT_NE(cpu::fast_paths_of(fast->backend()), nullptr);
        ASSERT_EQ(cpu::fast_paths_of(ref->backend()), nullptr);
        for (int ch : {1, 3, 4})
          for (const auto& g : kGeometries) {
            cv::Mat in = image(ch, g.in.width, g.in.height);
            auto map = resize_map(g.in, g.out);
            ASSERT_EQ(max_abs_diff(run(*ref, in, g.out, map), run(*fast, in, g.out, map)), 0)
                << label(tname, m, g, ch);
          }
        // Borders: constant outside a shifted map, MATLAB's reflect.
        cv::Mat in = image(3, 50, 40);
        Matrix3 shift = Matrix3::affine_axes(0.4, -6.0, 0.45, -4.0);
        EXPECT_EQ(max_abs_diff(run(*ref, in, {140, 110}, {shift}, Border::Constant),
                               run(*fast, in, {140, 110}, {shift}, Border::Constant)),
                  0)
            << tname << " " << method_name(m) << " constant";
        auto map = resize_map({50, 40}, {17, 13});
        EXPECT_EQ(max_abs_diff(run(*ref, in, {17, 13}, map, Border::Reflect),
                               run(*fast, in, {17, 13}, map, Border::Reflect)),
                  0)
            << tname << " " << method_name(m) << " reflect";
      }
  }
}

TEST(SimdPaths, LerfStagesAreBitExactWithTheReferenceOnEveryTarget) {
  LERF_REQUIRE_SHARED();
  PathGuard guard;
  for (Method m : {Method::LerfG, Method::LerfL}) {
    auto ref = make_engine(test::options_for(m), cpu::CpuPath::Reference);
    auto fast = make_engine(test::options_for(m), cpu::CpuPath::Fast);
    for (auto& [target, tname] : cpu::simd::available_targets()) {
      cpu::simd::force_target(target);
      for (int ch : {1, 3})
        for (Size s : {Size{67, 41}, Size{16, 16}, Size{1, 7}, Size{5, 1}, Size{130, 3}}) {
          cv::Mat in = image(ch, s.width, s.height);
          ConstPlaneView view = cv_bridge::const_view(in);
          auto ra = ref->analyse(std::span<const ConstPlaneView>(&view, 1));
          auto fa = fast->analyse(std::span<const ConstPlaneView>(&view, 1));
          const auto& r = static_cast<const cpu::LerfAnalysis&>(*ra[0]);
          const auto& f = static_cast<const cpu::LerfAnalysis&>(*fa[0]);
          const std::string what = tname + " " + std::string(method_name(m)) + " " + std::to_string(s.width) +
                                   "x" + std::to_string(s.height) + " ch" + std::to_string(ch);
          const std::size_t n = static_cast<std::size_t>(s.width) * s.height * ch;
          ASSERT_TRUE(std::equal(r.filtered.data(), r.filtered.data() + n, f.filtered.data())) << what;
          ASSERT_EQ(r.hyper, f.hyper) << what;
        }
    }
  }
}

TEST(SimdPaths, LerfRenderIsWithinOneOfTheReferenceOnEveryTarget) {
  LERF_REQUIRE_SHARED();
  PathGuard guard;
  for (Method m : {Method::LerfG, Method::LerfL}) {
    auto ref = make_engine(test::options_for(m), cpu::CpuPath::Reference);
    auto fast = make_engine(test::options_for(m), cpu::CpuPath::Fast);
    for (auto& [target, tname] : cpu::simd::available_targets()) {
      cpu::simd::force_target(target);
      for (int ch : {1, 3})
        for (const auto& g : kGeometries) {
          cv::Mat in = image(ch, g.in.width, g.in.height);
          auto map = resize_map(g.in, g.out);
          cv::Mat a = run(*ref, in, g.out, map), b = run(*fast, in, g.out, map);
          cv::Mat diff;
          cv::absdiff(a, b, diff);
          EXPECT_LE(max_abs_diff(a, b), 1) << label(tname, m, g, ch);
          EXPECT_LE(cv::countNonZero(diff.reshape(1)), std::max<int>(2, static_cast<int>(diff.total() * ch / 100)))
              << label(tname, m, g, ch);
        }
      // Constant border around a shifted map.
      cv::Mat in = image(3, 40, 30);
      CoordinateMap shift{Matrix3::affine_axes(0.5, -5.0, 0.5, -3.0)};
      EXPECT_LE(max_abs_diff(run(*ref, in, {100, 80}, shift, Border::Constant),
                             run(*fast, in, {100, 80}, shift, Border::Constant)),
                1)
          << tname << " " << method_name(m) << " constant";
    }
  }
}

// LeRF-G at exactly 2x goes through the factorised kernel (simd::lerf_row_g4x2): hand-made
// analyses with every extreme of the hyperparameters (the sharpest kernels, rho = +-1, where
// the far weights underflow) and odd sizes, on 1-channel planes and packed ones (NV12's UV,
// RGB: one channel at a time), against the reference, on every target.
TEST(SimdPaths, LerfGAtExactly2xWithExtremeKernelsIsWithinOneOfTheReference) {
  PathGuard guard;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255), pick(0, 3);
  const std::uint8_t extremes[4] = {0, 1, 254, 255};
  for (auto& [target, tname] : cpu::simd::available_targets()) {
    cpu::simd::force_target(target);
    cpu::FastCpu fast(MethodSetup{Method::LerfG, nullptr});
    ThreadPool pool(2);
    std::uint64_t renders = 0;
    for (int ch : {1, 2, 3})
      for (Size s : {Size{53, 29}, Size{1, 1}, Size{2, 7}, Size{40, 3}, Size{97, 64}}) {
        cpu::LerfAnalysis an;
        an.input_size = s;
        an.channels = ch;
        an.outputs = 3;
        an.filtered = Plane(s.width, s.height, ch);
        const std::size_t n = static_cast<std::size_t>(s.width) * s.height * ch;  // samples
        an.hyper.resize(3 * n);
        an.packed.assign(n + 2 * cpu::simd::kMaxLanes, 0);
        for (std::size_t i = 0; i < n; ++i) {
          // Half the samples random, half at the extremes of each byte.
          const bool extreme = i % 2 == 1;
          std::uint8_t h[3];
          for (int k = 0; k < 3; ++k) h[k] = extreme ? extremes[pick(rng)] : static_cast<std::uint8_t>(byte(rng));
          const auto sample = static_cast<std::uint8_t>(byte(rng));
          an.filtered.data()[i] = sample;
          std::copy(h, h + 3, an.hyper.begin() + 3 * i);
          an.packed[i] = h[0] | h[1] << 8 | h[2] << 16 | static_cast<std::uint32_t>(sample) << 24;
        }
        for (Border border : {Border::Clamp, Border::Constant}) {
          Plane ref(2 * s.width, 2 * s.height, ch), out(2 * s.width, 2 * s.height, ch);
          PlaneJob rj{an.filtered.view(), ref.view(), resize_map(s, {2 * s.width, 2 * s.height})};
          rj.border = border;
          rj.border_value = {9, 19, 29, 39};
          PlaneJob fj = rj;
          fj.out = out.view();
          cpu::render_lerf(true, an, rj, pool);
          fast.render_lerf(true, an, fj, pool);
          ++renders;
          const std::string what =
              tname + " " + std::to_string(s.width) + "x" + std::to_string(s.height) + " ch" + std::to_string(ch);
          int differ = 0, worst = 0;
          for (std::size_t i = 0; i < 4 * n; ++i) {
            const int d = std::abs(ref.data()[i] - out.data()[i]);
            worst = std::max(worst, d);
            differ += d != 0;
          }
          EXPECT_LE(worst, 1) << what;
          EXPECT_LE(differ, std::max<int>(2, static_cast<int>(4 * n / 100))) << what;
        }
      }
    // Every render took the 2x kernel (not the general one the other tests cover).
    EXPECT_EQ(fast.x2_renders(), renders) << tname;
  }
}

// Tables cached per geometry (and evicted when more than the cache holds) give the frames a
// fresh backend gives.
TEST(SimdPaths, CachedTablesEqualFreshTables) {
  PathGuard guard;
  std::vector<EngineOptions> options;
  for (Method m : {Method::Bicubic, Method::Lanczos}) {
    EngineOptions o;
    o.method = m;
    o.backend = BackendKind::Cpu;
    o.threads = 2;
    options.push_back(o);
  }
  if (!test::shared_dir().empty()) options.push_back(test::options_for(Method::LerfG));
  cv::Mat in = image(3, 48, 36);
  for (const auto& o : options) {
    auto cached = make_engine(o, cpu::CpuPath::Fast);
    std::vector<Size> sizes;
    for (int i = 0; i < 12; ++i) sizes.push_back({30 + 11 * i, 20 + 7 * i});
    for (int round = 0; round < 2; ++round)
      for (Size s : sizes) {
        auto fresh = make_engine(o, cpu::CpuPath::Fast);
        auto map = resize_map({48, 36}, s);
        ASSERT_EQ(max_abs_diff(run(*cached, in, s, map), run(*fresh, in, s, map)), 0)
            << method_name(o.method) << " " << s.width << "x" << s.height << " round " << round;
      }
  }
}

// Video: once the first frames have set up tables and buffers, frames allocate nothing.
TEST(SimdPaths, NoAllocationPerFrameInSteadyState) {
  PathGuard guard;
  std::vector<EngineOptions> options;
  for (Method m : {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
    EngineOptions o;
    o.method = m;
    o.backend = BackendKind::Cpu;
    o.threads = 2;
    options.push_back(o);
  }
  if (!test::shared_dir().empty()) {
    options.push_back(test::options_for(Method::LerfG));
    options.push_back(test::options_for(Method::LerfL));
  }
  cv::Mat y = image(1, 64, 48), u = image(1, 32, 24), v = image(1, 32, 24);
  cv::Mat oy(96, 128, CV_8UC1), ou(48, 64, CV_8UC1), ov(48, 64, CV_8UC1);
  for (const auto& o : options) {
    auto e = make_engine(o, cpu::CpuPath::Fast);
    const cpu::FastCpu* fast = cpu::fast_paths_of(e->backend());
    ASSERT_NE(fast, nullptr);
    PlaneJob jobs[3] = {{cv_bridge::const_view(y), cv_bridge::view(oy), resize_map({64, 48}, {128, 96})},
                        {cv_bridge::const_view(u), cv_bridge::view(ou), resize_map({32, 24}, {64, 48})},
                        {cv_bridge::const_view(v), cv_bridge::view(ov), resize_map({32, 24}, {64, 48})}};
    std::uint64_t after_first = 0;
    for (int frame = 0; frame < 20; ++frame) {
      e->run(jobs);
      if (frame == 1) after_first = fast->allocations();
    }
    EXPECT_GT(after_first, 0u);
    EXPECT_EQ(fast->allocations(), after_first) << method_name(o.method);
  }
}

// The per-cell stage-1 tables (AVX-512 path): every corner of every cell is its vertex.
TEST(SimdPaths, LutCellsHoldEveryCornerOfTheirCell) {
  std::vector<std::int8_t> lut(kLutEntries);
  for (int i = 0; i < kLutEntries; ++i) lut[i] = static_cast<std::int8_t>((i * 37 + i / 17) & 0xff);
  const auto cells = cpu::simd::lut_cells(lut.data());
  ASSERT_EQ(cells.size(), std::size_t{16 * 65536});
  for (int cell : {0, 1, 17, 4095, 4096 * 7 + 256 * 3 + 16 * 15 + 9, 65535})
    for (int corner = 0; corner < 16; ++corner) {
      const int a = (cell >> 12) + (corner >> 3), b = ((cell >> 8) & 15) + ((corner >> 2) & 1);
      const int c = ((cell >> 4) & 15) + ((corner >> 1) & 1), d = (cell & 15) + (corner & 1);
      EXPECT_EQ(cells[16 * cell + corner], lut[a * 4913 + b * 289 + c * 17 + d]) << cell << " " << corner;
    }
}

// The walk table and the 64-byte cells of 3-output tables: for every LSB combination (and
// assorted MSBs), the dot product of walk weights and cell corners is the reference's simplex
// interpolation, output by output.
TEST(SimdPaths, WalkTableTimesCellIsTheSimplexInterpolation) {
  std::vector<std::int8_t> lut(std::size_t{kLutEntries} * 3);
  for (std::size_t i = 0; i < lut.size(); ++i) lut[i] = static_cast<std::int8_t>((i * 73 + i / 5 + (i >> 9)) & 0xff);
  const auto cells = cpu::simd::lut_cells(lut.data(), 3);
  const auto& walk = cpu::simd::walk_table();
  ASSERT_EQ(cells.size(), std::size_t{64} * 65536);
  ASSERT_EQ(walk.size(), std::size_t{16} * 65536);
  int checked = 0;
  for (int lsb = 0; lsb < 65536; ++lsb) {
    const int msb = static_cast<int>((static_cast<unsigned>(lsb) * 40503u) & 0xffffu);  // a spread of cells
    std::uint8_t s[4];
    for (int k = 0; k < 4; ++k) s[k] = static_cast<std::uint8_t>(((msb >> (12 - 4 * k)) & 15) << 4 | ((lsb >> (12 - 4 * k)) & 15));
    float ref[3] = {0, 0, 0};
    simplex_interpolate_add(lut.data(), 3, s[0], s[1], s[2], s[3], ref);
    const std::int8_t* w = walk.data() + std::size_t{16} * lsb;
    int wsum = 0;
    for (int corner = 0; corner < 16; ++corner) wsum += static_cast<std::uint8_t>(w[corner]);
    ASSERT_EQ(wsum, 16) << lsb;
    for (int o = 0; o < 3; ++o) {
      int sum = 0;
      for (int corner = 0; corner < 16; ++corner)
        sum += static_cast<std::uint8_t>(w[corner]) * cells.data()[std::size_t{64} * msb + 16 * o + corner];
      ASSERT_EQ(static_cast<float>(sum) / 16.0f, ref[o]) << lsb << " " << o;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * 65536);
}

// A frame-sized plane (many LUT cells, many 16-pixel blocks, permute and gather blocks of the
// blend): stages bit-exact, render within 1 on < 1% of the samples, on every target.
TEST(SimdPaths, LerfOnALargePlaneMatchesTheReferenceOnEveryTarget) {
  LERF_REQUIRE_SHARED();
  PathGuard guard;
  auto ref = make_engine(test::options_for(Method::LerfG), cpu::CpuPath::Reference);
  auto fast = make_engine(test::options_for(Method::LerfG), cpu::CpuPath::Fast);
  cv::Mat in = image(1, 331, 197);
  ConstPlaneView view = cv_bridge::const_view(in);
  auto ra = ref->analyse(std::span<const ConstPlaneView>(&view, 1));
  const auto& r = static_cast<const cpu::LerfAnalysis&>(*ra[0]);
  const std::size_t n = static_cast<std::size_t>(in.cols) * in.rows;
  for (auto& [target, tname] : cpu::simd::available_targets()) {
    cpu::simd::force_target(target);
    auto fa = fast->analyse(std::span<const ConstPlaneView>(&view, 1));
    const auto& f = static_cast<const cpu::LerfAnalysis&>(*fa[0]);
    ASSERT_TRUE(std::equal(r.filtered.data(), r.filtered.data() + n, f.filtered.data())) << tname;
    ASSERT_EQ(r.hyper, f.hyper) << tname;
    for (Size out : {Size{662, 394}, Size{500, 300}}) {
      auto map = resize_map({in.cols, in.rows}, out);
      cv::Mat a = run(*ref, in, out, map), b = run(*fast, in, out, map);
      cv::Mat diff;
      cv::absdiff(a, b, diff);
      EXPECT_LE(max_abs_diff(a, b), 1) << tname << " " << out.width;
      EXPECT_LE(cv::countNonZero(diff), static_cast<int>(diff.total() / 100)) << tname << " " << out.width;
    }
  }
}

// One fast-path instance serving several kernels (as IM-LUT's components could) must not hand
// one kernel's cached taps to another on the same geometry.
TEST(SimdPaths, CachedTapsAreKeyedByTheKernel) {
  cv::Mat in = lerf::test::sample_image()(cv::Rect(0, 0, 64, 48)).clone();
  MethodSetup setup;
  setup.method = Method::Bilinear;
  cpu::FastCpu fast(setup);
  ThreadPool pool(2);
  for (int round = 0; round < 2; ++round)
    for (Method m : {Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
      auto kernel = kernels::classical_kernel(m);
      cv::Mat a(96, 128, CV_8UC3), b(96, 128, CV_8UC3);
      PlaneJob ja{cv_bridge::const_view(in), cv_bridge::view(a), resize_map({64, 48}, {128, 96})};
      PlaneJob jb = ja;
      jb.out = cv_bridge::view(b);
      fast.render_classical(kernel, ja, pool);
      cpu::render_classical(kernel, jb, pool);
      EXPECT_EQ(lerf::test::max_abs_diff(a, b), 0) << method_name(m) << " round " << round;
    }
}

// Regression: an im-lut model whose components are all classical has no LeRF tables; the
// fast path's constructor used to read them anyway (segfault). It must run, and equal the
// reference path (the im-lut fast path is bit-exact).
TEST(SimdPaths, ImLutWithoutLerfComponentRunsAndMatchesTheReference) {
  PathGuard guard;
  auto model = std::make_shared<Model>();
  model->method = Method::ImLut;
  model->imlut.components = {Method::Bilinear, Method::Bicubic, Method::Lanczos};
  model->imlut.scale_first = 1.5f;
  model->imlut.scale_step = 0.5f;
  model->imlut.scale_bins = 6;
  const int cols = model->imlut.columns();
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (int p = 0; p < kLutPatterns; ++p) {
    model->imlut.tables[p].resize(static_cast<std::size_t>(kLutEntries) * cols);
    for (auto& v : model->imlut.tables[p]) v = static_cast<std::int8_t>(dist(rng));
  }
  ASSERT_TRUE(model->lut.stage1[0].empty());
  MethodSetup setup;
  setup.method = Method::ImLut;
  setup.model = model;
  const cv::Mat in = image(3, 61, 37);
  const Size isz{in.cols, in.rows};
  auto render = [&](cpu::CpuPath path, Size osz) {
    cpu::set_default_cpu_path(path);
    auto backend = make_cpu_backend(setup, 2);
    cpu::set_default_cpu_path(cpu::CpuPath::Fast);
    EXPECT_EQ(cpu::fast_paths_of(*backend) != nullptr, path == cpu::CpuPath::Fast);
    cv::Mat out(osz.height, osz.width, in.type(), cv::Scalar::all(7));
    PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), resize_map(isz, osz)};
    backend->render(*backend->analyse(job.in), job);
    return out;
  };
  for (Size osz : {Size{122, 74}, Size{150, 90}}) {
    const cv::Mat fast = render(cpu::CpuPath::Fast, osz), ref = render(cpu::CpuPath::Reference, osz);
    EXPECT_EQ(max_abs_diff(fast, ref), 0) << osz.width << "x" << osz.height;
  }
}
