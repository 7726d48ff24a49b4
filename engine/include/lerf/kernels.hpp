// Classical and LeRF kernel maths for the CPU, from the same source as the shaders.
#pragma once

#include <algorithm>
#include <cmath>

#include "lerf/methods.hpp"

namespace lerf::kernels {

using std::abs;
using std::ceil;
using std::exp;
using std::max;
using std::min;
using std::sin;
using std::sqrt;

#define LERF_FN inline
#include "lerf/shared/kernels.inc"
#undef LERF_FN

// A classical separable kernel as data: its support radius and its function.
struct Classical {
  Method method;
  float radius;  // in input pixels at scale >= 1
  float cubic_a;
  float operator()(float x) const {
    switch (method) {
      case Method::Bilinear: return lerf_kernel_linear(x);
      case Method::Bicubic: return lerf_kernel_cubic(x, cubic_a);
      case Method::Lanczos: return lerf_kernel_lanczos3(x);
      default: return abs(x) < 0.5f ? 1.0f : 0.0f;  // nearest as a box (only used when sampled)
    }
  }
};

// Throws lerf::Error for non-classical methods.
Classical classical_kernel(Method m, float cubic_a = -0.5f);

}  // namespace lerf::kernels
