// Geometry: output sizes, parsing, the pixel-centre convention, chroma siting, warps.
#include <gtest/gtest.h>

#include <cmath>

#include "lerf/error.hpp"
#include "lerf/geometry.hpp"

using namespace lerf;

TEST(Geometry, OutputSizeIsCeilOfScaledLength) {
  EXPECT_EQ(scaled_length(100, 2.0), 200);
  EXPECT_EQ(scaled_length(171, 1.5), 257);  // 256.5 -> 257
  EXPECT_EQ(scaled_length(4, 2.5), 10);     // exact despite floating-point noise
  EXPECT_EQ(scaled_length(3, 1.0 / 3.0), 1);
  EXPECT_EQ(scaled_length(1, 0.01), 1);
  Size s = scaled_size({10, 20}, Scale{2.0, 3.0});
  EXPECT_EQ(s.width, 30);
  EXPECT_EQ(s.height, 40);
}

TEST(Geometry, ParsesScalesAndSizes) {
  auto a = parse_scale("2");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(a->h, 2.0);
  EXPECT_DOUBLE_EQ(a->w, 2.0);
  auto b = parse_scale("2x3");
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->h, 2.0);
  EXPECT_DOUBLE_EQ(b->w, 3.0);
  EXPECT_TRUE(parse_scale("1.5"));
  for (const char* bad : {"", "x", "0", "-2", "2x", "x3", "abc", "2x0", "nan", "inf", "2y3"})
    EXPECT_FALSE(parse_scale(bad)) << bad;
  auto s = parse_size("1920x1080");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->width, 1920);
  EXPECT_EQ(s->height, 1080);
  for (const char* bad : {"", "1920", "0x10", "10x0", "-1x5", "1e3x5", "10x", "99999999999x2"})
    EXPECT_FALSE(parse_size(bad)) << bad;
}

TEST(Geometry, ResizeMapUsesPixelCentres) {
  // out = s * in: x = (o + 0.5) / s - 0.5, as OpenCV and GStreamer.
  auto m = resize_map({10, 10}, {20, 30}, Scale{3.0, 2.0});
  ASSERT_TRUE(m.is_separable());
  for (int o : {0, 1, 7, 19}) EXPECT_NEAR(m.out_to_in(0, 0) * o + m.out_to_in(0, 2), (o + 0.5) / 2 - 0.5, 1e-12);
  for (int o : {0, 5, 29}) EXPECT_NEAR(m.out_to_in(1, 1) * o + m.out_to_in(1, 2), (o + 0.5) / 3 - 0.5, 1e-12);
  Scale sc = m.separable_scale();
  EXPECT_DOUBLE_EQ(sc.w, 2.0);
  EXPECT_DOUBLE_EQ(sc.h, 3.0);
}

TEST(Geometry, ResizeMapCentresNonExactOutputs) {
  // out = ceil(s * in) != s * in: the convention keeps the image centred (methods.md section 0).
  Size in{171, 5}, out{257, 5};
  auto m = resize_map(in, out, Scale{1.0, 1.5});
  double first = m.out_to_in(0, 2);
  double last = m.out_to_in(0, 0) * (out.width - 1) + m.out_to_in(0, 2);
  EXPECT_NEAR((first + last) / 2, (in.width - 1) / 2.0, 1e-9);
  EXPECT_NEAR(m.out_to_in(0, 0), 1 / 1.5, 1e-12);
}

TEST(Geometry, ChromaPlaneMapCentredSiting) {
  // I420 with centred chroma and exact ratios: the chroma map is the plane's own resize map.
  auto luma = resize_map({64, 48}, {128, 96});
  auto chroma = plane_map(luma, PlaneSampling{2, 2, false, false});
  auto own = resize_map({32, 24}, {64, 48});
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(chroma.out_to_in.m[i], own.out_to_in.m[i], 1e-12) << i;
}

TEST(Geometry, ChromaPlaneMapCositedSiting) {
  // Horizontally co-sited chroma (MPEG-2): chroma sample c sits on luma 2c. At x2 the output
  // chroma sample 0 (luma 0) maps to luma -0.25, i.e. input chroma -0.125.
  auto luma = resize_map({64, 48}, {128, 96});
  auto chroma = plane_map(luma, PlaneSampling{2, 2, true, false});
  EXPECT_NEAR(chroma.out_to_in(0, 2), -0.125, 1e-12);
  EXPECT_NEAR(chroma.out_to_in(0, 0), 0.5, 1e-12);
  // Centred vertically: same as the plane's own map.
  EXPECT_NEAR(chroma.out_to_in(1, 2), resize_map({32, 24}, {64, 48}).out_to_in(1, 2), 1e-12);
}

TEST(Geometry, WarpMapInvertsAndRejectsSingular) {
  Matrix3 h{{1.2, 0.1, 5, -0.05, 0.9, 3, 0.0005, 0.0002, 1}};
  auto map = warp_map(h);
  Matrix3 id = h * map.out_to_in;
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(id.m[i], (i % 4 == 0) ? 1.0 : 0.0, 1e-12);
  EXPECT_FALSE(map.is_separable());
  EXPECT_THROW(warp_map(Matrix3{{1, 2, 3, 2, 4, 6, 0, 0, 1}}), Error);
  EXPECT_THROW(warp_map(Matrix3{{0, 0, 0, 0, 0, 0, 0, 0, 0}}), Error);
  EXPECT_THROW(warp_map(Matrix3{{1, 0, 0, 0, std::nan(""), 0, 0, 0, 1}}), Error);
  EXPECT_THROW(warp_map(Matrix3{{1, 2, 3, 2, 4 + 1e-17, 6, 0, 0, 1}}), Error);
  // A 5% (and a 0.1%) thumbnail placed far from the origin is a valid warp: singularity is
  // judged relative to each column's scale, not to the translation.
  for (double k : {0.05, 0.001}) {
    auto thumb = warp_map(Matrix3{{k, 0, 1800, 0, k, 1000, 0, 0, 1}});
    EXPECT_NEAR(thumb.out_to_in(0, 0), 1 / k, 1e-6 / k);
    EXPECT_NEAR(thumb.out_to_in(0, 2), -1800 / k, 1e-3 / k);
  }
  try {
    warp_map(Matrix3{{1, 2, 3, 2, 4, 6, 0, 0, 1}});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos);
  }
}
