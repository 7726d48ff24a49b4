// LeRF on the CPU: phase 1 runs the two LUT stages per channel; phase 2 blends each output
// pixel's neighbours with the steerable kernels those neighbours' hyperparameters describe.
#include <algorithm>
#include <cmath>

#include "cpu_methods.hpp"
#include "lerf/lerf_lut.hpp"

namespace lerf::cpu {

void analyse_lerf(const LutModel& lut, ConstPlaneView in, LerfAnalysis& out, ThreadPool& pool) {
  out.input_size = in.size();
  out.channels = in.channels;
  out.outputs = lut.stage2_outputs;
  out.filtered = Plane(in.width, in.height, in.channels);
  out.hyper.assign(static_cast<std::size_t>(in.width) * in.height * in.channels * out.outputs, 0);
  for (int c = 0; c < in.channels; ++c) {
    lerf_stage1(lut, in, c, out.filtered.view(), pool);
    lerf_stage2(lut, out.filtered.view(), c, out.hyper.data(), in.channels * out.outputs, pool);
  }
}

AxisTaps lerf_axis_taps(int in_len, int out_len, double a, double b, Border border, bool reference_ties) {
  // Upscaling: the 2 neighbours left = ceil(x - 1 - eps) and left + 1, distances in input
  // pixels. Downscaling by s: support widened to ceil(2 / s), distances multiplied by s.
  AxisTaps t;
  double s = std::isfinite(a) && a > 0 ? std::min(1.0, 1.0 / a) : 1.0;
  // Support ceil(2 / s), at most the 16 nearest samples (exact down to 1/8).
  t.count = s >= 1.0 ? 2 : static_cast<int>(std::min(16.0, std::ceil(2.0 / s)));
  t.index.resize(static_cast<std::size_t>(out_len) * t.count);
  t.value.resize(static_cast<std::size_t>(out_len) * t.count);
  t.inside.resize(out_len);
  for (int o = 0; o < out_len; ++o) {
    double x = safe_coordinate(a * o + b, in_len);
    t.inside[o] = x >= -0.5 && x <= in_len - 0.5;
    int left = static_cast<int>(std::ceil(x - t.count / 2.0 - 1e-4));
    for (int k = 0; k < t.count; ++k) {
      t.index[static_cast<std::size_t>(o) * t.count + k] = edge_index(left + k, in_len, border);
      float d = static_cast<float>((x - (left + k)) * s);
      if (reference_ties && s >= 1.0) {
        // At integer x (every third output at x3) the reference's double-precision x lands a
        // rounding error above or below the integer, so its distance-1 neighbour gets weight
        // 0 or 1 - a depending on noise: that is what its published LeRF-L x3 figure measures.
        double scale = std::round(1e6 / a) / 1e6;  // the user's scale (3, 2.5, ...), not 1 / (1 / 3)
        double xr = o / scale + (in_len - 1) / 2.0 - (out_len - 1) / (2 * scale);
        double dr = xr - (left + k);
        if (std::abs(dr) > 1.0) d = std::copysign(std::nextafter(1.0f, 2.0f), static_cast<float>(dr));
      }
      t.value[static_cast<std::size_t>(o) * t.count + k] = d;
    }
  }
  return t;
}

namespace {

constexpr int kMaxTaps = 16;  // per axis, as lerf_axis_taps

// Blends n neighbours (samples, hyperparameter pointers, row/column distances) of one channel.
struct Blender {
  bool gaussian;
  int channels;
  int outputs;

  float blend(int n, const std::uint8_t* const* samples, const std::uint8_t* const* hyper, const float* dr,
              const float* dc, int c) const {
    float w[kMaxTaps * kMaxTaps];
    float wsum = 0;
    if (gaussian) {
      float q[kMaxTaps * kMaxTaps];
      float qmin = 3.4e38f;
      for (int j = 0; j < n; ++j) {
        const std::uint8_t* h = hyper[j] + c * 3;
        q[j] = kernels::lerf_gauss_q(kernels::lerf_g_rho(h[0]), kernels::lerf_g_sigma(h[1]),
                                     kernels::lerf_g_sigma(h[2]), dr[j], dc[j]);
        qmin = std::min(qmin, q[j]);
      }
      for (int j = 0; j < n; ++j) wsum += (w[j] = std::exp(qmin - q[j]));
    } else {
      for (int j = 0; j < n; ++j) {
        float amp = kernels::lerf_l_amplitude(hyper[j][c]);
        wsum += (w[j] = kernels::lerf_amplified_linear(amp, dr[j]) * kernels::lerf_amplified_linear(amp, dc[j]));
      }
    }
    float acc = 0;
    if (wsum > 1e-20f) {
      for (int j = 0; j < n; ++j) acc += w[j] * samples[j][c];
      return acc / wsum;
    }
    // All weights zero (LeRF-L far from every neighbour): the nearest neighbour.
    int best = 0;
    for (int j = 1; j < n; ++j)
      if (std::abs(dr[j]) + std::abs(dc[j]) < std::abs(dr[best]) + std::abs(dc[best])) best = j;
    return samples[best][c];
  }
};

}  // namespace

void render_lerf(bool gaussian, const LerfAnalysis& an, const PlaneJob& job, ThreadPool& pool, bool reference_quirks) {
  const ConstPlaneView img = an.filtered.view();
  const auto& out = job.out;
  const int ch = img.channels;
  const int hstride = ch * an.outputs;
  const Blender blender{gaussian, ch, an.outputs};
  auto hyper_at = [&](int y, int x) { return an.hyper.data() + (static_cast<std::size_t>(y) * img.width + x) * hstride; };
  auto write_border = [&](std::uint8_t* px) {
    for (int c = 0; c < ch; ++c) px[c] = job.border_value[c];
  };

  if (job.map.is_separable()) {
    const auto& m = job.map.out_to_in.m;
    AxisTaps tx = lerf_axis_taps(img.width, out.width, m[0], m[2], job.border, reference_quirks);
    AxisTaps ty = lerf_axis_taps(img.height, out.height, m[4], m[5], job.border, reference_quirks);
    const int nx = std::min(tx.count, kMaxTaps), ny = std::min(ty.count, kMaxTaps);
    const int ox_off = (tx.count - nx) / 2, oy_off = (ty.count - ny) / 2;
    pool.parallel_for(out.height, [&](int y0, int y1) {
      const std::uint8_t* samples[kMaxTaps * kMaxTaps];
      const std::uint8_t* hyper[kMaxTaps * kMaxTaps];
      float dr[kMaxTaps * kMaxTaps], dc[kMaxTaps * kMaxTaps];
      const int n = nx * ny;
      for (int oy = y0; oy < y1; ++oy) {
        std::uint8_t* dst = out.row(oy);
        const int* iy = &ty.index[static_cast<std::size_t>(oy) * ty.count + oy_off];
        const float* vy = &ty.value[static_cast<std::size_t>(oy) * ty.count + oy_off];
        for (int ox = 0; ox < out.width; ++ox) {
          if (job.border == Border::Constant && (!tx.inside[ox] || !ty.inside[oy])) {
            write_border(dst + ox * ch);
            continue;
          }
          const int* ix = &tx.index[static_cast<std::size_t>(ox) * tx.count + ox_off];
          const float* vx = &tx.value[static_cast<std::size_t>(ox) * tx.count + ox_off];
          int j = 0;
          for (int a = 0; a < ny && j < n; ++a)
            for (int b = 0; b < nx && j < n; ++b, ++j) {
              samples[j] = img.row(iy[a]) + ix[b] * ch;
              hyper[j] = hyper_at(iy[a], ix[b]);
              dr[j] = vy[a];
              dc[j] = vx[b];
            }
          for (int c = 0; c < ch; ++c) dst[ox * ch + c] = to_byte(blender.blend(j, samples, hyper, dr, dc, c));
        }
      }
    });
    return;
  }

  // Warps: at every output pixel's own input coordinate, the 2x2 rule where the warp
  // magnifies; where it minifies along an axis, the downscaling rule of lerf_axis_taps with the
  // local stretch (kernels.inc lerf_warp_stretch) as 1 / s: ceil(2 stretch) taps, distances
  // divided by the stretch (antialiasing).
  pool.parallel_for(out.height, [&](int y0, int y1) {
    const std::uint8_t* samples[kMaxTaps * kMaxTaps];
    const std::uint8_t* hyper[kMaxTaps * kMaxTaps];
    float dr[kMaxTaps * kMaxTaps], dc[kMaxTaps * kMaxTaps];
    for (int oy = y0; oy < y1; ++oy) {
      std::uint8_t* dst = out.row(oy);
      for (int ox = 0; ox < out.width; ++ox) {
        double u, v;
        bool valid = map_point(job.map.out_to_in, ox, oy, u, v);
        if (!valid || (job.border == Border::Constant && !inside_plane(u, v, img.width, img.height))) {
          write_border(dst + ox * ch);
          continue;
        }
        float su, sv;
        warp_stretch(job.map.out_to_in, ox, oy, u, v, su, sv);
        const int nx = kernels::lerf_warp_taps(su), ny = kernels::lerf_warp_taps(sv);
        const int lx = static_cast<int>(kernels::lerf_warp_first_tap(static_cast<float>(u), nx));
        const int ly = static_cast<int>(kernels::lerf_warp_first_tap(static_cast<float>(v), ny));
        const float kx = 1.0f / su, ky = 1.0f / sv;
        int j = 0;
        for (int a = 0; a < ny; ++a)
          for (int b = 0; b < nx; ++b, ++j) {
            int yy = edge_index(ly + a, img.height, job.border), xx = edge_index(lx + b, img.width, job.border);
            samples[j] = img.row(yy) + xx * ch;
            hyper[j] = hyper_at(yy, xx);
            dr[j] = static_cast<float>(v - (ly + a)) * ky;
            dc[j] = static_cast<float>(u - (lx + b)) * kx;
          }
        for (int c = 0; c < ch; ++c) dst[ox * ch + c] = to_byte(blender.blend(j, samples, hyper, dr, dc, c));
      }
    }
  });
}

}  // namespace lerf::cpu
