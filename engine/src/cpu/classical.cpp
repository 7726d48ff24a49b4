// Classical kernels on the CPU: the exact reference for every faster path.
#include <algorithm>
#include <cmath>

#include "cpu_methods.hpp"

namespace lerf::cpu {

AxisTaps classical_axis_taps(const kernels::Classical& kernel, int in_len, int out_len, double a, double b,
                             Border border) {
  AxisTaps t;
  t.inside.resize(out_len);
  if (kernel.method == Method::Nearest) {
    t.count = 1;
    t.index.resize(out_len);
    t.value.assign(out_len, 1.0f);
    for (int o = 0; o < out_len; ++o) {
      double x = safe_coordinate(a * o + b, in_len);
      t.index[o] = edge_index(static_cast<int>(std::floor(x + 0.5)), in_len, border);
      t.inside[o] = x >= -0.5 && x <= in_len - 0.5;
    }
    return t;
  }
  // Downscaling widens the kernel by 1 / scale (antialiasing, as MATLAB imresize does),
  // up to 1/1024 (a bound on the table size for absurd maps).
  double stretch = std::clamp(std::isfinite(a) ? a : 1.0, 1.0, 1024.0);
  double radius = kernel.radius * stretch;
  t.count = static_cast<int>(std::ceil(2 * radius)) + 1;
  t.index.assign(static_cast<std::size_t>(out_len) * t.count, 0);
  t.value.assign(static_cast<std::size_t>(out_len) * t.count, 0.0f);
  std::vector<double> w(t.count);
  for (int o = 0; o < out_len; ++o) {
    double x = safe_coordinate(a * o + b, in_len);
    t.inside[o] = x >= -0.5 && x <= in_len - 0.5;
    int lo = static_cast<int>(std::ceil(x - radius));
    double sum = 0;
    for (int k = 0; k < t.count; ++k) {
      w[k] = kernel(static_cast<float>((x - (lo + k)) / stretch));
      sum += w[k];
    }
    int* idx = &t.index[static_cast<std::size_t>(o) * t.count];
    float* val = &t.value[static_cast<std::size_t>(o) * t.count];
    if (!(std::abs(sum) > 1e-9)) {  // degenerate: fall back to the nearest sample
      for (int k = 0; k < t.count; ++k) idx[k] = edge_index(lo, in_len, border), val[k] = 0.0f;
      idx[0] = edge_index(static_cast<int>(std::floor(x + 0.5)), in_len, border);
      val[0] = 1.0f;
      continue;
    }
    // Taps clamped onto the same sample are merged, and the float weights are made to sum to
    // exactly 1, so flat regions (and 1-pixel-wide inputs) come out exactly flat.
    int main_tap = 0;
    float fsum = 0;
    for (int k = 0; k < t.count; ++k) {
      idx[k] = edge_index(lo + k, in_len, border);
      val[k] = static_cast<float>(w[k] / sum);
      for (int j = 0; j < k; ++j)
        if (idx[j] == idx[k]) {
          val[j] += val[k];
          val[k] = 0.0f;
          break;
        }
    }
    for (int k = 0; k < t.count; ++k) {
      fsum += val[k];
      if (val[k] > val[main_tap]) main_tap = k;
    }
    val[main_tap] += 1.0f - fsum;
  }
  return t;
}

namespace {

void render_separable(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool) {
  const auto& in = job.in;
  const auto& out = job.out;
  const auto& m = job.map.out_to_in.m;
  const int ch = in.channels;
  AxisTaps tx = classical_axis_taps(kernel, in.width, out.width, m[0], m[2], job.border);
  AxisTaps ty = classical_axis_taps(kernel, in.height, out.height, m[4], m[5], job.border);

  // Pass 1: horizontal, every input row -> float rows of the output width.
  const std::size_t row_len = static_cast<std::size_t>(out.width) * ch;
  std::vector<float> tmp(row_len * in.height);
  pool.parallel_for(in.height, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* src = in.row(y);
      float* dst = &tmp[row_len * y];
      for (int o = 0; o < out.width; ++o) {
        const int* idx = &tx.index[static_cast<std::size_t>(o) * tx.count];
        const float* wt = &tx.value[static_cast<std::size_t>(o) * tx.count];
        for (int c = 0; c < ch; ++c) {
          float s = 0;
          for (int k = 0; k < tx.count; ++k) s += wt[k] * src[idx[k] * ch + c];
          dst[o * ch + c] = s;
        }
      }
    }
  });
  // Pass 2: vertical, into the output rows.
  const bool constant = job.border == Border::Constant;
  pool.parallel_for(out.height, [&](int y0, int y1) {
    for (int oy = y0; oy < y1; ++oy) {
      std::uint8_t* dst = out.row(oy);
      const int* idx = &ty.index[static_cast<std::size_t>(oy) * ty.count];
      const float* wt = &ty.value[static_cast<std::size_t>(oy) * ty.count];
      for (std::size_t i = 0; i < row_len; ++i) {
        float s = 0;
        for (int k = 0; k < ty.count; ++k) s += wt[k] * tmp[row_len * idx[k] + i];
        dst[i] = to_byte(s);
      }
      if (constant) {
        for (int ox = 0; ox < out.width; ++ox)
          if (!ty.inside[oy] || !tx.inside[ox])
            for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
      }
    }
  });
}

// Arbitrary coordinates (warps): the kernel evaluated at each output pixel's input position.
void render_general(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool) {
  const auto& in = job.in;
  const auto& out = job.out;
  const int ch = in.channels;
  pool.parallel_for(out.height, [&](int y0, int y1) {
    for (int oy = y0; oy < y1; ++oy) {
      std::uint8_t* dst = out.row(oy);
      for (int ox = 0; ox < out.width; ++ox) {
        double u, v;
        bool valid = map_point(job.map.out_to_in, ox, oy, u, v);
        if (!valid || (job.border == Border::Constant && !inside_plane(u, v, in.width, in.height))) {
          for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
          continue;
        }
        float su, sv;
        warp_stretch(job.map.out_to_in, ox, oy, u, v, su, sv);
        classical_warp_pixel(kernel, job, u, v, su, sv, dst + ox * ch);
      }
    }
  });
}

}  // namespace

void classical_warp_pixel(const kernels::Classical& kernel, const PlaneJob& job, double u, double v, float su,
                          float sv, std::uint8_t* dst) {
  const auto& in = job.in;
  const int ch = in.channels;
  if (kernel.method == Method::Nearest) {
    const std::uint8_t* s = in.row(edge_index(static_cast<int>(std::floor(v + 0.5)), in.height, job.border)) +
                            edge_index(static_cast<int>(std::floor(u + 0.5)), in.width, job.border) * ch;
    for (int c = 0; c < ch; ++c) dst[c] = s[c];
    return;
  }
  constexpr int kMaxTaps = 2 * static_cast<int>(3 * LERF_WARP_MAX_STRETCH);  // lanczos3, widest
  float wx[kMaxTaps], wy[kMaxTaps];
  int ix[kMaxTaps], iy[kMaxTaps];
  const int rx = static_cast<int>(std::ceil(kernel.radius * su));
  const int ry = static_cast<int>(std::ceil(kernel.radius * sv));
  const int nx = 2 * rx, ny = 2 * ry;
  const int bx = static_cast<int>(std::floor(u)) - rx + 1, by = static_cast<int>(std::floor(v)) - ry + 1;
  float sx = 0, sy = 0;
  for (int k = 0; k < nx; ++k) {
    wx[k] = kernel(static_cast<float>(u - (bx + k)) / su);
    sx += wx[k];
    ix[k] = edge_index(bx + k, in.width, job.border);
  }
  for (int k = 0; k < ny; ++k) {
    wy[k] = kernel(static_cast<float>(v - (by + k)) / sv);
    sy += wy[k];
    iy[k] = edge_index(by + k, in.height, job.border);
  }
  for (int c = 0; c < ch; ++c) {
    float acc = 0;
    for (int j = 0; j < ny; ++j) {
      const std::uint8_t* row = in.row(iy[j]);
      float racc = 0;
      for (int k = 0; k < nx; ++k) racc += wx[k] * row[ix[k] * ch + c];
      acc += wy[j] * racc;
    }
    dst[c] = to_byte(acc / (sx * sy));
  }
}

void render_classical(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool) {
  if (job.map.is_separable()) render_separable(kernel, job, pool);
  else render_general(kernel, job, pool);
}

}  // namespace lerf::cpu
