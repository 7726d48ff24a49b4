// IM-LUT on the CPU: phase 1 looks up the mixing-logit tables per input pixel (all scale
// bins); phase 2 renders the K component interpolations and mixes them per output pixel with
// the softmax of the bin-interpolated, bilinearly interpolated logits (lerf/shared/imlut.inc).
#include <algorithm>
#include <cmath>

#include "fast_paths.hpp"
#include "imlut_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/imlut.hpp"
#include "lerf/lerf_lut.hpp"

namespace lerf {

void imlut_logit_sums(const ImLutModel& m, ConstPlaneView in, int channel, std::int16_t* acc, int stride,
                      ThreadPool& pool) {
  using namespace lerf::lut;
  const int cols = m.columns();
  const int ch = in.channels;
  pool.parallel_for(in.height, [&](int y0, int y1) {
    std::vector<int> sum(cols);
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < in.width; ++x) {
        std::fill(sum.begin(), sum.end(), 0);
        for (int p = 0; p < kLutPatterns; ++p) {
          const std::int8_t* table = m.tables[p].data();
          for (int r = 0; r < lerf_lut_rotations; ++r) {
            int s[4];
            for (int k = 0; k < 4; ++k) {
              auto o = rotate_offset(kLutPatternOffsets[p][k], r);
              int yy = std::clamp(y + o[0], 0, in.height - 1), xx = std::clamp(x + o[1], 0, in.width - 1);
              s[k] = in.row(yy)[xx * ch + channel];
            }
            const int f0 = s[0] & 15, f1 = s[1] & 15, f2 = s[2] & 15, f3 = s[3] & 15;
            const int r0 = lerf_simplex_rank(f0, f1, f2, f3, 0), r1 = lerf_simplex_rank(f0, f1, f2, f3, 1);
            const int r2 = lerf_simplex_rank(f0, f1, f2, f3, 2), r3 = lerf_simplex_rank(f0, f1, f2, f3, 3);
            int sorted[4], v[5], w[5];
            for (int k = 0; k < 4; ++k) sorted[k] = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, k);
            v[0] = (s[0] >> 4) * lerf_lut_stride(0) + (s[1] >> 4) * lerf_lut_stride(1) +
                   (s[2] >> 4) * lerf_lut_stride(2) + (s[3] >> 4);
            for (int k = 0; k < 4; ++k) v[k + 1] = v[k] + lerf_simplex_step(r0, r1, r2, r3, k);
            for (int k = 0; k < 5; ++k) w[k] = lerf_simplex_weight(sorted[0], sorted[1], sorted[2], sorted[3], k);
            for (int j = 0; j < 5; ++j) {
              if (w[j] == 0) continue;
              const std::int8_t* row = table + static_cast<std::size_t>(v[j]) * cols;
              for (int c = 0; c < cols; ++c) sum[c] += w[j] * row[c];
            }
          }
        }
        std::int16_t* dst = acc + (static_cast<std::size_t>(y) * in.width + x) * stride + channel * cols;
        for (int c = 0; c < cols; ++c) dst[c] = static_cast<std::int16_t>(sum[c]);
      }
  });
}

namespace cpu {

double imlut_local_scale(const CoordinateMap& map, int x, int y) {
  const auto& m = map.out_to_in.m;
  if (map.is_separable()) return std::sqrt(std::abs(1.0 / (m[0] * m[4])));
  double w = m[6] * x + m[7] * y + m[8];
  if (!(std::abs(w) > 1e-12)) return 0.0;
  double u = (m[0] * x + m[1] * y + m[2]) / w, v = (m[3] * x + m[4] * y + m[5]) / w;
  double ux = (m[0] - u * m[6]) / w, uy = (m[1] - u * m[7]) / w;
  double vx = (m[3] - v * m[6]) / w, vy = (m[4] - v * m[7]) / w;
  double det = std::abs(ux * vy - uy * vx);
  if (!(det > 0) || !std::isfinite(det)) return 0.0;
  return 1.0 / std::sqrt(det);
}

ImLutCpu::ImLutCpu(const MethodSetup& setup, bool fast) : setup_(setup) {
  if (!setup.model) throw Error("im-lut needs a model");
  if (fast)
    for (Method c : setup.model->imlut.components) {
      MethodSetup cs = setup;
      cs.method = c;
      fast_.push_back(std::make_unique<FastCpu>(cs));
    }
}

ImLutCpu::~ImLutCpu() = default;

std::shared_ptr<const PlaneAnalysis> ImLutCpu::analyse(ConstPlaneView in, ThreadPool& pool) {
  const MethodSetup& setup = setup_;
  const ImLutModel& m = setup.model->imlut;
  auto a = std::make_shared<ImLutAnalysis>();
  a->input_size = in.size();
  a->channels = in.channels;
  a->columns = m.columns();
  auto lerf_at = std::find(m.components.begin(), m.components.end(), Method::LerfG);
  if (lerf_at != m.components.end()) {
    if (!fast_.empty()) {
      a->lerf = fast_[lerf_at - m.components.begin()]->analyse_lerf(in, pool);
    } else {
      auto l = std::make_shared<LerfAnalysis>();
      analyse_lerf(setup.model->lut, in, *l, pool);
      a->lerf = l;
    }
  }
  if (!fast_.empty()) {
    a->deferred = true;
    return a;
  }
  a->acc.assign(static_cast<std::size_t>(in.width) * in.height * in.channels * a->columns, 0);
  for (int c = 0; c < in.channels; ++c) imlut_logit_sums(m, in, c, a->acc.data(), in.channels * a->columns, pool);
  return a;
}

void ImLutCpu::render_components(const ImLutAnalysis& an, const PlaneJob& job, ThreadPool& pool) {
  const ImLutModel& m = setup_.model->imlut;
  const int K = static_cast<int>(m.components.size());
  const auto& out = job.out;
  const int ch = job.in.channels;
  // The K component interpolations, each rounded to bytes by its own renderer.
  comp_.resize(K);
  for (int k = 0; k < K; ++k) {
    if (comp_[k].width() != out.width || comp_[k].height() != out.height || comp_[k].channels() != ch)
      comp_[k] = Plane(out.width, out.height, ch);
    PlaneJob cj = job;
    cj.out = comp_[k].view();
    Method cm = m.components[k];
    FastCpu* fast = fast_.empty() ? nullptr : fast_[k].get();
    if (cm == Method::LerfG) {
      const auto& la = static_cast<const LerfAnalysis&>(*an.lerf);
      if (fast) fast->render_lerf(true, la, cj, pool);
      else render_lerf(true, la, cj, pool);
    } else {
      auto kernel = kernels::classical_kernel(cm, setup_.cubic_a);
      if (fast) fast->render_classical(kernel, cj, pool);
      else render_classical(kernel, cj, pool);
    }
  }
}

void ImLutCpu::render(const PlaneAnalysis& analysis, const PlaneJob& job, ThreadPool& pool) {
  const ImLutModel& m = setup_.model->imlut;
  const auto& an = static_cast<const ImLutAnalysis&>(analysis);
  const int K = static_cast<int>(m.components.size());
  const int cols = an.columns;
  const auto& out = job.out;
  const int ch = job.in.channels;
  const int W = job.in.width, H = job.in.height;

  render_components(an, job, pool);
  if (an.deferred && job.map.is_separable()) return render_fast_separable(an, job, pool);
  std::vector<std::int16_t> deferred_acc;
  const std::int16_t* acc_data = an.acc.data();
  if (an.deferred) {  // fast path, warp: all the sums now
    deferred_acc.assign(static_cast<std::size_t>(W) * H * ch * cols, 0);
    for (int c = 0; c < ch; ++c) imlut_logit_sums(m, job.in, c, deferred_acc.data(), ch * cols, pool);
    acc_data = deferred_acc.data();
  }
  const std::vector<Plane>& comp = comp_;

  const bool separable = job.map.is_separable();
  const float t_sep = separable ? imlut_scale_position(m, imlut_local_scale(job.map, 0, 0)) : 0.0f;
  pool.parallel_for(out.height, [&](int y0, int y1) {
    float w[imlut::imlut_max_components];
    for (int oy = y0; oy < y1; ++oy) {
      std::uint8_t* dst = out.row(oy);
      for (int ox = 0; ox < out.width; ++ox) {
        double u, v;
        bool valid = map_point(job.map.out_to_in, ox, oy, u, v);
        if (!valid || (job.border == Border::Constant && !inside_plane(u, v, W, H))) {
          for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
          continue;
        }
        float t = separable ? t_sep : imlut_scale_position(m, imlut_local_scale(job.map, ox, oy));
        float fu = static_cast<float>(safe_coordinate(u, W)), fv = static_cast<float>(safe_coordinate(v, H));
        int lx = imlut::imlut_left(fu, W), ly = imlut::imlut_left(fv, H);
        float wx1 = imlut::imlut_frac(fu, W), wy1 = imlut::imlut_frac(fv, H);
        int rx = std::min(lx + 1, W - 1), ry = std::min(ly + 1, H - 1);
        const std::size_t px[4] = {static_cast<std::size_t>(ly) * W + lx, static_cast<std::size_t>(ly) * W + rx,
                                   static_cast<std::size_t>(ry) * W + lx, static_cast<std::size_t>(ry) * W + rx};
        for (int c = 0; c < ch; ++c) {
          const std::int16_t* a[4];
          for (int j = 0; j < 4; ++j) a[j] = acc_data + (px[j] * ch + c) * cols;
          imlut_weights(m, a, wx1, wy1, t, w);
          float acc = 0;
          for (int k = 0; k < K; ++k) acc += w[k] * comp[k].data()[oy * comp[k].stride() + ox * ch + c];
          dst[ox * ch + c] = to_byte(acc);
        }
      }
    }
  });
}

}  // namespace cpu
}  // namespace lerf
