// train_prep: turns photographs into LeRF training pairs with the engine's own
// MATLAB-compatible bicubic (lerf::matlab_imresize), so that training LR images are made
// exactly like the evaluation's generated LR.
//
//   train_prep OUT_DIR DOWN SCALES IMAGE...
//
// For every IMAGE: HR = imresize(image cropped to a multiple of DOWN, 1/DOWN) (antialiased,
// removes JPEG artefacts; DOWN 0 picks max(2, longer side / 1000)), written as OUT_DIR/<stem>/hr.npy (uint8, H x W x 3, BGR); then for
// every scale SH x SW of the comma-separated SCALES (e.g. 2,3,2.5,2x3): LR from the top-left
// HR crop of SH*h x SW*w pixels, written as OUT_DIR/<stem>/lr_<SH>x<SW>.npy.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lerf/geometry.hpp"
#include "lerf/npy.hpp"
#include "lerf/quality.hpp"
#include "opencv_planes.hpp"

namespace fs = std::filesystem;
using namespace lerf;

namespace {

// As tools/lerf/eval.cpp: the largest n <= N / s with s * n an integer.
int lr_length(int hr_len, double s) {
  for (int n = static_cast<int>(std::floor(hr_len / s + 1e-9)); n > 0; --n) {
    double m = s * n;
    if (std::abs(m - std::round(m)) < 1e-6) return n;
  }
  return std::max(1, static_cast<int>(hr_len / s));
}

void save(const fs::path& path, ConstPlaneView p) {
  NpyArray a;
  a.dtype = "|u1";
  a.shape = {static_cast<std::size_t>(p.height), static_cast<std::size_t>(p.width),
             static_cast<std::size_t>(p.channels)};
  a.bytes.resize(a.count());
  for (int y = 0; y < p.height; ++y)
    std::memcpy(&a.bytes[static_cast<std::size_t>(y) * p.width * p.channels], p.row(y),
                static_cast<std::size_t>(p.width) * p.channels);
  write_npy(path, a);
}

std::string label(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s OUT_DIR DOWN SCALES IMAGE...\n", argv[0]);
    return 2;
  }
  try {
    fs::path out_dir = argv[1];
    int down_arg = std::atoi(argv[2]);  // 0: max(2, longer side / 1000)
    std::vector<Scale> scales;
    std::stringstream ss(argv[3]);
    for (std::string item; std::getline(ss, item, ',');) {
      auto s = parse_scale(item);
      if (!s) throw std::runtime_error("bad scale " + item);
      scales.push_back(*s);
    }
    for (int i = 4; i < argc; ++i) {
      cv::Mat img = cv_bridge::read_image(argv[i], /*force_color=*/true);
      cv::Mat hr;
      int down = down_arg > 0 ? down_arg : std::max(2, std::max(img.cols, img.rows) / 1000);
      if (down > 1) {
        Size hs{img.cols / down, img.rows / down};
        cv::Mat crop = img(cv::Rect(0, 0, hs.width * down, hs.height * down)).clone();
        Plane p = matlab_imresize(cv_bridge::const_view(crop), hs, Scale{1.0 / down, 1.0 / down});
        hr = cv_bridge::to_mat(p.view());
      } else {
        hr = img;
      }
      fs::path dir = out_dir / fs::path(argv[i]).stem();
      fs::create_directories(dir);
      save(dir / "hr.npy", cv_bridge::const_view(hr));
      for (Scale s : scales) {
        Size lr_size{lr_length(hr.cols, s.w), lr_length(hr.rows, s.h)};
        Size crop = scaled_size(lr_size, s);
        cv::Mat hc = hr(cv::Rect(0, 0, crop.width, crop.height)).clone();
        Plane lr = matlab_imresize(cv_bridge::const_view(hc), lr_size, Scale{1.0 / s.h, 1.0 / s.w});
        save(dir / ("lr_" + label(s.h) + "x" + label(s.w) + ".npy"), lr.view());
      }
      std::printf("%s: %dx%d / %d -> HR %dx%d\n", dir.string().c_str(), img.cols, img.rows, down, hr.cols, hr.rows);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_prep: %s\n", e.what());
    return 1;
  }
  return 0;
}
