#include "lerf/quality.hpp"

#include <algorithm>
#include <cmath>

#include "cpu/cpu_methods.hpp"
#include "lerf/error.hpp"

namespace lerf {

std::vector<float> luma_bt601(ConstPlaneView img, bool bgr) {
  std::vector<float> y(static_cast<std::size_t>(img.width) * img.height);
  for (int r = 0; r < img.height; ++r) {
    const std::uint8_t* row = img.row(r);
    for (int c = 0; c < img.width; ++c) {
      double R, G, B;
      if (img.channels >= 3) {
        const std::uint8_t* p = row + c * img.channels;
        R = bgr ? p[2] : p[0];
        G = p[1];
        B = bgr ? p[0] : p[2];
      } else {
        R = G = B = row[c * img.channels];
      }
      y[static_cast<std::size_t>(r) * img.width + c] =
          static_cast<float>(16.0 + (65.481 * R + 128.553 * G + 24.966 * B) / 255.0);
    }
  }
  return y;
}

namespace {
void check_sizes(const std::vector<float>& a, const std::vector<float>& b, Size s, int shave) {
  std::size_t n = static_cast<std::size_t>(s.width) * s.height;
  if (a.size() != n || b.size() != n) throw Error("quality: images differ in size");
  if (s.width - 2 * shave <= 0 || s.height - 2 * shave <= 0) throw Error("quality: image smaller than the shave");
}
}  // namespace

double psnr(const std::vector<float>& a, const std::vector<float>& b, Size s, int shave) {
  check_sizes(a, b, s, shave);
  double se = 0;
  std::size_t n = 0;
  for (int y = shave; y < s.height - shave; ++y)
    for (int x = shave; x < s.width - shave; ++x) {
      double d = static_cast<double>(a[static_cast<std::size_t>(y) * s.width + x]) - b[static_cast<std::size_t>(y) * s.width + x];
      se += d * d;
      ++n;
    }
  double mse = se / static_cast<double>(n);
  return mse <= 1e-12 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const std::vector<float>& a, const std::vector<float>& b, Size s, int shave) {
  check_sizes(a, b, s, shave);
  const int w = s.width - 2 * shave, h = s.height - 2 * shave;
  if (w < 11 || h < 11) throw Error("quality: image too small for an 11x11 SSIM window");
  double g[11], gs = 0;
  for (int i = 0; i < 11; ++i) gs += (g[i] = std::exp(-((i - 5) * (i - 5)) / (2 * 1.5 * 1.5)));
  for (double& v : g) v /= gs;
  // Separable Gaussian filtering of x, y, x^2, y^2, xy over the valid region.
  auto at = [&](const std::vector<float>& v, int y, int x) {
    return static_cast<double>(v[static_cast<std::size_t>(y + shave) * s.width + x + shave]);
  };
  const int ow = w - 10, oh = h - 10;
  std::vector<double> hs[5];
  for (auto& v : hs) v.assign(static_cast<std::size_t>(h) * ow, 0.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < ow; ++x) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
      for (int k = 0; k < 11; ++k) {
        double p = at(a, y, x + k), q = at(b, y, x + k);
        s0 += g[k] * p;
        s1 += g[k] * q;
        s2 += g[k] * p * p;
        s3 += g[k] * q * q;
        s4 += g[k] * p * q;
      }
      std::size_t i = static_cast<std::size_t>(y) * ow + x;
      hs[0][i] = s0, hs[1][i] = s1, hs[2][i] = s2, hs[3][i] = s3, hs[4][i] = s4;
    }
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  double total = 0;
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      double m[5] = {0, 0, 0, 0, 0};
      for (int k = 0; k < 11; ++k)
        for (int j = 0; j < 5; ++j) m[j] += g[k] * hs[j][static_cast<std::size_t>(y + k) * ow + x];
      double mu1 = m[0], mu2 = m[1];
      double s11 = m[2] - mu1 * mu1, s22 = m[3] - mu2 * mu2, s12 = m[4] - mu1 * mu2;
      total += ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2));
    }
  return total / (static_cast<double>(ow) * oh);
}

Plane matlab_imresize(ConstPlaneView in, Size out, Scale scale) {
  check_plane(in, "imresize input");
  auto kernel = kernels::classical_kernel(Method::Bicubic, -0.5f);
  CoordinateMap map = resize_map(in.size(), out, scale);
  const auto& m = map.out_to_in.m;
  auto ty = cpu::classical_axis_taps(kernel, in.height, out.height, m[4], m[5], Border::Reflect);
  auto tx = cpu::classical_axis_taps(kernel, in.width, out.width, m[0], m[2], Border::Reflect);
  const int ch = in.channels;
  Plane mid(in.width, out.height, ch);
  for (int oy = 0; oy < out.height; ++oy)
    for (int i = 0; i < in.width * ch; ++i) {
      double s = 0;
      for (int k = 0; k < ty.count; ++k)
        s += static_cast<double>(ty.value[static_cast<std::size_t>(oy) * ty.count + k]) *
             in.row(ty.index[static_cast<std::size_t>(oy) * ty.count + k])[i];
      mid.view().row(oy)[i] = cpu::to_byte(static_cast<float>(s));
    }
  Plane result(out.width, out.height, ch);
  ConstPlaneView mv = mid.view();
  for (int oy = 0; oy < out.height; ++oy)
    for (int ox = 0; ox < out.width; ++ox)
      for (int c = 0; c < ch; ++c) {
        double s = 0;
        for (int k = 0; k < tx.count; ++k)
          s += static_cast<double>(tx.value[static_cast<std::size_t>(ox) * tx.count + k]) *
               mv.row(oy)[tx.index[static_cast<std::size_t>(ox) * tx.count + k] * ch + c];
        result.view().row(oy)[ox * ch + c] = cpu::to_byte(static_cast<float>(s));
      }
  return result;
}

}  // namespace lerf
