// Shared helpers of the tests: the real images they use and comparisons.
#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

#include "lerf/engine.hpp"
#include "lerf/image.hpp"
#include <optional>

namespace lerf::test {

// ../shared next to the source tree (LERF_SHARED_DIR), or empty when absent.
std::filesystem::path shared_dir();
// A real photograph shipped with Debian's opencv-doc (installed by scripts/setup.sh).
cv::Mat sample_image(const std::string& name = "fruits.jpg", int flags = 1 /* IMREAD_COLOR */);
double psnr(const cv::Mat& a, const cv::Mat& b, int shave = 0);
int max_abs_diff(const cv::Mat& a, const cv::Mat& b);

// Rescales `in` to `out` with the engine (scale defaults to out / in), as the CLI does.
cv::Mat resize(const EngineOptions& options, const cv::Mat& in, Size out, std::optional<Scale> scale = {});
cv::Mat resize(Method method, const cv::Mat& in, Size out, int threads = 2);
// Warps `in` by a matrix mapping input to output pixels.
cv::Mat warp(const EngineOptions& options, const cv::Mat& in, const Matrix3& in_to_out, Size out,
             Border border = Border::Constant);
// EngineOptions for a method: LeRF with the authors' LUTs where ../shared is present, the other
// learned methods with our models/.
EngineOptions options_for(Method method, int threads = 2);

}  // namespace lerf::test

// Skips the current test with a clear message when ../shared is absent.
#define LERF_REQUIRE_SHARED()                                                                  \
  do {                                                                                         \
    if (lerf::test::shared_dir().empty())                                                      \
      GTEST_SKIP() << "../shared is absent (a user's fresh clone): skipping reference checks"; \
  } while (0)
