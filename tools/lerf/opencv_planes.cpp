#include "opencv_planes.hpp"

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "lerf/error.hpp"

namespace lerf::cv_bridge {

namespace {
void check(const cv::Mat& m) {
  if (m.empty()) throw Error("empty image");
  if (m.depth() != CV_8U) throw Error("only 8-bit images are supported");
  if (m.channels() < 1 || m.channels() > 4) throw Error("images must have 1 to 4 channels");
}
}  // namespace

ConstPlaneView const_view(const cv::Mat& m) {
  check(m);
  return {m.data, m.cols, m.rows, static_cast<std::ptrdiff_t>(m.step[0]), m.channels()};
}

PlaneView view(cv::Mat& m) {
  check(m);
  return {m.data, m.cols, m.rows, static_cast<std::ptrdiff_t>(m.step[0]), m.channels()};
}

cv::Mat to_mat(ConstPlaneView p) {
  cv::Mat m(p.height, p.width, CV_8UC(p.channels));
  for (int y = 0; y < p.height; ++y) std::memcpy(m.ptr(y), p.row(y), static_cast<std::size_t>(p.width) * p.channels);
  return m;
}

cv::Mat read_image(const std::string& path, bool force_color) {
  if (!std::filesystem::exists(path)) throw Error(path + ": no such file");
  cv::Mat m;
  try {
    m = cv::imread(path, force_color ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(path + ": cannot read image (" + e.what() + ")");
  }
  if (m.empty()) throw Error(path + ": not a readable image");
  if (m.depth() != CV_8U) {
    // 16-bit PNGs and the like: keep the top 8 bits.
    cv::Mat m8;
    m.convertTo(m8, CV_8U, m.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
    m = m8;
  }
  return m;
}

void write_image(const std::string& path, const cv::Mat& m) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, m);
  } catch (const cv::Exception& e) {
    throw Error(path + ": cannot write image (" + e.what() + ")");
  }
  if (!ok) throw Error(path + ": cannot write image (unknown extension or unwritable path)");
}

}  // namespace lerf::cv_bridge
