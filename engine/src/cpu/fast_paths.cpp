#include "fast_paths.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "lerf/error.hpp"
#include "lerf/lerf_lut.hpp"
#include "simd_kernels.hpp"

namespace lerf::cpu {

namespace {

std::atomic<int> g_path{-1};

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

// Grows v to at least n elements (never shrinks), counting reallocations.
template <typename T>
T* ensure(std::vector<T>& v, std::size_t n, std::uint64_t& allocations) {
  if (v.size() < n) {
    if (v.capacity() < n) ++allocations;
    v.resize(n);
  }
  return v.data();
}

constexpr int kCacheEntries = 8;  // geometries kept per backend (I420 needs 2, NV12 2)

}  // namespace

CpuPath default_cpu_path() {
  int p = g_path.load();
  if (p >= 0) return static_cast<CpuPath>(p);
  const char* env = std::getenv("LERF_CPU_PATH");
  return env && std::string_view(env) == "reference" ? CpuPath::Reference : CpuPath::Fast;
}

void set_default_cpu_path(CpuPath path) { g_path.store(static_cast<int>(path)); }

struct FastCpu::ClassicalPlan {
  int in_w = 0, in_h = 0, out_w = 0, out_h = 0, ch = 0;
  double m[4] = {0, 0, 0, 0};
  Border border = Border::Clamp;
  Method method = Method::Nearest;  // the kernel the taps were made for
  float cubic_a = 0;
  std::uint64_t used = 0;
  AxisTaps tx, ty;
  int lanes = 0;            // SIMD lanes the permute tables were made for
  int row_len = 0;          // out_w * ch
  std::size_t stride = 0;   // row_len padded to kMaxLanes
  // Horizontal taps without the columns that are zero for every output (e.g. lanczos3's 7th).
  int htaps = 0;
  std::vector<std::int32_t> hoff;  // [k * stride + i]: input element of tap k of output element i
  std::vector<float> hwt;
  std::vector<std::int32_t> hbase, hlocal;  // permute tables (see simd::horizontal_pass)
  // Vertical taps, likewise trimmed: [oy * vtaps + k].
  int vtaps = 0;
  std::vector<int> vidx;
  std::vector<float> vwt;
  int ring = 1;  // rows of horizontally filtered input kept per band
};

namespace {
// Indices of the tap columns with a non-zero weight for some output.
std::vector<int> used_columns(const AxisTaps& t, int out_len) {
  std::vector<int> cols;
  for (int k = 0; k < t.count; ++k)
    for (int o = 0; o < out_len; ++o)
      if (t.value[static_cast<std::size_t>(o) * t.count + k] != 0.0f) {
        cols.push_back(k);
        break;
      }
  if (cols.empty()) cols.push_back(0);
  return cols;
}
}  // namespace

struct FastCpu::LerfPlan {
  int in_w = 0, in_h = 0, out_w = 0, out_h = 0, ch = 0;
  double m[4] = {0, 0, 0, 0};
  Border border = Border::Clamp;
  std::uint64_t used = 0;
  AxisTaps tx, ty;
  int nx = 2, ny = 2, ox_off = 0, oy_off = 0;
  std::size_t stride = 0;
  std::vector<std::int32_t> xoff;  // [b * stride + ox]: word index of neighbour b in a packed row
  std::vector<float> dc;
  int lanes = 0;                              // SIMD lanes the permute tables were made for
  std::vector<std::int32_t> xbase, xlocal;    // permute tables (see simd::LerfRowArgs)
  // Multi-channel planes: the same three tables in pixels instead of words, for rows decoded
  // one channel at a time (LeRF-G 2 x 2).
  std::vector<std::int32_t> pixel_xoff, pixel_xbase, pixel_xlocal;
  // Exactly 2x (simd::lerf_row_g4x2): output column 2 k + p reads inputs k - 1 + p + b
  // (clamped) at dc = dcm[2 p + b] / 4, output row oy's neighbour a lies at
  // dr = drm[2 oy + a] / 4 (every value in {+-1, +-3}).
  bool x2 = false;
  int dcm[4] = {};
  std::vector<std::int8_t> drm;
};

struct FastCpu::Band {
  std::vector<float> fin, ring, scratch;
  std::vector<int> tags;
  std::vector<const float*> rows;
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> words;
  std::vector<std::int8_t> pair_ring;  // partial sums of the rotation-pair LUT stages
  std::vector<float> decoded;          // LeRF-G: kDecodedRows decoded input rows (simd::lerf_decode_row)
};

namespace {
// Whether `lut` holds complete LeRF tables. An im-lut model without a lerf-g component has
// none (empty vectors), and its classical components never read them.
bool has_lut_tables(const LutModel& lut) {
  if (lut.stage2_outputs != 1 && lut.stage2_outputs != 3) return false;
  for (int p = 0; p < kLutPatterns; ++p) {
    if (lut.stage1[p].size() != static_cast<std::size_t>(kLutEntries)) return false;
    for (int d = 0; d < 2; ++d)
      if (lut.stage2[p][d].size() != static_cast<std::size_t>(kLutEntries) * lut.stage2_outputs) return false;
  }
  return true;
}
}  // namespace

FastCpu::FastCpu(const MethodSetup& setup) : setup_(setup) {
  // LeRF's tables only for the methods that look them up (lerf-g, lerf-l, an im-lut model's
  // lerf-g component), and only when the model has them.
  lut_ready_ = setup.model && (setup.method == Method::LerfG || setup.method == Method::LerfL) &&
               has_lut_tables(setup.model->lut);
  if (lut_ready_) {
    const auto& lut = setup.model->lut;
    for (int p = 0; p < kLutPatterns; ++p) {
      stage1_[p] = lut.stage1[p];
      stage1_[p].resize(stage1_[p].size() + 4, 0);
      for (int d = 0; d < 2; ++d) {
        stage2_[p][d] = lut.stage2[p][d];
        stage2_[p][d].resize(stage2_[p][d].size() + 4, 0);
      }
    }
  }
}

FastCpu::~FastCpu() = default;

std::vector<FastCpu::Band>& FastCpu::bands(int n) {
  if (static_cast<int>(bands_.size()) < n) {
    ++allocations_;
    bands_.resize(n);
  }
  return bands_;
}

// ---------------------------------------------------------------- classical, separable

const FastCpu::ClassicalPlan& FastCpu::classical_plan(const kernels::Classical& kernel, const PlaneJob& job) {
  const auto& mm = job.map.out_to_in.m;
  const double key[4] = {mm[0], mm[2], mm[4], mm[5]};
  ++tick_;
  for (auto& p : classical_plans_)
    if (p->in_w == job.in.width && p->in_h == job.in.height && p->out_w == job.out.width &&
        p->out_h == job.out.height && p->ch == job.in.channels && p->border == job.border &&
        p->method == kernel.method && p->cubic_a == kernel.cubic_a && p->lanes == simd::lanes_f32() &&
        std::equal(key, key + 4, p->m)) {
      p->used = tick_;
      return *p;
    }
  ++allocations_;
  auto plan = std::make_unique<ClassicalPlan>();
  ClassicalPlan& p = *plan;
  p.method = kernel.method, p.cubic_a = kernel.cubic_a;
  p.in_w = job.in.width, p.in_h = job.in.height, p.out_w = job.out.width, p.out_h = job.out.height;
  p.ch = job.in.channels, p.border = job.border, p.used = tick_;
  std::copy(key, key + 4, p.m);
  p.tx = classical_axis_taps(kernel, p.in_w, p.out_w, mm[0], mm[2], job.border);
  p.ty = classical_axis_taps(kernel, p.in_h, p.out_h, mm[4], mm[5], job.border);
  p.row_len = p.out_w * p.ch;
  p.stride = round_up(p.row_len, simd::kMaxLanes);
  // Skipping a tap whose weight is zero for every output leaves every sum bit-exact (+0 added).
  const std::vector<int> hcols = used_columns(p.tx, p.out_w), vcols = used_columns(p.ty, p.out_h);
  const int taps = p.htaps = static_cast<int>(hcols.size());
  p.hoff.assign(taps * p.stride, 0);
  p.hwt.assign(taps * p.stride, 0.0f);
  for (int o = 0; o < p.out_w; ++o)
    for (int c = 0; c < p.ch; ++c)
      for (int k = 0; k < taps; ++k) {
        const std::size_t t = static_cast<std::size_t>(o) * p.tx.count + hcols[k];
        p.hoff[k * p.stride + o * p.ch + c] = p.tx.index[t] * p.ch + c;
        p.hwt[k * p.stride + o * p.ch + c] = p.tx.value[t];
      }
  // Permute tables: blocks of `lanes` outputs whose taps lie within 2 * lanes inputs.
  p.lanes = simd::lanes_f32();
  const int nblocks = static_cast<int>(p.stride / p.lanes);
  p.hbase.assign(nblocks, -1);
  p.hlocal.assign(taps * p.stride, 0);
  for (int b = 0; b < nblocks; ++b) {
    int lo = 1 << 30, hi = -1;
    for (int k = 0; k < taps; ++k)
      for (int i = b * p.lanes; i < (b + 1) * p.lanes; ++i) {
        if (i >= p.row_len) continue;
        lo = std::min(lo, p.hoff[k * p.stride + i]);
        hi = std::max(hi, p.hoff[k * p.stride + i]);
      }
    if (hi < 0 || hi - lo >= 2 * p.lanes) continue;
    p.hbase[b] = lo;
    for (int k = 0; k < taps; ++k)
      for (int i = b * p.lanes; i < (b + 1) * p.lanes; ++i)
        p.hlocal[k * p.stride + i] = i < p.row_len ? p.hoff[k * p.stride + i] - lo : 0;
  }
  p.vtaps = static_cast<int>(vcols.size());
  p.vidx.resize(static_cast<std::size_t>(p.out_h) * p.vtaps);
  p.vwt.resize(static_cast<std::size_t>(p.out_h) * p.vtaps);
  for (int o = 0; o < p.out_h; ++o)
    for (int k = 0; k < p.vtaps; ++k) {
      p.vidx[static_cast<std::size_t>(o) * p.vtaps + k] = p.ty.index[static_cast<std::size_t>(o) * p.ty.count + vcols[k]];
      p.vwt[static_cast<std::size_t>(o) * p.vtaps + k] = p.ty.value[static_cast<std::size_t>(o) * p.ty.count + vcols[k]];
    }
  // The ring must hold every row one output row reads: the widest span of its tap rows.
  p.ring = 1;
  for (int o = 0; o < p.out_h; ++o) {
    const int* idx = &p.vidx[static_cast<std::size_t>(o) * p.vtaps];
    auto [lo, hi] = std::minmax_element(idx, idx + p.vtaps);
    p.ring = std::max(p.ring, *hi - *lo + 1);
  }
  if (classical_plans_.size() >= kCacheEntries) {
    auto lru = std::min_element(classical_plans_.begin(), classical_plans_.end(),
                                [](const auto& a, const auto& b) { return a->used < b->used; });
    *lru = std::move(plan);
    return **lru;
  }
  classical_plans_.push_back(std::move(plan));
  return *classical_plans_.back();
}

void FastCpu::render_classical(const kernels::Classical& kernel, const PlaneJob& job, ThreadPool& pool) {
  if (!job.map.is_separable()) {  // warps: per-pixel kernel evaluation, nothing to cache
    cpu::render_classical(kernel, job, pool);
    return;
  }
  const ClassicalPlan& p = classical_plan(kernel, job);
  const int nb = std::max(1, std::min(p.out_h, pool.size() * 4));
  auto& bs = bands(nb);
  // Allocate outside the parallel section so that the count stays exact.
  for (int b = 0; b < nb; ++b) {
    Band& band = bs[b];
    ensure(band.fin, static_cast<std::size_t>(p.in_w) * p.ch + 2 * simd::kMaxLanes, allocations_);
    ensure(band.ring, p.ring * p.stride, allocations_);
    ensure(band.tags, p.ring, allocations_);
    ensure(band.rows, p.vtaps, allocations_);
    if (kernel.method == Method::Nearest)
      ensure(band.bytes, static_cast<std::size_t>(p.in_w) * p.ch + 2 * simd::kMaxLanes, allocations_);
  }
  const bool constant = job.border == Border::Constant;
  auto border_fixup = [&](int oy, std::uint8_t* out) {
    if (constant)
      for (int ox = 0; ox < p.out_w; ++ox)
        if (!p.ty.inside[oy] || !p.tx.inside[ox])
          for (int c = 0; c < p.ch; ++c) out[ox * p.ch + c] = job.border_value[c];
  };
  if (kernel.method == Method::Nearest) {
    // One tap of weight 1: the float passes reproduce the sample exactly, so copying bytes is
    // bit-exact; an output row equal to the previous one's source row is a row copy.
    pool.parallel_for(nb, [&](int b0, int b1) {
      for (int b = b0; b < b1; ++b) {
        const int y0 = static_cast<int>(static_cast<long long>(p.out_h) * b / nb);
        const int y1 = static_cast<int>(static_cast<long long>(p.out_h) * (b + 1) / nb);
        for (int oy = y0; oy < y1; ++oy) {
          std::uint8_t* out = job.out.row(oy);
          if (oy > y0 && p.vidx[oy] == p.vidx[oy - 1] && p.ty.inside[oy] == p.ty.inside[oy - 1]) {
            std::memcpy(out, job.out.row(oy - 1), p.row_len);
            continue;
          }
          // The source row, copied where the permutes may read past its end.
          std::uint8_t* src = bs[b].bytes.data();
          std::memcpy(src, job.in.row(p.vidx[oy]), static_cast<std::size_t>(p.in_w) * p.ch);
          simd::nearest_row(src, p.hoff.data(), p.hbase.data(), p.hlocal.data(), p.row_len, out);
          border_fixup(oy, out);
        }
      }
    });
    return;
  }
  pool.parallel_for(nb, [&](int b0, int b1) {
    for (int b = b0; b < b1; ++b) {
      Band& band = bs[b];
      std::fill(band.tags.begin(), band.tags.begin() + p.ring, -1);
      const int y0 = static_cast<int>(static_cast<long long>(p.out_h) * b / nb);
      const int y1 = static_cast<int>(static_cast<long long>(p.out_h) * (b + 1) / nb);
      for (int oy = y0; oy < y1; ++oy) {
        const int* idx = &p.vidx[static_cast<std::size_t>(oy) * p.vtaps];
        const float* wt = &p.vwt[static_cast<std::size_t>(oy) * p.vtaps];
        for (int k = 0; k < p.vtaps; ++k) {
          const int r = idx[k], slot = r % p.ring;
          float* dst = band.ring.data() + slot * p.stride;
          if (band.tags[slot] != r) {
            simd::u8_to_f32(job.in.row(r), p.in_w * p.ch, band.fin.data());
            simd::horizontal_pass(band.fin.data(), p.hoff.data(), p.hbase.data(), p.hlocal.data(), p.hwt.data(),
                                  p.htaps, p.stride, p.row_len, dst);
            band.tags[slot] = r;
          }
          band.rows[k] = dst;
        }
        std::uint8_t* out = job.out.row(oy);
        simd::vertical_pass(band.rows.data(), wt, p.vtaps, p.row_len, out);
        border_fixup(oy, out);
      }
    }
  });
}

// ---------------------------------------------------------------- LeRF analysis

std::shared_ptr<const PlaneAnalysis> FastCpu::analyse_lerf(ConstPlaneView in, ThreadPool& pool) {
  if (!lut_ready_) throw Error("the CPU fast path has no LeRF tables for this model");
  // A pooled analysis nobody else holds, preferably of the same size.
  std::shared_ptr<LerfAnalysis> a;
  for (auto& p : analyses_)
    if (p.use_count() == 1 && p->input_size == in.size() && p->channels == in.channels) {
      a = p;
      break;
    }
  if (!a) {
    ++allocations_;
    a = std::make_shared<LerfAnalysis>();
    if (analyses_.size() < kCacheEntries) analyses_.push_back(a);
  }
  const int outputs = setup_.model->lut.stage2_outputs;
  const std::size_t pixels = static_cast<std::size_t>(in.width) * in.height;
  if (!(a->input_size == in.size()) || a->channels != in.channels || a->outputs != outputs) {
    ++allocations_;
    a->filtered = Plane(in.width, in.height, in.channels);
    a->hyper.assign(pixels * in.channels * outputs, 0);
    // Padded: the render's permutes read up to 2 * kMaxLanes words past a row's last neighbour.
    a->packed.assign(pixels * in.channels + 2 * simd::kMaxLanes, 0);
  }
  a->input_size = in.size();
  a->channels = in.channels;
  a->outputs = outputs;
  for (int c = 0; c < in.channels; ++c) lut_stage(in, c, *a, pool);
  return a;
}

void FastCpu::lut_stage(ConstPlaneView in, int channel, LerfAnalysis& out, ThreadPool& pool) {
  const int w = in.width, h = in.height, ch = in.channels;
  constexpr int kPad = simd::kLutPad;
  const std::size_t stride = round_up(static_cast<std::size_t>(w) + 4 * kPad, 64);
  const std::size_t plane_bytes = stride * (h + 2 * kPad);
  std::uint8_t* pin = ensure(padded_in_, plane_bytes, allocations_);
  std::uint8_t* pmid = ensure(padded_mid_, plane_bytes, allocations_);
  auto origin = [&](std::uint8_t* base) { return base + kPad * stride + kPad; };  // pixel (0, 0)
  // Edge padding by kPad (clamping, as the reference), and readable past the right edge.
  auto pad_rows = [&](std::uint8_t* base, auto&& interior_row) {
    for (int y = 0; y < h; ++y) {
      std::uint8_t* r = base + (y + kPad) * stride;
      interior_row(y, r + kPad);
      std::fill(r, r + kPad, r[kPad]);
      std::fill(r + kPad + w, r + stride, r[kPad + w - 1]);
    }
    for (int y = 0; y < kPad; ++y) std::memcpy(base + y * stride, base + kPad * stride, stride);
    for (int y = h + kPad; y < h + 2 * kPad; ++y) std::memcpy(base + y * stride, base + (h + kPad - 1) * stride, stride);
  };
  pad_rows(pin, [&](int y, std::uint8_t* dst) {
    const std::uint8_t* src = in.row(y) + channel;
    if (ch == 1) std::memcpy(dst, src, w);
    else
      for (int x = 0; x < w; ++x) dst[x] = src[x * ch];
  });

  const int outputs = out.outputs;
  // Rotation pairs where the target has them (AVX-512, AVX2): tables built on first use.
  const bool pairs = simd::lut_pairs_supported();
  if (pairs && !pairs_ready_) {
    ++allocations_;
    const auto& lut = setup_.model->lut;
    for (int p = 0; p < kLutPatterns; ++p) {
      pairs1_[p] = simd::lut_pair_cells(lut.stage1[p].data(), 1);
      for (int d = 0; d < 2; ++d) pairs2_[p][d] = simd::lut_pair_cells(lut.stage2[p][d].data(), outputs);
    }
    pairs_ready_ = true;
  }
  const int nb = std::max(1, std::min(h, pool.size() * 4));
  auto& bs = bands(nb);
  const std::size_t ring_bytes = 4 * simd::lut_pair_ring_row(w, 3) + 64;
  for (int b = 0; b < nb; ++b) {
    ensure(bs[b].words, static_cast<std::size_t>(w) + 4 * kPad, allocations_);
    if (pairs) ensure(bs[b].pair_ring, ring_bytes, allocations_);
  }

  auto args_for = [&](int stage) {
    simd::LutRowArgs args;
    args.width = w;
    args.outputs = stage == 1 ? 1 : outputs;
    args.stage = stage;
    for (int p = 0; p < kLutPatterns; ++p)
      for (int r = 0; r < 4; ++r) {
        const int t = p * 4 + r;
        args.luts[t] = stage == 1 ? stage1_[p].data() : stage2_[p][r & 1].data();
        for (int k = 0; k < 4; ++k) {
          auto o = rotate_offset(kLutPatternOffsets[p][k], r);
          args.dy[t][k] = o[0];
          args.dx[t][k] = o[1];
        }
      }
    return args;
  };
  auto pair_args_for = [&](int stage, const std::uint8_t* plane) {
    simd::LutPairArgs args;
    args.plane = plane;
    args.stride = static_cast<std::ptrdiff_t>(stride);
    args.width = w;
    args.outputs = stage == 1 ? 1 : outputs;
    args.stage = stage;
    args.walk = simd::walk_table().data();
    for (int p = 0; p < kLutPatterns; ++p)
      for (int r = 0; r < 2; ++r) {
        const int j = 2 * p + r;
        args.pairs[j] = stage == 1 ? pairs1_[p].data() : pairs2_[p][r].data();
        for (int k = 0; k < 4; ++k) {
          auto o = rotate_offset(kLutPatternOffsets[p][k], r);
          args.dy[j][k] = o[0];
          args.dx[j][k] = o[1];
        }
        auto d = rotate_offset(kLutPatternOffsets[p][3], r);
        args.ddy[j] = d[0];
        args.ddx[j] = d[1];
      }
    return args;
  };
  // Runs rows [y0, y1) of a stage, calling done(y, row_out) for each: the pair kernel (with 3
  // rows before the band that only feed its ring) or the row kernel.
  auto run_band = [&](int b, int stage, const std::uint8_t* plane, const simd::LutRowArgs& row_args,
                      const simd::LutPairArgs& pair_args, auto&& out_row, auto&& done) {
    const int y0 = h * b / nb, y1 = h * (b + 1) / nb;
    if (pairs) {
      simd::LutPairArgs args = pair_args;
      args.y0 = y0;
      auto* ring = reinterpret_cast<std::int8_t*>(round_up(reinterpret_cast<std::uintptr_t>(bs[b].pair_ring.data()), 64));
      std::memset(ring, 0, 4 * simd::lut_pair_ring_row(w, pair_args.outputs));
      args.ring = ring;
      for (int y = y0 - 3; y < y1; ++y) {
        if (y >= y0) out_row(y, args.out_bytes, args.out_words);
        simd::lut_row_pairs(args, y);
        if (y >= y0) done(y, args.out_bytes, args.out_words);
      }
      return;
    }
    simd::LutRowArgs args = row_args;
    for (int y = y0; y < y1; ++y) {
      for (int i = 0; i < 7; ++i) args.rows[i] = plane + static_cast<std::ptrdiff_t>(y + i - 3) * stride;
      out_row(y, args.out_bytes, args.out_words);
      simd::lut_row(args);
      done(y, args.out_bytes, args.out_words);
    }
    (void)stage;
  };

  // Stage 1: into the interior of the padded stage-1 plane, and the analysis' filtered plane.
  {
    const simd::LutRowArgs a1 = args_for(1);
    const simd::LutPairArgs p1 = pair_args_for(1, origin(pin));
    PlaneView filtered = out.filtered.view();
    pool.parallel_for(nb, [&](int b0, int b1) {
      for (int b = b0; b < b1; ++b)
        run_band(
            b, 1, origin(pin), a1, p1,
            [&](int y, std::uint8_t*& bytes, std::uint32_t*&) { bytes = origin(pmid) + y * stride; },  // overwrites only padding
            [&](int y, std::uint8_t* bytes, std::uint32_t*) {
              std::uint8_t* f = filtered.row(y) + channel;
              if (ch == 1) std::memcpy(f, bytes, w);
              else
                for (int x = 0; x < w; ++x) f[x * ch] = bytes[x];
            });
    });
  }
  pad_rows(pmid, [](int, std::uint8_t*) {});

  // Stage 2: hyperparameters, packed with the stage-1 sample.
  const simd::LutRowArgs a2 = args_for(2);
  const simd::LutPairArgs p2 = pair_args_for(2, origin(pmid));
  pool.parallel_for(nb, [&](int b0, int b1) {
    for (int b = b0; b < b1; ++b)
      run_band(
          b, 2, origin(pmid), a2, p2,
          [&](int, std::uint8_t*&, std::uint32_t*& words) { words = bs[b].words.data() + kPad; },
          [&](int y, std::uint8_t*, std::uint32_t* words) {
            std::uint32_t* packed = out.packed.data() + static_cast<std::size_t>(y) * w * ch + channel;
            std::uint8_t* hyper = out.hyper.data() + static_cast<std::size_t>(y) * w * ch * outputs + channel * outputs;
            if (ch == 1 && outputs == 3) {
              std::memcpy(packed, words, w * sizeof(std::uint32_t));
              simd::unpack_hyper3(words, w, hyper);
            } else {
              for (int x = 0; x < w; ++x) {
                const std::uint32_t word = words[x];
                packed[x * ch] = word;
                for (int k = 0; k < outputs; ++k) hyper[x * ch * outputs + k] = static_cast<std::uint8_t>(word >> (8 * k));
              }
            }
          });
  });
}

// ---------------------------------------------------------------- LeRF render

namespace {
// m with v = m / 4 and m in {+-1, +-3}, or 0: the distances of an exact 2x upscale.
int quarter_of(float v) {
  const float t = v * 4.0f;
  const int m = static_cast<int>(std::lround(t));
  return (m == 1 || m == -1 || m == 3 || m == -3) && std::abs(t - static_cast<float>(m)) < 1e-5f ? m : 0;
}
}  // namespace

// Whether the plan's taps are those of an exact 2x upscale (the factorised kernel's
// assumptions, checked on every column and row); fills dcm and drm.
bool FastCpu::x2_pattern(LerfPlan& p) {
  if (p.nx != 2 || p.ny != 2 || p.out_w != 2 * p.in_w) return false;
  for (int c = 0; c < 4; ++c) p.dcm[c] = 0;
  for (int ox = 0; ox < p.out_w; ++ox)
    for (int b = 0; b < 2; ++b) {
      const int k = ox / 2, par = ox % 2, c = 2 * par + b;
      if (p.xoff[b * p.stride + ox] != std::clamp(k - 1 + par + b, 0, p.in_w - 1) * p.ch) return false;
      const int m = quarter_of(p.dc[b * p.stride + ox]);
      if (m == 0 || (p.dcm[c] != 0 && p.dcm[c] != m)) return false;
      p.dcm[c] = m;
    }
  p.drm.assign(2 * static_cast<std::size_t>(p.out_h), 0);
  for (int oy = 0; oy < p.out_h; ++oy)
    for (int a = 0; a < 2; ++a) {
      const int m = quarter_of(p.ty.value[static_cast<std::size_t>(oy) * p.ty.count + p.oy_off + a]);
      if (m == 0) return false;
      p.drm[2 * static_cast<std::size_t>(oy) + a] = static_cast<std::int8_t>(m);
    }
  return true;
}

const FastCpu::LerfPlan& FastCpu::lerf_plan(const PlaneJob& job, Size in) {
  const auto& mm = job.map.out_to_in.m;
  const double key[4] = {mm[0], mm[2], mm[4], mm[5]};
  const int ch = job.in.channels;
  ++tick_;
  for (auto& p : lerf_plans_)
    if (p->in_w == in.width && p->in_h == in.height && p->out_w == job.out.width && p->out_h == job.out.height &&
        p->ch == ch && p->border == job.border && p->lanes == simd::lanes_f32() && std::equal(key, key + 4, p->m)) {
      p->used = tick_;
      return *p;
    }
  ++allocations_;
  auto plan = std::make_unique<LerfPlan>();
  LerfPlan& p = *plan;
  p.in_w = in.width, p.in_h = in.height, p.out_w = job.out.width, p.out_h = job.out.height, p.ch = ch;
  p.border = job.border, p.used = tick_;
  std::copy(key, key + 4, p.m);
  p.tx = lerf_axis_taps(in.width, p.out_w, mm[0], mm[2], job.border, setup_.reference_quirks);
  p.ty = lerf_axis_taps(in.height, p.out_h, mm[4], mm[5], job.border, setup_.reference_quirks);
  constexpr int kMaxTaps = 16;  // as the reference
  p.nx = std::min(p.tx.count, kMaxTaps), p.ny = std::min(p.ty.count, kMaxTaps);
  p.ox_off = (p.tx.count - p.nx) / 2, p.oy_off = (p.ty.count - p.ny) / 2;
  p.stride = round_up(p.out_w, simd::kMaxLanes);
  p.xoff.assign(p.nx * p.stride, 0);
  p.dc.assign(p.nx * p.stride, 0.0f);
  for (int ox = 0; ox < p.out_w; ++ox)
    for (int b = 0; b < p.nx; ++b) {
      const std::size_t t = static_cast<std::size_t>(ox) * p.tx.count + p.ox_off + b;
      p.xoff[b * p.stride + ox] = p.tx.index[t] * ch;
      p.dc[b * p.stride + ox] = p.tx.value[t];
    }
  // Blocks of `lanes` outputs whose neighbours lie within 2 * lanes words: permutes, not gathers.
  p.lanes = simd::lanes_f32();
  auto permute_tables = [&](const std::vector<std::int32_t>& xoff, std::vector<std::int32_t>& xbase,
                            std::vector<std::int32_t>& xlocal) {
    const int nblocks = static_cast<int>(p.stride / p.lanes);
    xbase.assign(nblocks, -1);
    xlocal.assign(p.nx * p.stride, 0);
    for (int blk = 0; blk < nblocks; ++blk) {
      int lo = 1 << 30, hi = -1;
      for (int b = 0; b < p.nx; ++b)
        for (int i = blk * p.lanes; i < std::min((blk + 1) * p.lanes, p.out_w); ++i) {
          lo = std::min(lo, xoff[b * p.stride + i]);
          hi = std::max(hi, xoff[b * p.stride + i]);
        }
      if (hi < 0 || hi - lo >= 2 * p.lanes) continue;
      xbase[blk] = lo;
      for (int b = 0; b < p.nx; ++b)
        for (int i = blk * p.lanes; i < (blk + 1) * p.lanes; ++i)
          xlocal[b * p.stride + i] = i < p.out_w ? xoff[b * p.stride + i] - lo : 0;
    }
  };
  permute_tables(p.xoff, p.xbase, p.xlocal);
  if (ch > 1 && p.nx == 2 && p.ny == 2) {
    p.pixel_xoff.resize(p.xoff.size());
    for (std::size_t i = 0; i < p.xoff.size(); ++i) p.pixel_xoff[i] = p.xoff[i] / ch;
    permute_tables(p.pixel_xoff, p.pixel_xbase, p.pixel_xlocal);
  }
  p.x2 = x2_pattern(p);
  if (lerf_plans_.size() >= kCacheEntries) {
    auto lru = std::min_element(lerf_plans_.begin(), lerf_plans_.end(),
                                [](const auto& a, const auto& b) { return a->used < b->used; });
    *lru = std::move(plan);
    return **lru;
  }
  lerf_plans_.push_back(std::move(plan));
  return *lerf_plans_.back();
}

void FastCpu::render_lerf(bool gaussian, const LerfAnalysis& an, const PlaneJob& job, ThreadPool& pool) {
  if (!job.map.is_separable() || an.packed.empty()) {  // warps (per-pixel map), hand-made analyses
    cpu::render_lerf(gaussian, an, job, pool);
    return;
  }
  const LerfPlan& p = lerf_plan(job, an.input_size);
  const int nb = std::max(1, std::min(p.out_h, pool.size() * 4));
  auto& bs = bands(nb);
  for (int b = 0; b < nb; ++b) {
    ensure(bs[b].scratch, 2 * static_cast<std::size_t>(p.nx) * p.ny * simd::kMaxLanes, allocations_);
    ensure(bs[b].bytes, p.stride, allocations_);
  }
  const int ch = p.ch, w = p.in_w;
  const bool constant = job.border == Border::Constant;
  // LeRF-G upscaling with 2 x 2 neighbours: each input row decoded once per band (at 2x it
  // serves 4 output rows, each of its pixels 16 outputs), kept in a ring of decoded rows.
  // At exactly 2x the rows are decoded into the factors of the Gaussian weights instead
  // (simd::lerf_decode_row_x2), edge-padded by copies: kMaxLanes floats before each array.
  // Multi-channel planes (packed RGB, NV12's UV) go one channel at a time, its words gathered.
  constexpr int kDecodedRows = 4;
  const bool x2 = gaussian && p.x2;
  const bool decode = gaussian && p.nx == 2 && p.ny == 2;
  const int arrays = x2 ? simd::kX2Arrays : 4;
  const std::size_t dstride = round_up(static_cast<std::size_t>(w), simd::kMaxLanes) + 4 * simd::kMaxLanes;
  if (decode)
    for (int b = 0; b < nb; ++b) ensure(bs[b].decoded, kDecodedRows * arrays * dstride, allocations_);
  if (x2) ++x2_renders_;
  for (int b = 0; b < nb; ++b) {
    if (x2) {
      ensure(bs[b].scratch, 8 * (static_cast<std::size_t>(w) + 4 * simd::kMaxLanes), allocations_);
      ensure(bs[b].bytes, p.stride + 2 * simd::kMaxLanes, allocations_);
    }
    if (decode && ch > 1) ensure(bs[b].words, round_up(static_cast<std::size_t>(w), simd::kMaxLanes), allocations_);
  }
  pool.parallel_for(nb, [&](int b0, int b1) {
    for (int b = b0; b < b1; ++b) {
      const int oy0 = p.out_h * b / nb, oy1 = p.out_h * (b + 1) / nb;
      int tags[kDecodedRows];
      std::fill(tags, tags + kDecodedRows, -1);
      int chan = 0;  // the channel whose rows the ring holds
      auto decoded_row = [&](int r) {
        const int slot = r % kDecodedRows;
        float* d = bs[b].decoded.data() + slot * arrays * dstride;
        const std::uint32_t* words = an.packed.data() + static_cast<std::size_t>(r) * w * ch + chan;
        const int n = static_cast<int>(round_up(w, simd::kMaxLanes));
        if (ch > 1 && tags[slot] != r) {  // one channel's words, consecutive
          std::uint32_t* gathered = bs[b].words.data();
          for (int i = 0; i < w; ++i) gathered[i] = words[static_cast<std::size_t>(i) * ch];
          std::fill(gathered + w, gathered + n, gathered[w - 1]);
          words = gathered;
        }
        if (x2) {
          d += simd::kMaxLanes;
          if (tags[slot] != r) {
            simd::lerf_decode_row_x2(words, n, d, dstride);
            for (int i = 0; i < arrays; ++i) {  // clamped neighbours: copies of the edge pixels
              float* a = d + i * dstride;
              a[-1] = a[0];
              std::fill(a + w, a + w + 2 * simd::kMaxLanes, a[w - 1]);
            }
          }
        } else if (tags[slot] != r) {
          simd::lerf_decode_row(words, n, d, dstride);
        }
        tags[slot] = r;
        return d;
      };
      if (x2) {
        simd::LerfX2RowArgs x2args;
        for (int c = 0; c < 4; ++c) x2args.ec[c] = simd::x2_c_array(p.dcm[c]);
        x2args.decoded_stride = dstride;
        x2args.pixels = w;
        x2args.scratch = bs[b].scratch.data();
        x2args.out = bs[b].bytes.data();
        for (chan = 0; chan < ch; ++chan) {
          std::fill(tags, tags + kDecodedRows, -1);
          for (int oy = oy0; oy < oy1; ++oy) {
            const std::size_t t = static_cast<std::size_t>(oy) * p.ty.count + p.oy_off;
            for (int a = 0; a < 2; ++a) {
              const int mr = p.drm[2 * static_cast<std::size_t>(oy) + a];
              x2args.rows[a] = decoded_row(p.ty.index[t + a]);
              x2args.ea[a] = simd::x2_a_array(mr);
              for (int c = 0; c < 4; ++c) x2args.g[a][c] = simd::x2_cross_array(mr, p.dcm[c]);
            }
            simd::lerf_row_g4x2(x2args);
            std::uint8_t* dst = job.out.row(oy);
            if (ch == 1) std::memcpy(dst, x2args.out, p.out_w);
            else
              for (int ox = 0; ox < p.out_w; ++ox) dst[ox * ch + chan] = x2args.out[ox];
            if (constant)
              for (int ox = 0; ox < p.out_w; ++ox)
                if (!p.ty.inside[oy] || !p.tx.inside[ox]) dst[ox * ch + chan] = job.border_value[chan];
          }
        }
        continue;
      }
      simd::LerfRowArgs args;
      args.gaussian = gaussian;
      args.width = p.out_w;
      args.nx = p.nx;
      args.ny = p.ny;
      args.xoff = p.xoff.data();
      args.dc = p.dc.data();
      args.table_stride = p.stride;
      args.xbase = p.xbase.data();
      args.xlocal = p.xlocal.data();
      args.scratch = bs[b].scratch.data();
      args.out = bs[b].bytes.data();
      if (decode && ch > 1) {  // one channel at a time, as at 2x, with the tables in pixels
        args.xoff = p.pixel_xoff.data();
        args.xbase = p.pixel_xbase.data();
        args.xlocal = p.pixel_xlocal.data();
        args.decoded_stride = dstride;
        for (chan = 0; chan < ch; ++chan) {
          std::fill(tags, tags + kDecodedRows, -1);
          for (int oy = oy0; oy < oy1; ++oy) {
            const std::size_t t = static_cast<std::size_t>(oy) * p.ty.count + p.oy_off;
            for (int a = 0; a < 2; ++a) args.dr[a] = p.ty.value[t + a];
            args.decoded[0] = decoded_row(p.ty.index[t]);
            args.decoded[1] = decoded_row(p.ty.index[t + 1]);
            simd::lerf_row(args);
            std::uint8_t* dst = job.out.row(oy);
            for (int ox = 0; ox < p.out_w; ++ox) dst[ox * ch + chan] = args.out[ox];
            if (constant)
              for (int ox = 0; ox < p.out_w; ++ox)
                if (!p.ty.inside[oy] || !p.tx.inside[ox]) dst[ox * ch + chan] = job.border_value[chan];
          }
        }
        continue;
      }
      for (int oy = oy0; oy < oy1; ++oy) {
        const std::size_t t = static_cast<std::size_t>(oy) * p.ty.count + p.oy_off;
        std::uint8_t* dst = job.out.row(oy);
        for (int c = 0; c < ch; ++c) {
          for (int a = 0; a < p.ny; ++a) {
            args.rows[a] = an.packed.data() + static_cast<std::size_t>(p.ty.index[t + a]) * w * ch + c;
            args.dr[a] = p.ty.value[t + a];
          }
          if (decode) {
            args.decoded[0] = decoded_row(p.ty.index[t]);
            args.decoded[1] = decoded_row(p.ty.index[t + 1]);
            args.decoded_stride = dstride;
          }
          simd::lerf_row(args);
          if (ch == 1) std::memcpy(dst, args.out, p.out_w);
          else
            for (int x = 0; x < p.out_w; ++x) dst[x * ch + c] = args.out[x];
        }
        if (constant)
          for (int ox = 0; ox < p.out_w; ++ox)
            if (!p.ty.inside[oy] || !p.tx.inside[ox])
              for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
      }
    }
  });
}

}  // namespace lerf::cpu
