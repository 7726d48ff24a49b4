// Extreme geometry on every CPU method: 1x1 in or out, 8192-wide frames, scales from 1/64 to
// 64, asymmetric scales, odd sizes. Flat input must come out flat, nothing may crash.
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>

#include "lerf/backend.hpp"
#include "lerf/error.hpp"
#include "lerf/geometry.hpp"

using namespace lerf;

namespace {

// LeRF with a random LUT model: exercises every code path without needing ../shared.
std::shared_ptr<const Model> random_model(Method method) {
  auto m = std::make_shared<Model>();
  m->method = method;
  int outputs = method == Method::LerfG ? 3 : 1;
  m->lut.stage2_outputs = outputs;
  std::mt19937 rng(outputs);
  for (int p = 0; p < kLutPatterns; ++p) {
    m->lut.stage1[p].resize(kLutEntries);
    for (auto& v : m->lut.stage1[p]) v = static_cast<std::int8_t>(rng());
    for (int d = 0; d < 2; ++d) {
      m->lut.stage2[p][d].resize(static_cast<std::size_t>(kLutEntries) * outputs);
      for (auto& v : m->lut.stage2[p][d]) v = static_cast<std::int8_t>(rng());
    }
  }
  return m;
}

std::unique_ptr<Backend> cpu_backend(Method method) {
  MethodSetup s;
  s.method = method;
  if (!is_classical(method)) s.model = random_model(method);
  return make_cpu_backend(s, 2);
}

const Method kMethods[] = {Method::Nearest, Method::Bilinear, Method::Bicubic,
                           Method::Lanczos, Method::LerfG,    Method::LerfL};

// Resizes a flat plane and checks the output is flat (LeRF's stage-1 filter may move the
// level, so only flatness is required there; classical kernels must keep the exact value).
void expect_flat_resize(Method m, Size in, Size out, int channels, std::optional<Scale> scale = {}) {
  auto backend = cpu_backend(m);
  Plane src(in.width, in.height, channels), dst(out.width, out.height, channels, 3);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width * channels; ++x) src.view().row(y)[x] = static_cast<std::uint8_t>(60 + 40 * (x % channels));
  PlaneJob job{src.view(), dst.view(), scale ? resize_map(in, out, *scale) : resize_map(in, out)};
  auto a = backend->analyse(job.in);
  backend->render(*a, job);
  for (int c = 0; c < channels; ++c) {
    int first = dst.view().row(0)[c];
    if (is_classical(m)) {
      ASSERT_EQ(first, 60 + 40 * c) << method_name(m);
    }
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x)
        ASSERT_EQ(dst.view().row(y)[x * channels + c], first)
            << method_name(m) << " " << in.width << "x" << in.height << " -> " << out.width << "x" << out.height
            << " at " << x << "," << y;
  }
}

}  // namespace

TEST(ExtremeGeometry, OnePixelInOrOut) {
  for (Method m : kMethods) {
    expect_flat_resize(m, {1, 1}, {64, 48}, 3);
    expect_flat_resize(m, {64, 48}, {1, 1}, 4);
    expect_flat_resize(m, {1, 1}, {1, 1}, 1);
    expect_flat_resize(m, {1, 37}, {13, 1}, 2);
  }
}

TEST(ExtremeGeometry, ScalesFromOneSixtyFourthToSixtyFour) {
  for (Method m : kMethods) {
    expect_flat_resize(m, {4, 3}, {256, 192}, 1, Scale{64, 64});
    expect_flat_resize(m, {256, 192}, {4, 3}, 1, Scale{1 / 64.0, 1 / 64.0});
    expect_flat_resize(m, {256, 3}, {4, 192}, 3, Scale{64, 1 / 64.0});  // asymmetric both ways
  }
}

TEST(ExtremeGeometry, EightThousandPixelWideFrames) {
  for (Method m : kMethods) {
    expect_flat_resize(m, {8192, 2}, {16384, 4}, 1);
    expect_flat_resize(m, {8192, 4}, {1920, 1}, 1);
  }
}

TEST(ExtremeGeometry, OddSizesAndNonExactScales) {
  for (Method m : kMethods)
    for (Size in : {Size{33, 17}, Size{7, 5}})
      for (double s : {1.37, 2.5, 0.73})
        expect_flat_resize(m, in, scaled_size(in, {s, s}), 3, Scale{s, s});
}

TEST(ExtremeGeometry, AbsurdMapsAreHandledNotCrashed) {
  // Maps the engine API allows but no rescale produces: huge or tiny affine factors,
  // translations far outside, a near-singular projective map.
  const CoordinateMap maps[] = {
      {Matrix3::affine_axes(1e12, 0, 1e-12, 0)},
      {Matrix3::affine_axes(1, 1e15, 1, -1e15)},
      {Matrix3{{1e-9, 0, 0, 0, 1e-9, 0, 1e-3, 1e-3, 1e-12}}},
      {Matrix3{{3, 1, 0, -2, 5, 0, 0.4, -0.3, 1}}},
  };
  for (Method m : kMethods)
    for (const auto& map : maps)
      for (Border b : {Border::Clamp, Border::Constant, Border::Reflect}) {
        auto backend = cpu_backend(m);
        Plane src(9, 7, 3), dst(11, 13, 3);
        PlaneJob job{src.view(), dst.view(), map, b, {1, 2, 3, 4}};
        auto a = backend->analyse(job.in);
        EXPECT_NO_THROW(backend->render(*a, job)) << method_name(m);
      }
}

TEST(ExtremeGeometry, NonFiniteMapsAreRejected) {
  auto backend = cpu_backend(Method::Bilinear);
  Plane src(9, 7, 1), dst(11, 13, 1);
  PlaneJob job{src.view(), dst.view(), {Matrix3{{1, 0, 0, 0, std::numeric_limits<double>::infinity(), 0, 0, 0, 1}}}};
  auto a = backend->analyse(job.in);
  EXPECT_THROW(backend->render(*a, job), Error);
}
