#include "eval.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <sstream>

#include "lerf/error.hpp"
#include "lerf/quality.hpp"
#include "opencv_planes.hpp"

namespace lerf {

namespace fs = std::filesystem;

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::vector<fs::path> images_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (e.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The HR folder to generate LR from: DIR/HR, else the least-cropped x{k}/HR.
fs::path source_hr_dir(const fs::path& dataset) {
  if (fs::is_directory(dataset / "HR")) return dataset / "HR";
  for (int k = 1; k <= 16; ++k)
    if (fs::is_directory(dataset / ("x" + std::to_string(k)) / "HR")) return dataset / ("x" + std::to_string(k)) / "HR";
  throw Error(dataset.string() + ": no HR folder (expected HR/ or x{s}/HR/)");
}

// Largest LR length n <= N / s for which s * n is (nearly) an integer, so that LR made from
// the first s * n HR pixels upscales back to exactly that many.
int generated_lr_length(int hr_len, double s) {
  for (int n = static_cast<int>(std::floor(hr_len / s + 1e-9)); n > 0; --n) {
    double m = s * n;
    if (std::abs(m - std::round(m)) < 1e-6) return n;
  }
  return std::max(1, static_cast<int>(hr_len / s));
}

}  // namespace

std::string scale_label(Scale s) {
  return s.h == s.w ? "x" + number(s.h) : "x" + number(s.h) + "x" + number(s.w);
}

std::vector<EvalResult> evaluate(Engine& engine, const fs::path& dataset, const std::vector<Scale>& scales) {
  if (!fs::is_directory(dataset)) throw Error(dataset.string() + ": dataset directory does not exist");
  std::vector<EvalResult> results;
  std::string name = dataset.filename().empty() ? dataset.parent_path().filename().string()
                                                : dataset.filename().string();
  for (Scale s : scales) {
    fs::path folder = dataset / scale_label(s);
    bool paired = fs::is_directory(folder / "LR") && fs::is_directory(folder / "HR");
    fs::path hr_dir = paired ? folder / "HR" : source_hr_dir(dataset);
    auto files = images_in(hr_dir);
    if (files.empty()) throw Error(hr_dir.string() + ": no images");
    double psnr_sum = 0, ssim_sum = 0;
    for (const auto& hr_path : files) {
      cv::Mat hr = cv_bridge::read_image(hr_path.string(), /*force_color=*/true);
      cv::Mat lr;
      if (paired) {
        fs::path lr_path = folder / "LR" / hr_path.filename();
        lr = cv_bridge::read_image(lr_path.string(), true);
      } else {
        Size lr_size{generated_lr_length(hr.cols, s.w), generated_lr_length(hr.rows, s.h)};
        Size crop = scaled_size(lr_size, s);
        cv::Mat hr_crop = hr(cv::Rect(0, 0, crop.width, crop.height)).clone();
        Plane p = matlab_imresize(cv_bridge::const_view(hr_crop), lr_size, Scale{1.0 / s.h, 1.0 / s.w});
        lr = cv_bridge::to_mat(p.view());
      }
      Size lr_size{lr.cols, lr.rows};
      Size out_size = scaled_size(lr_size, s);
      if (out_size.width > hr.cols || out_size.height > hr.rows)
        throw Error(hr_path.string() + ": HR smaller than the upscaled LR");
      cv::Mat out(out_size.height, out_size.width, CV_8UC3);
      PlaneJob job{cv_bridge::const_view(lr), cv_bridge::view(out), resize_map(lr_size, out_size, s)};
      engine.run(std::span<const PlaneJob>(&job, 1));
      cv::Mat gt = hr(cv::Rect(0, 0, out_size.width, out_size.height));
      auto y_out = luma_bt601(cv_bridge::const_view(out), true);
      auto y_gt = luma_bt601(cv_bridge::const_view(gt), true);
      int shave = static_cast<int>(std::ceil(std::max(s.h, s.w)));
      psnr_sum += psnr(y_out, y_gt, out_size, shave);
      ssim_sum += ssim(y_out, y_gt, out_size, 0);  // the papers measure SSIM unshaved
    }
    EvalResult r;
    r.dataset = name;
    r.scale_h = s.h;
    r.scale_w = s.w;
    r.images = static_cast<int>(files.size());
    r.psnr_y = psnr_sum / r.images;
    r.ssim_y = ssim_sum / r.images;
    results.push_back(r);
  }
  return results;
}

}  // namespace lerf
