#include "lerf/geometry.hpp"

#include <cmath>
#include <cstdlib>

#include "lerf/error.hpp"

namespace lerf {

int scaled_length(int n, double s) {
  double v = s * n;
  double r = std::round(v);
  // s * n that should be an integer (2.5 * 4) may come out as 10.000000000000002.
  if (std::abs(v - r) < 1e-7 * std::max(1.0, v)) return static_cast<int>(r);
  return static_cast<int>(std::ceil(v));
}

Size scaled_size(Size in, Scale s) { return {scaled_length(in.width, s.w), scaled_length(in.height, s.h)}; }

namespace {
bool parse_positive(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out) && out > 0;
}
}  // namespace

std::optional<Scale> parse_scale(const std::string& text) {
  auto x = text.find('x');
  double h = 0, w = 0;
  if (x == std::string::npos) {
    if (!parse_positive(text, h)) return std::nullopt;
    return Scale{h, h};
  }
  if (!parse_positive(text.substr(0, x), h) || !parse_positive(text.substr(x + 1), w)) return std::nullopt;
  return Scale{h, w};
}

std::optional<Size> parse_size(const std::string& text) {
  auto x = text.find('x');
  if (x == std::string::npos) return std::nullopt;
  auto parse_int = [](const std::string& s, int& v) {
    if (s.empty() || s.size() > 9) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    v = std::atoi(s.c_str());
    return v > 0;
  };
  Size size;
  if (!parse_int(text.substr(0, x), size.width) || !parse_int(text.substr(x + 1), size.height))
    return std::nullopt;
  return size;
}

Matrix3 Matrix3::operator*(const Matrix3& o) const {
  Matrix3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += m[i * 3 + k] * o.m[k * 3 + j];
      r.m[i * 3 + j] = s;
    }
  return r;
}

double Matrix3::determinant() const {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
         m[2] * (m[3] * m[7] - m[4] * m[6]);
}

bool Matrix3::is_finite() const {
  for (double v : m)
    if (!std::isfinite(v)) return false;
  return true;
}

Matrix3 Matrix3::inverse() const {
  if (!is_finite()) throw Error("matrix has non-finite entries");
  double det = determinant();
  // Singular relative to the scale of each column (Hadamard's bound |det| <= product of the
  // column norms): invariant to rescaling an axis, so a tiny thumbnail translated far away
  // (small linear part, large translation) is still invertible.
  double bound = 1;
  for (int c = 0; c < 3; ++c) bound *= std::sqrt(m[c] * m[c] + m[3 + c] * m[3 + c] + m[6 + c] * m[6 + c]);
  if (!std::isfinite(det) || !(std::abs(det) > 1e-14 * bound))
    throw Error("matrix is singular (determinant " + std::to_string(det) + ")");
  Matrix3 r;
  r.m = {(m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det,
         (m[1] * m[5] - m[2] * m[4]) / det, (m[5] * m[6] - m[3] * m[8]) / det,
         (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
         (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det,
         (m[0] * m[4] - m[1] * m[3]) / det};
  // A posteriori: the product must be the identity (catches numerically singular matrices).
  Matrix3 id = *this * r;
  for (int i = 0; i < 9; ++i)
    if (!std::isfinite(r.m[i]) || std::abs(id.m[i] - (i % 4 == 0 ? 1.0 : 0.0)) > 1e-6)
      throw Error("matrix is numerically singular (determinant " + std::to_string(det) + ")");
  return r;
}

bool CoordinateMap::is_separable() const {
  const auto& m = out_to_in.m;
  return m[1] == 0 && m[3] == 0 && m[6] == 0 && m[7] == 0 && m[8] == 1 && m[0] > 0 && m[4] > 0;
}

Scale CoordinateMap::separable_scale() const { return {1.0 / out_to_in.m[4], 1.0 / out_to_in.m[0]}; }

CoordinateMap resize_map(Size in, Size out, Scale s) {
  // x = o / s + (in - 1) / 2 - (out - 1) / (2 s)
  double bx = (in.width - 1) / 2.0 - (out.width - 1) / (2.0 * s.w);
  double by = (in.height - 1) / 2.0 - (out.height - 1) / (2.0 * s.h);
  return {Matrix3::affine_axes(1.0 / s.w, bx, 1.0 / s.h, by)};
}

CoordinateMap resize_map(Size in, Size out) {
  return resize_map(in, out, Scale{static_cast<double>(out.height) / in.height,
                                   static_cast<double>(out.width) / in.width});
}

CoordinateMap warp_map(const Matrix3& in_to_out) { return {in_to_out.inverse()}; }

CoordinateMap plane_map(const CoordinateMap& luma_map, const PlaneSampling& s) {
  if (s.sub_x == 1 && s.sub_y == 1) return luma_map;
  // plane -> luma: l = sub * c + offset; offset (sub - 1) / 2 centres the sample.
  double ox = s.cosited_x ? 0.0 : (s.sub_x - 1) / 2.0;
  double oy = s.cosited_y ? 0.0 : (s.sub_y - 1) / 2.0;
  Matrix3 to_luma = Matrix3::affine_axes(s.sub_x, ox, s.sub_y, oy);
  Matrix3 to_plane = Matrix3::affine_axes(1.0 / s.sub_x, -ox / s.sub_x, 1.0 / s.sub_y, -oy / s.sub_y);
  return {to_plane * luma_map.out_to_in * to_luma};
}

}  // namespace lerf
