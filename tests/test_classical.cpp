// Classical resampling on the CPU: the reference every faster path is checked against.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "lerf/engine.hpp"
#include "lerf/error.hpp"
#include "opencv_planes.hpp"
#include "test_helpers.hpp"

using namespace lerf;
using lerf::test::max_abs_diff;
using lerf::test::psnr;
using lerf::test::sample_image;

namespace {
EngineOptions classical(Method m, float cubic_a = -0.5f, int threads = 2) {
  EngineOptions o;
  o.method = m;
  o.backend = BackendKind::Cpu;
  o.threads = threads;
  o.cubic_a = cubic_a;
  return o;
}
cv::Mat crop(const cv::Mat& m, int w, int h) { return m(cv::Rect(0, 0, w, h)).clone(); }
}  // namespace

// OpenCV's bilinear/bicubic use the same pixel-centre convention; they differ from us only by
// their fixed-point weights, hence >= 50 dB rather than equality.
TEST(Classical, BilinearMatchesOpenCVOnRealImage) {
  cv::Mat in = crop(sample_image(), 200, 150);
  for (Size out : {Size{400, 300}, Size{600, 450}, Size{341, 257}}) {
    cv::Mat ours = test::resize(classical(Method::Bilinear), in, out);
    cv::Mat ref;
    cv::resize(in, ref, cv::Size(out.width, out.height), 0, 0, cv::INTER_LINEAR);
    EXPECT_GE(psnr(ours, ref), 50.0) << out.width << "x" << out.height;
  }
}

TEST(Classical, BicubicMatchesOpenCVOnRealImage) {
  cv::Mat in = crop(sample_image(), 200, 150);
  for (Size out : {Size{400, 300}, Size{800, 600}, Size{341, 257}}) {
    cv::Mat ours = test::resize(classical(Method::Bicubic, -0.75f), in, out);
    cv::Mat ref;
    cv::resize(in, ref, cv::Size(out.width, out.height), 0, 0, cv::INTER_CUBIC);
    EXPECT_GE(psnr(ours, ref), 50.0) << out.width << "x" << out.height;
  }
}

TEST(Classical, BicubicParameterChangesTheResult) {
  cv::Mat in = crop(sample_image(), 120, 90);
  cv::Mat a = test::resize(classical(Method::Bicubic, -0.5f), in, {240, 180});
  cv::Mat b = test::resize(classical(Method::Bicubic, -0.75f), in, {240, 180});
  EXPECT_GT(max_abs_diff(a, b), 0);
  EXPECT_GE(psnr(a, b), 35.0);
}

TEST(Classical, AsymmetricScaleMatchesOpenCV) {
  cv::Mat in = crop(sample_image(), 160, 120);
  cv::Mat ours = test::resize(classical(Method::Bilinear), in, {480, 240}, Scale{2.0, 3.0});
  cv::Mat ref;
  cv::resize(in, ref, cv::Size(480, 240), 0, 0, cv::INTER_LINEAR);
  EXPECT_GE(psnr(ours, ref), 50.0);
}

// Antialiased downscale by 2 with the triangle kernel widened to 2 input pixels: taps at
// distances 0.5 and 1.5 give weights (1, 3, 3, 1) / 8 per axis; an independent reference
// is that filter applied by OpenCV followed by taking every second sample.
TEST(Classical, AntialiasedDownscaleEqualsWidenedKernelFilter) {
  cv::Mat in = crop(sample_image(), 200, 160);
  cv::Mat ours = test::resize(classical(Method::Bilinear), in, {100, 80});
  cv::Mat k = (cv::Mat_<float>(1, 4) << 1 / 8.f, 3 / 8.f, 3 / 8.f, 1 / 8.f);
  cv::Mat filtered;
  // Anchor at tap 1: output o (centre at input 2o + 0.5) uses inputs 2o - 1 .. 2o + 2.
  cv::sepFilter2D(in, filtered, CV_32F, k, k.t(), cv::Point(1, 1), 0, cv::BORDER_REPLICATE);
  cv::Mat ref(80, 100, CV_32FC3);
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 100; ++x) ref.at<cv::Vec3f>(y, x) = filtered.at<cv::Vec3f>(2 * y, 2 * x);
  cv::Mat ref8;
  ref.convertTo(ref8, CV_8U);
  EXPECT_LE(max_abs_diff(ours, ref8), 1);
}

TEST(Classical, DownscaleIsAntialiased) {
  // A 1-pixel checkerboard downscaled by 3: without antialiasing it aliases to a pattern;
  // with it every output is close to the mean grey.
  cv::Mat in(90, 90, CV_8UC1);
  for (int y = 0; y < 90; ++y)
    for (int x = 0; x < 90; ++x) in.at<uchar>(y, x) = ((x + y) & 1) ? 255 : 0;
  for (Method m : {Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
    cv::Mat out = test::resize(classical(m), in, {30, 30});
    cv::Mat inner = out(cv::Rect(2, 2, 26, 26));
    double mn, mx;
    cv::minMaxLoc(inner, &mn, &mx);
    EXPECT_GE(mn, 100) << method_name(m);
    EXPECT_LE(mx, 155) << method_name(m);
  }
}

TEST(Classical, NearestReplicatesPixels) {
  cv::Mat in = crop(sample_image(), 40, 30);
  cv::Mat out = test::resize(classical(Method::Nearest), in, {80, 60});
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 80; ++x) ASSERT_EQ(out.at<cv::Vec3b>(y, x), in.at<cv::Vec3b>(y / 2, x / 2));
  cv::Mat down = test::resize(classical(Method::Nearest), in, {20, 15});
  for (int y = 0; y < 15; ++y)
    for (int x = 0; x < 20; ++x) ASSERT_EQ(down.at<cv::Vec3b>(y, x), in.at<cv::Vec3b>(2 * y + 1, 2 * x + 1));
}

TEST(Classical, ConstantImageStaysConstantAtAnyScale) {
  cv::Mat in(23, 17, CV_8UC3, cv::Scalar(37, 200, 121));
  for (Method m : {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos})
    for (Size out : {Size{51, 40}, Size{5, 3}, Size{1, 1}, Size{170, 23}}) {
      cv::Mat o = test::resize(classical(m), in, out);
      EXPECT_EQ(cv::norm(o, cv::Mat(o.size(), o.type(), cv::Scalar(37, 200, 121)), cv::NORM_INF), 0)
          << method_name(m) << " " << out.width << "x" << out.height;
    }
}

TEST(Classical, OneByNAndNByOne) {
  cv::Mat row = crop(sample_image(), 64, 1), col = crop(sample_image(), 1, 48);
  for (Method m : {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
    cv::Mat r = test::resize(classical(m), row, {128, 3});
    // Every output row equals the others (a 1-row input has no vertical variation).
    EXPECT_EQ(max_abs_diff(r.row(0), r.row(2)), 0) << method_name(m);
    cv::Mat ref;
    cv::resize(row, ref, cv::Size(128, 1), 0, 0, cv::INTER_LINEAR);
    if (m == Method::Bilinear) {
      EXPECT_GE(psnr(r.row(1), ref), 50.0);
    }
    cv::Mat c = test::resize(classical(m), col, {2, 96});
    EXPECT_EQ(max_abs_diff(c.col(0), c.col(1)), 0) << method_name(m);
    cv::Mat pixel = crop(sample_image(), 1, 1);
    cv::Mat single = test::resize(classical(m), pixel, {7, 5});
    EXPECT_EQ(max_abs_diff(single, cv::Mat(5, 7, CV_8UC3, cv::Scalar(pixel.at<cv::Vec3b>(0, 0)))), 0)
        << method_name(m);
  }
}

TEST(Classical, OddSizesMatchOpenCV) {
  cv::Mat in = crop(sample_image(), 37, 29);
  for (Size out : {Size{75, 59}, Size{111, 87}, Size{19, 15}}) {
    cv::Mat ours = test::resize(classical(Method::Bilinear), in, out);
    ASSERT_EQ(ours.cols, out.width);
    ASSERT_EQ(ours.rows, out.height);
    if (out.width > in.cols) {
      cv::Mat ref;
      cv::resize(in, ref, cv::Size(out.width, out.height), 0, 0, cv::INTER_LINEAR);
      EXPECT_GE(psnr(ours, ref), 50.0);
    }
  }
}

TEST(Classical, PaddedStridesGiveTheSameResult) {
  cv::Mat tight = crop(sample_image(), 61, 47);
  // Same pixels inside larger buffers: rows padded by 13 and 1 bytes.
  for (int pad : {13, 1}) {
    cv::Mat big_in(47, 61 + pad, CV_8UC3, cv::Scalar(255, 0, 255));
    tight.copyTo(big_in(cv::Rect(0, 0, 61, 47)));
    cv::Mat in_view = big_in(cv::Rect(0, 0, 61, 47));
    ASSERT_FALSE(in_view.isContinuous());
    for (Method m : {Method::Nearest, Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
      cv::Mat a = test::resize(classical(m), tight, {130, 90});
      cv::Mat big_out(90, 130 + pad, CV_8UC3, cv::Scalar(1, 2, 3));
      cv::Mat out_view = big_out(cv::Rect(0, 0, 130, 90));
      Engine engine(classical(m));
      PlaneJob job{cv_bridge::const_view(in_view), cv_bridge::view(out_view), resize_map({61, 47}, {130, 90})};
      engine.run(std::span<const PlaneJob>(&job, 1));
      EXPECT_EQ(max_abs_diff(a, out_view), 0) << method_name(m);
      // The padding of the output is untouched.
      EXPECT_EQ(big_out.at<cv::Vec3b>(5, 130 + pad - 1), cv::Vec3b(1, 2, 3));
    }
  }
}

TEST(Classical, EveryThreadCountGivesIdenticalOutput) {
  cv::Mat in = crop(sample_image(), 97, 71);
  for (Method m : {Method::Bilinear, Method::Bicubic, Method::Lanczos}) {
    cv::Mat ref = test::resize(classical(m, -0.5f, 1), in, {250, 180});
    for (int threads : {2, 3, 7, 0}) {
      cv::Mat o = test::resize(classical(m, -0.5f, threads), in, {250, 180});
      EXPECT_EQ(max_abs_diff(ref, o), 0) << method_name(m) << " threads " << threads;
    }
  }
}

TEST(Classical, GreyAndFourChannelPlanes) {
  cv::Mat colour = crop(sample_image(), 80, 60), grey, rgba;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 80; ++x) rgba.at<cv::Vec4b>(y, x)[3] = static_cast<uchar>(x * 3);
  cv::Mat g = test::resize(classical(Method::Bicubic, -0.75f), grey, {160, 120});
  cv::Mat ref;
  cv::resize(grey, ref, cv::Size(160, 120), 0, 0, cv::INTER_CUBIC);
  EXPECT_GE(psnr(g, ref), 50.0);
  cv::Mat a = test::resize(classical(Method::Bilinear), rgba, {160, 120});
  cv::resize(rgba, ref, cv::Size(160, 120), 0, 0, cv::INTER_LINEAR);
  EXPECT_GE(psnr(a, ref), 50.0);  // alpha resampled like the colours
}

TEST(Classical, RejectsInvalidPlanes) {
  Engine engine(classical(Method::Bilinear));
  cv::Mat in = crop(sample_image(), 10, 10), out(20, 20, CV_8UC3);
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), resize_map({10, 10}, {20, 20})};
  job.in.stride = 5;  // smaller than a row
  EXPECT_THROW(engine.run(std::span<const PlaneJob>(&job, 1)), Error);
  job = PlaneJob{cv_bridge::const_view(in), cv_bridge::view(out), resize_map({10, 10}, {20, 20})};
  job.out.channels = 1;  // channel mismatch
  EXPECT_THROW(engine.run(std::span<const PlaneJob>(&job, 1)), Error);
  job = PlaneJob{cv_bridge::const_view(in), cv_bridge::view(out), resize_map({10, 10}, {20, 20})};
  job.in.width = 0;
  EXPECT_THROW(engine.run(std::span<const PlaneJob>(&job, 1)), Error);
}
