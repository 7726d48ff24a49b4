// Geometry: output sizes, the pixel-centre convention, chroma siting, and the
// general coordinate map (input coordinate for every output pixel) that serves
// both rescaling (a separable affine map) and homography warping.
//
// Pixel i of a plane has its centre at coordinate i. Rescaling by s maps output
// index o to input coordinate  x = o / s + (in - 1) / 2 - (out - 1) / (2 s),
// which is ResizeRight's convention and equals OpenCV/GStreamer whenever out = s * in.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "lerf/image.hpp"

namespace lerf {

// Per-axis scale factor, output pixels per input pixel.
struct Scale {
  double h = 1.0;  // vertical
  double w = 1.0;  // horizontal
};

// ceil(s * n), robust to the floating-point noise of s * n landing just above an integer.
int scaled_length(int n, double s);
Size scaled_size(Size in, Scale s);

// Parses "2", "1.5", "2x3" (SHxSW) into a Scale; nullopt when malformed or not > 0.
std::optional<Scale> parse_scale(const std::string& text);
// Parses "WxH" into a Size; nullopt when malformed or not positive.
std::optional<Size> parse_size(const std::string& text);

// Row-major 3x3 matrix acting on homogeneous column vectors (x, y, 1).
struct Matrix3 {
  std::array<double, 9> m{1, 0, 0, 0, 1, 0, 0, 0, 1};

  static Matrix3 identity() { return {}; }
  static Matrix3 affine_axes(double ax, double bx, double ay, double by) {
    return {{ax, 0, bx, 0, ay, by, 0, 0, 1}};
  }
  double operator()(int r, int c) const { return m[r * 3 + c]; }
  Matrix3 operator*(const Matrix3& o) const;
  double determinant() const;
  // Throws lerf::Error when the matrix is singular (or not finite).
  Matrix3 inverse() const;
  bool is_finite() const;
};

// Maps output pixel centres to input coordinates: (u, v, w) = M (x, y, 1), input = (u / w, v / w).
struct CoordinateMap {
  Matrix3 out_to_in;

  // True when the map is x -> a x + b, y -> c y + d (rescaling): the fast separable path.
  bool is_separable() const;
  // Output pixels per input pixel along each axis of a separable map (1 / a, 1 / c).
  Scale separable_scale() const;
};

// The rescaling map of the convention above for an explicit scale (the output size may be
// ceil(s * in)); with only sizes known use scale = out / in.
CoordinateMap resize_map(Size in, Size out, Scale scale);
CoordinateMap resize_map(Size in, Size out);

// A warp given as the matrix taking input pixels (x, y, 1) to output pixels, as OpenCV's
// warpPerspective does; the map stores its inverse. Throws lerf::Error when singular.
CoordinateMap warp_map(const Matrix3& in_to_out);

// How chroma samples of a subsampled plane sit relative to luma samples, per axis:
// centred between luma samples (JPEG / MPEG-1, GStreamer's "jpeg") or co-sited with the
// first (MPEG-2 horizontally, GStreamer's "mpeg2" = left co-sited, centred vertically).
struct PlaneSampling {
  int sub_x = 1;  // subsampling factor of this plane relative to the frame grid
  int sub_y = 1;
  bool cosited_x = false;
  bool cosited_y = false;
};

// Converts a map between full-resolution (luma) grids into the map of a plane sampled as
// given: plane pixel c lies on the luma grid at sub * c + offset.
CoordinateMap plane_map(const CoordinateMap& luma_map, const PlaneSampling& sampling);

}  // namespace lerf
