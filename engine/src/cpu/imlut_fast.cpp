// IM-LUT's fast path for rescaling (separable maps): only the two scale bins in use are looked
// up, from per-scale copies of the tables with 16 columns per vertex (bin b0's K, bin b1's K,
// zeros) accumulated as int16 vectors; per-pixel logits once per input pixel; the mixing with
// per-axis neighbour tables. Bit-exact with the reference in imlut.cpp (same integer sums, same
// float expressions in the same order; the engine is built with -ffp-contract=off).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "fast_paths.hpp"
#include "imlut_cpu.hpp"
#include "lerf/imlut.hpp"
#include "lerf/lerf_lut.hpp"

namespace lerf::cpu {

namespace {

constexpr int kCols = 16;  // 2 bins x K <= 16 (K <= imlut_max_components = 6)
constexpr int kPad = 3;    // the patterns reach 3 pixels in every direction after rotation

struct AxisNeighbours {
  std::vector<int> left, right;
  std::vector<float> frac;
  std::vector<std::uint8_t> ok;  // coordinate valid (map_point) and, for Constant, inside
};

AxisNeighbours axis_neighbours(int in_len, int out_len, double a, double b, Border border) {
  AxisNeighbours n;
  n.left.resize(out_len), n.right.resize(out_len), n.frac.resize(out_len), n.ok.resize(out_len);
  for (int o = 0; o < out_len; ++o) {
    double x = a * o + b;  // = map_point's coordinate of a separable map (w = 1, m1 = m3 = 0)
    bool valid = std::isfinite(x) && std::abs(x) < 1e9;
    bool inside = x >= -0.5 && x <= in_len - 0.5;
    n.ok[o] = valid && (border != Border::Constant || inside);
    float fx = static_cast<float>(safe_coordinate(x, in_len));
    n.left[o] = imlut::imlut_left(fx, in_len);
    n.frac[o] = imlut::imlut_frac(fx, in_len);
    n.right[o] = std::min(n.left[o] + 1, in_len - 1);
  }
  return n;
}

// The simplex walk of every LSB combination (f0 f1 f2 f3, 4 bits each): the 5 vertex weights
// (16ths) and the order in which dimensions are stepped (an index into kOrders), from
// lut.inc's definitions; 8 bytes an entry (512 KB).
struct Walk {
  std::uint8_t w[5];
  std::uint8_t order;
  std::uint8_t pad[2];
};

// Cumulative vertex-index offsets of vertices 1..4 for each of the 24 stepping orders.
struct Orders {
  std::int32_t step[24][4];
};

int order_id(int r0, int r1, int r2, int r3) { return ((r0 * 4 + r1) * 4 + r2) * 4 + r3; }

const std::pair<std::vector<Walk>, Orders>& walks() {
  static const std::pair<std::vector<Walk>, Orders> table = [] {
    using namespace lerf::lut;
    std::pair<std::vector<Walk>, Orders> t;
    t.first.resize(1 << 16);
    std::vector<int> ids(256, -1);
    int next = 0;
    for (int key = 0; key < (1 << 16); ++key) {
      const int f0 = key >> 12, f1 = (key >> 8) & 15, f2 = (key >> 4) & 15, f3 = key & 15;
      const int r0 = lerf_simplex_rank(f0, f1, f2, f3, 0), r1 = lerf_simplex_rank(f0, f1, f2, f3, 1);
      const int r2 = lerf_simplex_rank(f0, f1, f2, f3, 2), r3 = lerf_simplex_rank(f0, f1, f2, f3, 3);
      int sorted[4];
      for (int k = 0; k < 4; ++k) sorted[k] = lerf_simplex_sorted(f0, f1, f2, f3, r0, r1, r2, r3, k);
      Walk& wk = t.first[key];
      for (int k = 0; k < 5; ++k)
        wk.w[k] = static_cast<std::uint8_t>(lerf_simplex_weight(sorted[0], sorted[1], sorted[2], sorted[3], k));
      int& id = ids[order_id(r0, r1, r2, r3)];
      if (id < 0) {
        id = next++;
        int v = 0;
        for (int k = 0; k < 4; ++k) t.second.step[id][k] = (v += lerf_simplex_step(r0, r1, r2, r3, k));
      }
      wk.order = static_cast<std::uint8_t>(id);
      wk.pad[0] = wk.pad[1] = 0;
    }
    return t;
  }();
  return table;
}

// Sums of one row of pixels (16 columns each) into acc_out: the portable version.
void sums_row(const std::uint8_t* base, int width, const int (*offs)[4][4], const std::int8_t* const* tables,
              int stride, const Walk* walk, const Orders* orders, std::int16_t* acc_out) {
  for (int x = 0; x < width; ++x) {
    std::int16_t acc[kCols] = {};
    const std::uint8_t* s0 = base + x;
    for (int p = 0; p < kLutPatterns; ++p) {
      const std::int8_t* table = tables[p];
      for (int r = 0; r < 4; ++r) {
        const int a = s0[offs[p][r][0]], b = s0[offs[p][r][1]], c = s0[offs[p][r][2]], d = s0[offs[p][r][3]];
        const Walk& wk = walk[((a & 15) << 12) | ((b & 15) << 8) | ((c & 15) << 4) | (d & 15)];
        const std::int8_t* row0 =
            table + static_cast<std::size_t>((a >> 4) * 4913 + (b >> 4) * 289 + (c >> 4) * 17 + (d >> 4)) * stride;
        const std::int32_t* step = orders->step[wk.order];
        for (int q = 0; q < kCols; ++q) acc[q] = static_cast<std::int16_t>(acc[q] + wk.w[0] * row0[q]);
        for (int k = 0; k < 4; ++k) {
          const std::int8_t* row = row0 + static_cast<std::ptrdiff_t>(step[k]) * stride;
          const std::int16_t w = wk.w[k + 1];  // columns >= stride read the next row: unused
          for (int q = 0; q < kCols; ++q) acc[q] = static_cast<std::int16_t>(acc[q] + w * row[q]);
        }
      }
    }
    std::memcpy(acc_out + static_cast<std::size_t>(x) * kCols, acc, sizeof(acc));
  }
}

#if defined(__x86_64__) || defined(__i386__)
// The same sums with AVX2: the 16 columns of a pixel in one register for all its 60 vertices
// (the portable loop's int16 array went through the stack at every vertex, a store-to-load
// chain that took most of its time); the cell offsets and walk keys of 8 pixels computed
// together in vectors; each vertex weight broadcast from the walk entry by one byte shuffle;
// the vertex steps pre-multiplied by the row stride. Wrapping int16 arithmetic like the
// portable version (|sum| <= 12 * 16 * 128 never wraps).
[[gnu::target("avx2")]] inline __m256i load8_u32(const std::uint8_t* p) {  // 8 bytes -> 8 x int32
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

[[gnu::target("avx2")]] inline __m256i pixel_sums_avx2(const std::int8_t* const* tables, const std::int32_t* cell,
                                                       const std::int32_t* key, int lane, const Walk* walk,
                                                       const std::int32_t (*steps)[4], const __m256i* pick) {
  __m256i acc = _mm256_setzero_si256();
  for (int t = 0; t < 4 * kLutPatterns; ++t) {
    const Walk& wk = walk[key[t * 8 + lane]];
    const std::int8_t* row0 = tables[t >> 2] + cell[t * 8 + lane];
    const std::int32_t* step = steps[wk.order];
    std::int64_t bytes;
    std::memcpy(&bytes, &wk, sizeof bytes);
    const __m256i wv = _mm256_set1_epi64x(bytes);
    for (int k = 0; k < 5; ++k) {
      const std::int8_t* row = row0 + (k == 0 ? 0 : step[k - 1]);
      const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row)));
      acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(v, _mm256_shuffle_epi8(wv, pick[k])));
    }
  }
  return acc;
}

[[gnu::target("avx2")]] void sums_row_avx2(const std::uint8_t* base, int width, const int (*offs)[4][4],
                                           const std::int8_t* const* tables, int stride, const Walk* walk,
                                           const Orders* orders, std::int16_t* acc_out) {
  static_assert(sizeof(Walk) == 8);
  std::int32_t steps[24][4];
  for (int o = 0; o < 24; ++o)
    for (int k = 0; k < 4; ++k) steps[o][k] = orders->step[o][k] * stride;
  __m256i pick[5];  // byte k of the walk entry (weight k) zero-extended into every 16-bit lane
  for (int k = 0; k < 5; ++k) pick[k] = _mm256_set1_epi16(static_cast<short>(0x8000 | k));
  alignas(32) std::int32_t cell[4 * kLutPatterns * 8], key[4 * kLutPatterns * 8];
  const __m256i m15 = _mm256_set1_epi32(15), vstride = _mm256_set1_epi32(stride);
  for (int x0 = 0; x0 < width; x0 += 8) {
    // 8 pixels at a time; the last group may start earlier and overlap (recomputed sums are equal).
    const int x = std::min(x0, width - 8);
    if (x < 0) break;  // rows narrower than 8: the portable loop below
    const std::uint8_t* s0 = base + x;
    for (int t = 0; t < 4 * kLutPatterns; ++t) {
      const int p = t >> 2, r = t & 3;
      const __m256i a = load8_u32(s0 + offs[p][r][0]), b = load8_u32(s0 + offs[p][r][1]);
      const __m256i c = load8_u32(s0 + offs[p][r][2]), d = load8_u32(s0 + offs[p][r][3]);
      const __m256i msb = _mm256_add_epi32(
          _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(a, 4), _mm256_set1_epi32(4913)),
                           _mm256_mullo_epi32(_mm256_srli_epi32(b, 4), _mm256_set1_epi32(289))),
          _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(c, 4), _mm256_set1_epi32(17)), _mm256_srli_epi32(d, 4)));
      const __m256i lsb = _mm256_or_si256(
          _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(a, m15), 12), _mm256_slli_epi32(_mm256_and_si256(b, m15), 8)),
          _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(c, m15), 4), _mm256_and_si256(d, m15)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(cell + t * 8), _mm256_mullo_epi32(msb, vstride));
      _mm256_store_si256(reinterpret_cast<__m256i*>(key + t * 8), lsb);
    }
    for (int i = 0; i < 8; ++i)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + static_cast<std::size_t>(x + i) * kCols),
                          pixel_sums_avx2(tables, cell, key, i, walk, steps, pick));
  }
  if (width < 8) sums_row(base, width, offs, tables, stride, walk, orders, acc_out);
}
#endif

// One output row of the affine mixing (docs/IMLUT.md step 5), the reference's float
// expressions in its order: z_k = wy0 ht_k + wy1 hb_k, mean, sum_k (z_k - mean + 1/K) C_k,
// to_byte. Cloned per ISA so the loops vectorise with 8 or 16 lanes; -ffp-contract=off keeps
// every clone's results identical.
[[gnu::target_clones("avx512f", "avx2", "default")]] void mix_row_affine(const float* ht, const float* hb, float wy0,
                                                                        float wy1, int K, int n,
                                                                        const std::uint8_t* const* comps, float* z,
                                                                        float* zsum, float* acc, std::uint8_t* dst) {
  const float inv_k = 1.0f / static_cast<float>(K);
  for (int k = 0; k < K; ++k) {
    const float* a = ht + static_cast<std::size_t>(k) * n;
    const float* b = hb + static_cast<std::size_t>(k) * n;
    float* zk = z + static_cast<std::size_t>(k) * n;
    for (int i = 0; i < n; ++i) zk[i] = wy0 * a[i] + wy1 * b[i];
  }
  for (int i = 0; i < n; ++i) zsum[i] = 0.0f + z[i];
  for (int k = 1; k < K; ++k) {
    const float* zk = z + static_cast<std::size_t>(k) * n;
    for (int i = 0; i < n; ++i) zsum[i] += zk[i];
  }
  for (int i = 0; i < n; ++i) zsum[i] = zsum[i] / static_cast<float>(K);  // the mean
  for (int i = 0; i < n; ++i) acc[i] = 0.0f;
  for (int k = 0; k < K; ++k) {
    const float* zk = z + static_cast<std::size_t>(k) * n;
    const std::uint8_t* ck = comps[k];
    for (int i = 0; i < n; ++i) acc[i] += (zk[i] - zsum[i] + inv_k) * static_cast<float>(ck[i]);
  }
  for (int i = 0; i < n; ++i) dst[i] = to_byte(acc[i]);
}

// The horizontal half of the logits' bilinear interpolation for one component's row (logits
// stored per component, (y, x, c)): h[ox, c] = wx0 L[left, c] + wx1 L[right, c]. Cloned per
// ISA so the indexed loads become gathers.
[[gnu::target_clones("avx512f", "avx2", "default")]] void lerp_logit_row(const float* L, const int* left,
                                                                        const int* right, const float* frac,
                                                                        int out_w, int ch, float* h) {
  if (ch == 1) {
    for (int ox = 0; ox < out_w; ++ox) {
      const float wx1 = frac[ox], wx0 = 1.0f - wx1;
      h[ox] = wx0 * L[left[ox]] + wx1 * L[right[ox]];
    }
    return;
  }
  for (int ox = 0; ox < out_w; ++ox) {
    const float wx1 = frac[ox], wx0 = 1.0f - wx1;
    for (int c = 0; c < ch; ++c) h[ox * ch + c] = wx0 * L[left[ox] * ch + c] + wx1 * L[right[ox] * ch + c];
  }
}

// Logits of component k for one row from its sums (imlut_pixel_logit: bins 0 and 1 of the
// per-scale table at weight f), written every ch floats. Cloned per ISA so the compiler may
// vectorise the strided int16 reads (measured: a few ms of ~100 at 540p -> 1080p).
[[gnu::target_clones("avx512f", "avx2", "default")]] void logits_row(const std::int16_t* sums, int width, int K, int k,
                                                                    float f, int ch, float* out) {
  for (int x = 0; x < width; ++x)
    out[static_cast<std::size_t>(x) * ch] = imlut_pixel_logit(sums + static_cast<std::size_t>(x) * kCols, K, 0, 1, f, k);
}

using SumsRow = void (*)(const std::uint8_t*, int, const int (*)[4][4], const std::int8_t* const*, int, const Walk*,
                         const Orders*, std::int16_t*);

SumsRow pick_sums_row() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx2")) return sums_row_avx2;
#endif
  return sums_row;
}

std::atomic<bool> g_portable_sums{false};

}  // namespace

void imlut_use_portable_sums(bool portable) { g_portable_sums = portable; }

void ImLutCpu::render_fast_separable(const ImLutAnalysis& an, const PlaneJob& job, ThreadPool& pool) {
  using namespace lerf::lut;
  const ImLutModel& m = setup_.model->imlut;
  const int K = static_cast<int>(m.components.size()), S = m.scale_bins;
  const auto& in = job.in;
  const auto& out = job.out;
  const int ch = in.channels, W = in.width, H = in.height;
  (void)an;

  const float t = imlut_scale_position(m, imlut_local_scale(job.map, 0, 0));
  const int b0 = imlut::imlut_bin_low(t, S), b1 = std::min(b0 + 1, S - 1);
  const float f = S > 1 ? t - static_cast<float>(b0) : 0.0f;
  if (b0 != sub_b0_ || b1 != sub_b1_) {
    const int cols = m.columns();
    for (int p = 0; p < kLutPatterns; ++p) {
      sub_[p].assign(static_cast<std::size_t>(kLutEntries) * 2 * K + kCols, 0);  // + the last row's over-read
      for (int v = 0; v < kLutEntries; ++v) {
        const std::int8_t* src = m.tables[p].data() + static_cast<std::size_t>(v) * cols;
        std::int8_t* dst = sub_[p].data() + static_cast<std::size_t>(v) * 2 * K;
        for (int k = 0; k < K; ++k) dst[k] = src[b0 * K + k], dst[K + k] = src[b1 * K + k];
      }
    }
    sub_b0_ = b0, sub_b1_ = b1;
  }

  // Per input pixel and channel: the K logits at this scale.
  const Walk* walk = walks().first.data();
  const Orders* orders = &walks().second;
  const int stride = 2 * K;
  const int PW = W + 2 * kPad, PH = H + 2 * kPad;
  padded_.resize(static_cast<std::size_t>(PW) * PH);
  logits_.resize(static_cast<std::size_t>(W) * H * ch * K);
  // Sample offsets in the padded plane of each (pattern, rotation, k).
  int offs[kLutPatterns][4][4];
  for (int p = 0; p < kLutPatterns; ++p)
    for (int r = 0; r < 4; ++r)
      for (int k = 0; k < 4; ++k) {
        auto o = rotate_offset(kLutPatternOffsets[p][k], r);
        offs[p][r][k] = o[0] * PW + o[1];
      }
  for (int c = 0; c < ch; ++c) {
    pool.parallel_for(PH, [&](int y0, int y1) {
      for (int py = y0; py < y1; ++py) {
        const std::uint8_t* src = in.row(std::clamp(py - kPad, 0, H - 1));
        std::uint8_t* dst = &padded_[static_cast<std::size_t>(py) * PW];
        for (int px = 0; px < PW; ++px) dst[px] = src[std::clamp(px - kPad, 0, W - 1) * ch + c];
      }
    });
    static const SumsRow best = pick_sums_row();
    const SumsRow sums_row_best = g_portable_sums ? sums_row : best;
    pool.parallel_for(H, [&](int y0, int y1) {
      thread_local std::vector<std::int16_t> sums;  // per worker, kept across frames
      if (sums.size() < static_cast<std::size_t>(W) * kCols) sums.resize(static_cast<std::size_t>(W) * kCols);
      const std::int8_t* tables[kLutPatterns] = {sub_[0].data(), sub_[1].data(), sub_[2].data()};
      for (int y = y0; y < y1; ++y) {
        sums_row_best(&padded_[static_cast<std::size_t>(y + kPad) * PW + kPad], W, offs, tables, stride, walk, orders,
                 sums.data());
        for (int k = 0; k < K; ++k)
          logits_row(sums.data(), W, K, k, f, ch, &logits_[((static_cast<std::size_t>(k) * H + y) * W) * ch + c]);
      }
    });
  }

  const auto& mm = job.map.out_to_in.m;
  AxisNeighbours nx = axis_neighbours(W, out.width, mm[0], mm[2], job.border);
  AxisNeighbours ny = axis_neighbours(H, out.height, mm[4], mm[5], job.border);
  // Mixing, row by row over the samples i = ox * ch + c with the components in planes
  // (vectorisable): hz[k][i] = wx0 L(left) + wx1 L(right) of an input row, cached per row;
  // z = wy0 hz(top) + wy1 hz(bottom); then imlut_mix's normalisation, in its order.
  const int n = out.width * ch;
  const bool affine = m.affine;
  pool.parallel_for(out.height, [&](int y0, int y1) {
    // Per worker thread, kept across frames: at 1080p this is ~160 KB, which malloc would map
    // and the kernel zero on every call.
    thread_local std::vector<float> buf;
    if (buf.size() < static_cast<std::size_t>(2 * K + 2 * K + 1) * n)
      buf.resize(static_cast<std::size_t>(2 * K + 2 * K + 1) * n);
    float* hz[2] = {buf.data(), buf.data() + static_cast<std::size_t>(K) * n};
    float* z = buf.data() + static_cast<std::size_t>(2 * K) * n;  // K rows
    float* zs = z + static_cast<std::size_t>(K) * n;             // K rows of scratch
    float* acc = zs + static_cast<std::size_t>(K) * n;
    int cached[2] = {-1, -1};
    auto horizontal = [&](int row, float* h) {
      for (int k = 0; k < K; ++k)
        lerp_logit_row(&logits_[(static_cast<std::size_t>(k) * H + row) * W * ch], nx.left.data(), nx.right.data(),
                       nx.frac.data(), out.width, ch, h + static_cast<std::size_t>(k) * n);
    };
    auto row_of = [&](int row) { return cached[0] == row ? hz[0] : hz[1]; };
    for (int oy = y0; oy < y1; ++oy) {
      std::uint8_t* dst = out.row(oy);
      if (!ny.ok[oy]) {
        for (int i = 0; i < n; ++i) dst[i] = job.border_value[i % ch];
        continue;
      }
      // Both input rows in the two slots: evict the slot not holding the other row.
      const int top = ny.left[oy], bot = ny.right[oy];
      if (cached[0] != top && cached[1] != top) {
        int slot = cached[0] == bot ? 1 : 0;
        horizontal(top, hz[slot]);
        cached[slot] = top;
      }
      if (cached[0] != bot && cached[1] != bot) {
        int slot = cached[0] == top ? 1 : 0;
        horizontal(bot, hz[slot]);
        cached[slot] = bot;
      }
      const float* ht = row_of(top);
      const float* hb = row_of(bot);
      const float wy1 = ny.frac[oy], wy0 = 1.0f - wy1;
      if (affine) {
        const std::uint8_t* comps[imlut::imlut_max_components];
        for (int k = 0; k < K; ++k) comps[k] = comp_[k].data() + oy * comp_[k].stride();
        mix_row_affine(ht, hb, wy0, wy1, K, n, comps, z, zs, acc, dst);
      } else {
        for (int k = 0; k < K; ++k) {
          const float* a = ht + static_cast<std::size_t>(k) * n;
          const float* b = hb + static_cast<std::size_t>(k) * n;
          float* zk = z + static_cast<std::size_t>(k) * n;
          for (int i = 0; i < n; ++i) zk[i] = wy0 * a[i] + wy1 * b[i];
        }
        float w[imlut::imlut_max_components];
        for (int i = 0; i < n; ++i) {
          float zmax = -3.4e38f, esum = 0;
          for (int k = 0; k < K; ++k) zmax = std::max(zmax, z[static_cast<std::size_t>(k) * n + i]);
          for (int k = 0; k < K; ++k) esum += (w[k] = std::exp(z[static_cast<std::size_t>(k) * n + i] - zmax));
          float s3 = 0;
          for (int k = 0; k < K; ++k) s3 += (w[k] / esum) * static_cast<float>(comp_[k].data()[oy * comp_[k].stride() + i]);
          acc[i] = s3;
        }
        for (int i = 0; i < n; ++i) dst[i] = to_byte(acc[i]);
      }
      for (int ox = 0; ox < out.width; ++ox)
        if (!nx.ok[ox])
          for (int c = 0; c < ch; ++c) dst[ox * ch + c] = job.border_value[c];
    }
  });
}

}  // namespace lerf::cpu
