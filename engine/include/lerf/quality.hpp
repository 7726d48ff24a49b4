// Image quality by the super-resolution papers' protocol (methods.md section 0), and the
// MATLAB-compatible bicubic downscaler that makes LR images for scales without shared pairs.
#pragma once

#include <vector>

#include "lerf/geometry.hpp"
#include "lerf/image.hpp"

namespace lerf {

// Luma Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 of an interleaved 3- or 4-channel
// plane (bgr = channel order B, G, R as OpenCV loads) or a 1-channel plane (taken as grey:
// R = G = B). Returned row-major, width * height floats.
std::vector<float> luma_bt601(ConstPlaneView image, bool bgr);

// PSNR (peak 255) and SSIM (11x11 Gaussian window, sigma 1.5, valid region) of two luma
// images of equal size after shaving `shave` pixels from every border.
double psnr(const std::vector<float>& a, const std::vector<float>& b, Size size, int shave);
double ssim(const std::vector<float>& a, const std::vector<float>& b, Size size, int shave);

// MATLAB imresize(img, 1/s, 'bicubic') for uint8 images: Keys a = -0.5, antialiased when
// downscaling, symmetric edge extension, rows resized first with rounding to uint8 between
// the passes, as MATLAB's resizeAlongDim does.
Plane matlab_imresize(ConstPlaneView in, Size out, Scale scale);

}  // namespace lerf
