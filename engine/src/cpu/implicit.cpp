// LIIF, A-LIIF, LMF on the CPU: the geometry every path shares (queries, borders, cells,
// downscaling, CMSR) and the plain reference maths of docs/IMPLICIT.md, written as scalar
// loops that follow the definition line by line. The fast path (implicit_fast.cpp) is tested
// against it (tests/test_implicit.cpp).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "fast_paths.hpp"
#include "imlut_cpu.hpp"
#include "implicit_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/thread_pool.hpp"

namespace lerf::cpu {

namespace {

float keys(float x) {  // Keys cubic, a = -0.5
  constexpr float a = -0.5f;
  x = std::abs(x);
  if (x <= 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
  if (x < 2.0f) return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
  return 0.0f;
}

float clip_cell(double c) { return static_cast<float>(std::isfinite(c) ? std::clamp(c, 0.25, 1.0) : 1.0); }

}  // namespace

float implicit_base(ConstPlaneView in, int channel, float qx, float qy) {
  const int fx = static_cast<int>(std::floor(qx)), fy = static_cast<int>(std::floor(qy));
  float wx[4], wy[4];
  for (int i = 0; i < 4; ++i) {
    wx[i] = keys(qx - static_cast<float>(fx - 1 + i));
    wy[i] = keys(qy - static_cast<float>(fy - 1 + i));
  }
  float acc = 0;
  for (int j = 0; j < 4; ++j) {
    const std::uint8_t* row = in.row(std::clamp(fy - 1 + j, 0, in.height - 1));
    float r = 0;
    for (int i = 0; i < 4; ++i)
      r += wx[i] * implicit_input(row[std::clamp(fx - 1 + i, 0, in.width - 1) * in.channels + channel]);
    acc += wy[j] * r;
  }
  return acc;
}

void implicit_corners(float qx, float qy, int W, int H, ImplicitCorners& c) {
  const int fx = static_cast<int>(std::floor(qx)), fy = static_cast<int>(std::floor(qy));
  float area[4], sum = 0;
  for (int k = 0; k < 4; ++k) {
    const int di = k & 1, dj = k >> 1;
    c.x[k] = std::clamp(fx + di, 0, W - 1);
    c.y[k] = std::clamp(fy + dj, 0, H - 1);
    c.rx[k] = qx - static_cast<float>(c.x[k]);
    c.ry[k] = qy - static_cast<float>(c.y[k]);
    area[k] = std::abs(c.rx[k] * c.ry[k]) + 1e-9f;
    sum += area[k];
  }
  for (int k = 0; k < 4; ++k) c.w[k] = area[3 - k] / sum;
  c.nx = std::clamp(static_cast<int>(std::floor(qx + 0.5f)), 0, W - 1);
  c.ny = std::clamp(static_cast<int>(std::floor(qy + 0.5f)), 0, H - 1);
}

// ---- the reference maths -------------------------------------------------------------

namespace {

// out = conv3x3(in) + bias, zero padding; in / out are pixel-major (HWC).
void ref_conv(const std::vector<float>& in, int W, int H, const DenseLayer& l, std::vector<float>& out,
              ThreadPool& pool) {
  out.assign(static_cast<std::size_t>(W) * H * l.out, 0.0f);
  pool.parallel_for(H, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < W; ++x)
        for (int o = 0; o < l.out; ++o) {
          float acc = l.b[o];
          for (int ci = 0; ci < l.in; ++ci)
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int yy = y + ky - 1, xx = x + kx - 1;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                acc += l.w[((static_cast<std::size_t>(o) * l.in + ci) * 3 + ky) * 3 + kx] *
                       in[(static_cast<std::size_t>(yy) * W + xx) * l.in + ci];
              }
          out[(static_cast<std::size_t>(y) * W + x) * l.out + o] = acc;
        }
  });
}

// y = W x + b (torch Linear), optionally ReLU.
void ref_dense(const DenseLayer& l, const float* x, float* y, bool relu) {
  for (int o = 0; o < l.out; ++o) {
    float acc = l.b[o];
    for (int i = 0; i < l.in; ++i) acc += l.w[static_cast<std::size_t>(o) * l.in + i] * x[i];
    y[o] = relu ? std::max(acc, 0.0f) : acc;
  }
}

// U(p): the 3x3 neighbourhood of F, zero outside, in unfold order c * 9 + k.
std::vector<float> ref_unfold(const float* F, int W, int H, int C, int px, int py) {
  std::vector<float> u(static_cast<std::size_t>(9) * C, 0.0f);
  for (int c = 0; c < C; ++c)
    for (int k = 0; k < 9; ++k) {
      const int x = px + k % 3 - 1, y = py + k / 3 - 1;
      if (x >= 0 && x < W && y >= 0 && y < H) u[c * 9 + k] = F[(static_cast<std::size_t>(y) * W + x) * C + c];
    }
  return u;
}

std::vector<float> ref_latent(const ImplicitModel& m, const float* F, int W, int H, int px, int py) {
  auto u = ref_unfold(F, W, H, m.channels, px, py);
  std::vector<float> h(m.latent_hidden), lat(m.latent_dim());
  ref_dense(m.mlp[0], u.data(), h.data(), true);
  ref_dense(m.mlp[1], h.data(), lat.data(), false);
  return lat;
}

float ref_liif(const ImplicitModel& m, std::vector<float> z) {
  std::vector<float> h;
  for (std::size_t l = 0; l < m.mlp.size(); ++l) {
    h.assign(m.mlp[l].out, 0.0f);
    ref_dense(m.mlp[l], z.data(), h.data(), l + 1 < m.mlp.size());
    z = h;
  }
  return z[0];
}

float ref_aliif(const ImplicitModel& m, const std::vector<float>& z) {
  std::vector<float> e = z, h;
  for (std::size_t l = 0; l < m.mlp.size(); ++l) {
    h.assign(m.mlp[l].out, 0.0f);
    ref_dense(m.mlp[l], e.data(), h.data(), l + 1 < m.mlp.size());
    e = h;
  }
  double norm = 0;
  for (float v : e) norm += double(v) * v;
  const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(norm)), 1e-12f);
  const int K = m.basis;
  std::vector<float> x = z;
  for (std::size_t l = 0; l < m.basis_layers.size(); ++l) {
    const DenseLayer& bl = m.basis_layers[l];
    DenseLayer mixed{bl.in, bl.out, std::vector<float>(static_cast<std::size_t>(bl.out) * bl.in, 0.0f),
                     std::vector<float>(bl.out, 0.0f)};
    for (int j = 0; j < K; ++j) {
      const float cj = e[j] * inv;
      for (std::size_t i = 0; i < mixed.w.size(); ++i) mixed.w[i] += cj * bl.w[j * mixed.w.size() + i];
      for (int o = 0; o < bl.out; ++o) mixed.b[o] += cj * bl.b[j * bl.out + o];
    }
    std::vector<float> y(bl.out);
    ref_dense(mixed, x.data(), y.data(), l + 1 < m.basis_layers.size());
    x = y;
  }
  return x[0];
}

}  // namespace

void implicit_ref_encode(const ImplicitModel& m, ConstPlaneView in, int channel, std::vector<float>& F,
                         ThreadPool& pool) {
  const int W = in.width, H = in.height;
  std::vector<float> x(static_cast<std::size_t>(W) * H), h, b, t, u;
  for (int y = 0; y < H; ++y)
    for (int i = 0; i < W; ++i) x[static_cast<std::size_t>(y) * W + i] = implicit_input(in.row(y)[i * in.channels + channel]);
  ref_conv(x, W, H, m.head, h, pool);
  b = h;
  for (int i = 0; i < m.blocks; ++i) {
    ref_conv(b, W, H, m.conv1[i], t, pool);
    for (float& v : t) v = std::max(v, 0.0f);
    ref_conv(t, W, H, m.conv2[i], u, pool);
    for (std::size_t k = 0; k < b.size(); ++k) b[k] += u[k];
  }
  ref_conv(b, W, H, m.tail, F, pool);
  for (std::size_t k = 0; k < F.size(); ++k) F[k] += h[k];
}

float implicit_ref_mod(const ImplicitModel& m, const float* F, int W, int H, int px, int py) {
  auto lat = ref_latent(m, F, W, H, px, py);
  const int n = m.render_layers * m.render_hidden;
  float s = 0;
  for (int i = 0; i < n; ++i) s += std::abs(lat[n + i]);
  return s / static_cast<float>(n);
}

float implicit_ref_eval(Method method, const ImplicitModel& m, const float* F, ConstPlaneView in, int channel,
                        const ImplicitQuery& q) {
  const int W = in.width, H = in.height;
  ImplicitCorners c;
  implicit_corners(q.qx, q.qy, W, H, c);
  std::vector<float> modulation;
  if (method == Method::Lmf) modulation = ref_latent(m, F, W, H, c.nx, c.ny);
  float residual = 0;
  for (int k = 0; k < 4; ++k) {
    float d = 0;
    if (method == Method::Lmf) {
      const int R = m.render_hidden, L = m.render_layers;
      auto lat = ref_latent(m, F, W, H, c.x[k], c.y[k]);
      std::vector<float> x(lat.begin() + 2 * L * R, lat.end()), h;
      x.insert(x.end(), {c.rx[k], c.ry[k], q.cx, q.cy});
      for (int l = 0; l < L; ++l) {
        h.assign(R, 0.0f);
        ref_dense(m.render[l], x.data(), h.data(), false);
        for (int i = 0; i < R; ++i)
          h[i] = std::max(h[i] * (1.0f + modulation[l * R + i]) + modulation[(L + l) * R + i], 0.0f);
        x = h;
      }
      ref_dense(m.render[L], x.data(), &d, false);
    } else {
      auto z = ref_unfold(F, W, H, m.channels, c.x[k], c.y[k]);
      z.insert(z.end(), {c.rx[k], c.ry[k], q.cx, q.cy});
      d = method == Method::Liif ? ref_liif(m, std::move(z)) : ref_aliif(m, z);
    }
    residual += c.w[k] * d;
  }
  return implicit_base(in, channel, q.qx, q.qy) + residual;
}

// ---- the backend state and the shared geometry -----------------------------------------

ImplicitCpu::ImplicitCpu(const MethodSetup& setup, bool fast) : setup_(setup) {
  if (!setup.model) throw Error(std::string(method_name(setup.method)) + " needs a model");
  if (fast) {
    net_ = make_implicit_fast_net(setup.method, setup.model->implicit);
    MethodSetup bs = setup;
    bs.method = Method::Bicubic;
    bs.model = nullptr;
    bicubic_ = std::make_unique<FastCpu>(bs);
  }
}

ImplicitCpu::~ImplicitCpu() = default;

namespace {
// The most memory an analysis may take: LERF_MAX_ANALYSIS_MB, else half the physical memory.
std::size_t analysis_memory_limit() {
  if (const char* e = std::getenv("LERF_MAX_ANALYSIS_MB"); e && *e)
    return static_cast<std::size_t>(std::max(0.0, std::atof(e)) * 1024 * 1024);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::numeric_limits<std::size_t>::max();
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 2;
}
}  // namespace

std::shared_ptr<const PlaneAnalysis> ImplicitCpu::analyse(ConstPlaneView in, ThreadPool& pool) {
  const std::size_t need =
      implicit_analysis_bytes(setup_.method, setup_.model->implicit, in.width, in.height, in.channels, net_ != nullptr);
  if (const std::size_t limit = analysis_memory_limit(); need > limit)
    throw Error(std::string(method_name(setup_.method)) + ": a " + std::to_string(in.width) + "x" +
                std::to_string(in.height) + " plane of " + std::to_string(in.channels) + " channel(s) needs about " +
                std::to_string(need >> 20) + " MiB for its analysis, more than the limit of " +
                std::to_string(limit >> 20) +
                " MiB (half the physical memory, or LERF_MAX_ANALYSIS_MB); use a smaller input or a LUT method");
  auto a = std::make_shared<ImplicitAnalysis>();
  a->input_size = in.size();
  a->channels = in.channels;
  a->fast = net_ != nullptr;
  a->field.resize(in.channels);
  a->mod.resize(in.channels);
  for (int c = 0; c < in.channels; ++c) {
    if (net_) implicit_fast_analyse(*net_, in, c, a->field[c], a->mod[c], pool);
    else implicit_ref_encode(setup_.model->implicit, in, c, a->field[c], pool);
  }
  return a;
}

void ImplicitCpu::render(const PlaneAnalysis& analysis, const PlaneJob& job, ThreadPool& pool) {
  const auto& an = static_cast<const ImplicitAnalysis&>(analysis);
  if (an.fast != (net_ != nullptr)) throw Error("analysis does not belong to this backend's path");
  const ImplicitModel& m = setup_.model->implicit;
  const Method method = setup_.method;
  const auto& out = job.out;
  const int ch = job.in.channels, W = job.in.width, H = job.in.height;
  stats_ = {};
  stats_.output_pixels = static_cast<long long>(out.width) * out.height * ch;

  const bool separable = job.map.is_separable();
  const Scale s = separable ? job.map.separable_scale() : Scale{};
  if (separable && (s.w < 1 - 1e-9 || s.h < 1 - 1e-9)) {
    // Downscaling: the implicit methods are upsamplers (docs/IMPLICIT.md).
    stats_.classical = true;
    const auto kernel = kernels::classical_kernel(Method::Bicubic, setup_.cubic_a);
    if (bicubic_) bicubic_->render_classical(kernel, job, pool);
    else render_classical(kernel, job, pool);
    return;
  }
  const float sep_cx = separable ? clip_cell(1.0 / s.w) : 1.0f, sep_cy = separable ? clip_cell(1.0 / s.h) : 1.0f;

  // Query of output pixel (ox, oy); false: the border value. u, v: the clamped coordinate.
  auto query_of = [&](int ox, int oy, ImplicitQuery& q, double& u, double& v) {
    if (!map_point(job.map.out_to_in, ox, oy, u, v)) return false;
    if (job.border == Border::Constant && !inside_plane(u, v, W, H)) return false;
    u = std::clamp(u, -0.5, W - 0.5);
    v = std::clamp(v, -0.5, H - 0.5);
    q.qx = static_cast<float>(u);
    q.qy = static_cast<float>(v);
    if (separable) {
      q.cx = sep_cx, q.cy = sep_cy;
    } else {
      const double ls = imlut_local_scale(job.map, ox, oy);
      q.cx = q.cy = clip_cell(ls > 0 ? 1.0 / ls : 1.0);
    }
    return true;
  };
  // Where a warp minifies, the pixel gets the antialiased classical bicubic (written here), as
  // a downscaling rescale does: the implicit methods are upsamplers.
  const auto bicubic = kernels::classical_kernel(Method::Bicubic, setup_.cubic_a);
  auto warp_minified = [&](int ox, int oy) {
    double u = 0, v = 0;  // valid: query_of succeeded
    map_point(job.map.out_to_in, ox, oy, u, v);
    float su, sv;
    warp_stretch(job.map.out_to_in, ox, oy, u, v, su, sv);
    if (su <= 1.0f && sv <= 1.0f) return false;
    classical_warp_pixel(bicubic, job, u, v, su, sv, job.out.row(oy) + ox * ch);
    return true;
  };
  auto eval = [&](int c, const ImplicitQuery* q, int n, float* y) {
    if (net_) return implicit_fast_eval(*net_, an.field[c].data(), job.in, c, q, n, y);
    for (int i = 0; i < n; ++i) y[i] = implicit_ref_eval(method, m, an.field[c].data(), job.in, c, q[i]);
  };
  auto write = [&](int c, const ImplicitQuery& q, float y, std::uint8_t* dst) {
    *dst = implicit_byte(y, std::isfinite(y) ? 0.0f : implicit_base(job.in, c, q.qx, q.qy));
  };
  constexpr int kBlock = 64;

  const CmsrTable* table = nullptr;
  if (method == Method::Lmf && setup_.cmsr && separable) {
    table = m.cmsr_table(std::max(s.w, s.h));
    if (table && table->levels.empty()) table = nullptr;
  }
  if (!table) {
    std::vector<long long> rendered(out.height, 0), minified(out.height, 0);
    pool.parallel_for(out.height, [&](int y0, int y1) {
      std::vector<ImplicitQuery> qs(out.width);
      std::vector<int> xs(out.width);
      std::vector<float> ys(out.width);
      for (int oy = y0; oy < y1; ++oy) {
        std::uint8_t* dst = out.row(oy);
        int n = 0;
        for (int ox = 0; ox < out.width; ++ox) {
          double u = 0, v = 0;
          if (!query_of(ox, oy, qs[n], u, v)) {
            for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
          } else if (!separable && warp_minified(ox, oy)) {
            ++minified[oy];
          } else {
            xs[n++] = ox;
          }
        }
        for (int c = 0; c < ch; ++c) {
          for (int i = 0; i < n; i += kBlock) eval(c, &qs[i], std::min(kBlock, n - i), &ys[i]);
          for (int i = 0; i < n; ++i) write(c, qs[i], ys[i], &dst[xs[i] * ch + c]);
        }
        rendered[oy] = static_cast<long long>(n) * ch;
      }
    });
    for (auto r : rendered) stats_.rendered_full += r;
    for (auto r : minified) stats_.classical_pixels += r * ch;
    return;
  }

  // CMSR: pixels whose nearest LR pixel is smooth enough (mod below a level's threshold) are
  // bilinear samples of a coarser rendering; the fast path renders only the coarse pixels
  // those samples touch, the reference whole coarse images.
  stats_.cmsr = true;
  const int nl = static_cast<int>(table->levels.size());
  struct Coarse {
    double d, bx, by;
    Size size;
    CoordinateMap map;
    float cell;
    std::vector<float> y;
    std::vector<std::uint8_t> need;
  };
  std::vector<Coarse> coarse(nl);
  for (int j = 0; j < nl; ++j) {
    Coarse& cs = coarse[j];
    cs.d = table->levels[j].decode_scale;
    cs.size = scaled_size(job.in.size(), Scale{cs.d, cs.d});
    cs.map = resize_map(job.in.size(), cs.size, Scale{cs.d, cs.d});
    cs.bx = (W - 1) / 2.0 - (cs.size.width - 1) / (2.0 * cs.d);
    cs.by = (H - 1) / 2.0 - (cs.size.height - 1) / (2.0 * cs.d);
    cs.cell = clip_cell(1.0 / cs.d);
  }
  std::vector<std::int8_t> level(static_cast<std::size_t>(out.width) * out.height);
  for (int c = 0; c < ch; ++c) {
    // 1. the level of every output pixel: -2 border, -1 full rendering, j coarse level j.
    pool.parallel_for(out.height, [&](int y0, int y1) {
      for (int oy = y0; oy < y1; ++oy)
        for (int ox = 0; ox < out.width; ++ox) {
          ImplicitQuery q;
          double u = 0, v = 0;
          std::int8_t lv = -2;
          if (query_of(ox, oy, q, u, v)) {
            ImplicitCorners cr;
            implicit_corners(q.qx, q.qy, W, H, cr);
            const float md = net_ ? an.mod[c][static_cast<std::size_t>(cr.ny) * W + cr.nx]
                                  : implicit_ref_mod(m, an.field[c].data(), W, H, cr.nx, cr.ny);
            lv = -1;
            for (int j = 0; j < nl; ++j)
              if (md < table->levels[j].threshold) {
                lv = static_cast<std::int8_t>(j);
                break;
              }
          }
          level[static_cast<std::size_t>(oy) * out.width + ox] = lv;
        }
    });
    // 2. the coarse pixels needed (the fast path), rendered.
    auto coarse_taps = [&](const Coarse& cs, double u, double v, int* tx, int* ty, float& fx, float& fy) {
      const double jx = (u - cs.bx) * cs.d, jy = (v - cs.by) * cs.d;
      const double x0 = std::floor(jx), y0 = std::floor(jy);
      fx = static_cast<float>(jx - x0), fy = static_cast<float>(jy - y0);
      tx[0] = std::clamp(static_cast<int>(x0), 0, cs.size.width - 1);
      tx[1] = std::clamp(static_cast<int>(x0) + 1, 0, cs.size.width - 1);
      ty[0] = std::clamp(static_cast<int>(y0), 0, cs.size.height - 1);
      ty[1] = std::clamp(static_cast<int>(y0) + 1, 0, cs.size.height - 1);
    };
    for (int j = 0; j < nl; ++j) {
      Coarse& cs = coarse[j];
      cs.need.assign(static_cast<std::size_t>(cs.size.width) * cs.size.height, net_ ? 0 : 1);
      if (net_)
        for (int oy = 0; oy < out.height; ++oy)
          for (int ox = 0; ox < out.width; ++ox) {
            if (level[static_cast<std::size_t>(oy) * out.width + ox] != j) continue;
            ImplicitQuery q;
            double u = 0, v = 0;
            query_of(ox, oy, q, u, v);
            int tx[2], ty[2];
            float fx, fy;
            coarse_taps(cs, u, v, tx, ty, fx, fy);
            for (int b = 0; b < 4; ++b) cs.need[static_cast<std::size_t>(ty[b >> 1]) * cs.size.width + tx[b & 1]] = 1;
          }
      std::vector<int> todo;
      for (std::size_t i = 0; i < cs.need.size(); ++i)
        if (cs.need[i]) todo.push_back(static_cast<int>(i));
      cs.y.assign(cs.need.size(), 0.0f);
      stats_.rendered_coarse += static_cast<long long>(todo.size());
      pool.parallel_for((static_cast<int>(todo.size()) + kBlock - 1) / kBlock, [&](int b0, int b1) {
        ImplicitQuery qs[kBlock];
        float ys[kBlock];
        for (int b = b0; b < b1; ++b) {
          const int first = b * kBlock, n = std::min(kBlock, static_cast<int>(todo.size()) - first);
          for (int i = 0; i < n; ++i) {
            const int px = todo[first + i] % cs.size.width, py = todo[first + i] / cs.size.width;
            double u = 0, v = 0;
            map_point(cs.map.out_to_in, px, py, u, v);
            qs[i] = {static_cast<float>(std::clamp(u, -0.5, W - 0.5)), static_cast<float>(std::clamp(v, -0.5, H - 0.5)),
                     cs.cell, cs.cell};
          }
          eval(c, qs, n, ys);
          for (int i = 0; i < n; ++i) cs.y[todo[first + i]] = ys[i];
        }
      });
    }
    // 3. the output: full renderings and bilinear samples of the coarse ones.
    std::vector<long long> full(out.height, 0), skipped(out.height, 0);
    pool.parallel_for(out.height, [&](int y0, int y1) {
      std::vector<ImplicitQuery> qs(out.width);
      std::vector<int> xs(out.width);
      std::vector<float> ys(out.width);
      for (int oy = y0; oy < y1; ++oy) {
        std::uint8_t* dst = out.row(oy);
        int n = 0;
        for (int ox = 0; ox < out.width; ++ox) {
          const int lv = level[static_cast<std::size_t>(oy) * out.width + ox];
          ImplicitQuery q;
          double u = 0, v = 0;
          if (lv == -2) {
            dst[ox * ch + c] = job.border_value[c];
            continue;
          }
          query_of(ox, oy, q, u, v);
          if (lv == -1) {
            qs[n] = q;
            xs[n++] = ox;
            continue;
          }
          const Coarse& cs = coarse[lv];
          int tx[2], ty[2];
          float fx, fy;
          coarse_taps(cs, u, v, tx, ty, fx, fy);
          auto at = [&](int a, int b) { return cs.y[static_cast<std::size_t>(ty[b]) * cs.size.width + tx[a]]; };
          const float y = (1.0f - fy) * ((1.0f - fx) * at(0, 0) + fx * at(1, 0)) + fy * ((1.0f - fx) * at(0, 1) + fx * at(1, 1));
          write(c, q, y, &dst[ox * ch + c]);
          ++skipped[oy];
        }
        for (int i = 0; i < n; i += kBlock) eval(c, &qs[i], std::min(kBlock, n - i), &ys[i]);
        for (int i = 0; i < n; ++i) write(c, qs[i], ys[i], &dst[xs[i] * ch + c]);
        full[oy] = n;
      }
    });
    for (int oy = 0; oy < out.height; ++oy) stats_.rendered_full += full[oy], stats_.skipped += skipped[oy];
  }
}

}  // namespace lerf::cpu
