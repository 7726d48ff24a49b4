#include "test_helpers.hpp"

#include <cmath>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

#include "opencv_planes.hpp"

namespace lerf::test {

std::filesystem::path shared_dir() {
  const char* env = std::getenv("LERF_SHARED_DIR");
  if (env && std::filesystem::is_directory(std::filesystem::path(env) / "datasets"))
    return std::filesystem::canonical(env);
  return {};
}

cv::Mat sample_image(const std::string& name, int flags) {
  std::string path = "/usr/share/doc/opencv-doc/examples/data/" + name;
  cv::Mat m = cv::imread(path, flags);
  if (m.empty()) throw std::runtime_error(path + " missing: run scripts/setup.sh (package opencv-doc)");
  return m;
}

double psnr(const cv::Mat& a, const cv::Mat& b, int shave) {
  cv::Rect r(shave, shave, a.cols - 2 * shave, a.rows - 2 * shave);
  return cv::PSNR(a(r), b(r));
}

int max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double mx = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &mx);
  return static_cast<int>(mx);
}

cv::Mat resize(const EngineOptions& options, const cv::Mat& in, Size out, std::optional<Scale> scale) {
  Engine engine(options);
  cv::Mat result(out.height, out.width, in.type());
  Size in_size{in.cols, in.rows};
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(result),
               scale ? resize_map(in_size, out, *scale) : resize_map(in_size, out)};
  engine.run(std::span<const PlaneJob>(&job, 1));
  return result;
}

cv::Mat resize(Method method, const cv::Mat& in, Size out, int threads) {
  return resize(options_for(method, threads), in, out);
}

cv::Mat warp(const EngineOptions& options, const cv::Mat& in, const Matrix3& in_to_out, Size out, Border border) {
  Engine engine(options);
  cv::Mat result(out.height, out.width, in.type());
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(result), warp_map(in_to_out)};
  job.border = border;
  engine.run(std::span<const PlaneJob>(&job, 1));
  return result;
}

EngineOptions options_for(Method method, int threads) {
  EngineOptions o;
  o.method = method;
  o.backend = BackendKind::Cpu;
  o.threads = threads;
  // LeRF: the authors' LUTs where ../shared is present (conformance); the other learned
  // methods (and LeRF without ../shared) use the default search path: our models/.
  if ((method == Method::LerfG || method == Method::LerfL) && !shared_dir().empty())
    o.model_dir = (shared_dir() / "reference" / "lerf-official").string();
  return o;
}

}  // namespace lerf::test
