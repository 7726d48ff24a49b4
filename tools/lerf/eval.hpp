// `lerf eval`: PSNR-Y / SSIM-Y of a method on a dataset, by methods.md section 0.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lerf/engine.hpp"
#include "lerf/geometry.hpp"

namespace lerf {

struct EvalResult {
  std::string dataset;
  double scale_h = 0, scale_w = 0;
  int images = 0;
  double psnr_y = 0, ssim_y = 0;
};

// Upscales every LR image of `dataset` (layout x{s}/HR, x{s}/LR) by each scale and compares
// with HR. Scales without an LR folder get LR made from HR by matlab_imresize.
std::vector<EvalResult> evaluate(Engine& engine, const std::filesystem::path& dataset,
                                 const std::vector<Scale>& scales);

// The folder name of a scale: "x2", "x1.5", "x2x3".
std::string scale_label(Scale s);

}  // namespace lerf
