// The CPU hot loops, vectorised with Google Highway and dispatched at run time to the best
// target of the machine (AVX-512, AVX2, SSE4, or the portable EMU128 fallback).
//
// Every function here has a plain reference elsewhere (classical.cpp, lerf_lut.cpp,
// lerf_render.cpp) and tests/test_simd_paths.cpp compares them on every target this CPU
// runs: the classical passes and the LUT stages bit-exactly (same operations in the same
// order, no FMA contraction: the engine is built with -ffp-contract=off), the LeRF blend within
// 1 (vector exp and a multiply by 1/255 instead of a division).

// SSSE3 adds nothing over SSE4 for these loops; leaving it out saves a compilation.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/cpu/simd_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include "simd_kernels.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <new>

#include "lerf/lerf_lut.hpp"

HWY_BEFORE_NAMESPACE();
namespace lerf::cpu::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using D8 = hn::Rebind<std::uint8_t, DI>;
#if HWY_TARGET == HWY_SCALAR
// One lane: no 16-bit pairs; the LUT sums stay in three 32-bit lanes.
struct LutSums {
  hn::Vec<DI> s[3];
};
#else
using D16 = hn::Repartition<std::int16_t, DI>;
// The LUT sums as 16-bit pairs: even holds (o0, o2), odd (o1, junk) in the low/high halves of
// each 32-bit lane. 16 bits are exact: one look-up adds at most 16 * 128, twelve 24576.
struct LutSums {
  hn::Vec<D16> even, odd;
};
#endif

// The reference's to_byte: clamp to [0, 255], add 0.5, truncate.
HWY_INLINE void StoreBytes(hn::Vec<DF> v, std::uint8_t* dst) {
  const DF df;
  const DI di;
  const D8 d8;
  v = hn::Min(hn::Max(v, hn::Zero(df)), hn::Set(df, 255.0f));
  hn::StoreU(hn::DemoteTo(d8, hn::ConvertTo(di, hn::Add(v, hn::Set(df, 0.5f)))), d8, dst);
}

void U8ToF32(const std::uint8_t* HWY_RESTRICT in, int n, float* HWY_RESTRICT out) {
  const DF df;
  const DI di;
  const D8 d8;
  const int N = static_cast<int>(hn::Lanes(df));
  int i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, in + i))), df, out + i);
  for (; i < n; ++i) out[i] = in[i];
}

// Block b of N outputs reads its taps from in[base[b] .. base[b] + 2N) when base[b] >= 0
// (local[k * stride + i] = offset - base: two-vector permutes), else by gathers.
void HorizontalPass(const float* HWY_RESTRICT in, const std::int32_t* HWY_RESTRICT off,
                    const std::int32_t* HWY_RESTRICT base, const std::int32_t* HWY_RESTRICT local,
                    const float* HWY_RESTRICT wt, int taps, std::size_t table_stride, int n, float* HWY_RESTRICT out) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  for (int i = 0, blk = 0; i < n; i += N, ++blk) {  // tables and out are padded to a multiple of kMaxLanes
    auto acc = hn::Zero(df);
    const int b0 = base ? base[blk] : -1;
    if (b0 >= 0) {
      const auto w0 = hn::LoadU(df, in + b0), w1 = hn::LoadU(df, in + b0 + N);
      for (int k = 0; k < taps; ++k) {
        const std::size_t t = k * table_stride + i;
        const auto idx = hn::LoadU(di, local + t);
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
        const hn::Vec<DF> x{_mm512_permutex2var_ps(w0.raw, idx.raw, w1.raw)};
#else
        const auto sel = hn::IndicesFromVec(df, hn::And(idx, hn::Set(di, N - 1)));
        const auto x = hn::IfThenElse(hn::RebindMask(df, hn::Lt(idx, hn::Set(di, N))), hn::TableLookupLanes(w0, sel),
                                      hn::TableLookupLanes(w1, sel));
#endif
        acc = hn::Add(acc, hn::Mul(hn::LoadU(df, wt + t), x));
      }
    } else {
      for (int k = 0; k < taps; ++k) {
        const std::size_t t = k * table_stride + i;
        auto x = hn::GatherIndex(df, in, hn::LoadU(di, off + t));
        acc = hn::Add(acc, hn::Mul(hn::LoadU(df, wt + t), x));
      }
    }
    hn::StoreU(acc, df, out + i);
  }
}

// Nearest neighbour, one row: out[i] = in[off[i]], by permutes of 2 vectors of input where
// the block's base >= 0 (in readable to base + 2 * lanes), else by scalar loads.
void NearestRow(const std::uint8_t* HWY_RESTRICT in, const std::int32_t* HWY_RESTRICT off,
                const std::int32_t* HWY_RESTRICT base, const std::int32_t* HWY_RESTRICT local, int n,
                std::uint8_t* HWY_RESTRICT out, std::uint8_t* HWY_RESTRICT tail) {
  const DI di;
  const D8 d8;
  const int N = static_cast<int>(hn::Lanes(di));
  for (int i = 0, blk = 0; i < n; i += N, ++blk) {
    const int b0 = base[blk];
    std::uint8_t* dst = i + N <= n ? out + i : tail;
    if (b0 >= 0) {
      const auto w0 = hn::PromoteTo(di, hn::LoadU(d8, in + b0)), w1 = hn::PromoteTo(di, hn::LoadU(d8, in + b0 + N));
      const auto idx = hn::LoadU(di, local + i);
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
      const hn::Vec<DI> x{_mm512_permutex2var_epi32(w0.raw, idx.raw, w1.raw)};
#else
      const auto sel = hn::IndicesFromVec(di, hn::And(idx, hn::Set(di, N - 1)));
      const auto x = hn::IfThenElse(hn::Lt(idx, hn::Set(di, N)), hn::TableLookupLanes(w0, sel),
                                    hn::TableLookupLanes(w1, sel));
#endif
      hn::StoreU(hn::DemoteTo(d8, x), d8, dst);
    } else {
      for (int j = 0; j < N && i + j < n; ++j) dst[j] = in[off[i + j]];
    }
    if (dst == tail)
      for (int j = 0; i + j < n; ++j) out[i + j] = tail[j];
  }
}

void VerticalPass(const float* const* HWY_RESTRICT rows, const float* HWY_RESTRICT w, int taps, int n,
                  std::uint8_t* HWY_RESTRICT out, std::uint8_t* HWY_RESTRICT tail) {
  const DF df;
  const int N = static_cast<int>(hn::Lanes(df));
  int i = 0;
  auto one = [&](int i0) {
    auto acc = hn::Zero(df);
    for (int k = 0; k < taps; ++k) acc = hn::Add(acc, hn::Mul(hn::Set(df, w[k]), hn::LoadU(df, rows[k] + i0)));
    return acc;
  };
  for (; i + N <= n; i += N) StoreBytes(one(i), out + i);
  if (i < n) {  // rows are padded: compute a whole vector into `tail`, copy what belongs
    StoreBytes(one(i), tail);
    for (int j = 0; i + j < n; ++j) out[i + j] = tail[j];
  }
}

// 4-simplex interpolation of one (pattern, rotation) for N pixels: adds the integer sums
// (16ths of LUT units) of the `kOutputs` values to `sums`.
// `a` is the pattern's first sample, the pixel itself in every pattern and rotation: its
// vertex term and sort key (va, ka) are computed once per pixel.
template <int kOutputs>
HWY_INLINE void SimplexAdd(const std::int8_t* HWY_RESTRICT lut, hn::Vec<DI> va, hn::Vec<DI> ka, hn::Vec<DI> b,
                           hn::Vec<DI> c, hn::Vec<DI> d, LutSums& sums) {
  const DI di;
  const auto m15 = hn::Set(di, 15);
  // Vertex offsets are in bytes (vertex * outputs). Sort keys (LSB << 14 | byte stride):
  // descending order of the keys is the reference's stable descending order of the LSBs
  // (ties: a before b before c before d, the larger stride first).
  auto v0 = hn::Add(va, hn::Add(hn::Add(hn::Mul(hn::ShiftRight<4>(b), hn::Set(di, 289 * kOutputs)),
                                        hn::Mul(hn::ShiftRight<4>(c), hn::Set(di, 17 * kOutputs))),
                                hn::Mul(hn::ShiftRight<4>(d), hn::Set(di, kOutputs))));
  auto k0 = ka;
  auto k1 = hn::Or(hn::ShiftLeft<14>(hn::And(b, m15)), hn::Set(di, 289 * kOutputs));
  auto k2 = hn::Or(hn::ShiftLeft<14>(hn::And(c, m15)), hn::Set(di, 17 * kOutputs));
  auto k3 = hn::Or(hn::ShiftLeft<14>(hn::And(d, m15)), hn::Set(di, kOutputs));
  auto cx = [](hn::Vec<DI>& x, hn::Vec<DI>& y) {
    auto hi = hn::Max(x, y);
    y = hn::Min(x, y);
    x = hi;
  };
  cx(k0, k1);
  cx(k2, k3);
  cx(k0, k2);
  cx(k1, k3);
  cx(k1, k2);
  const auto mstride = hn::Set(di, 16383);
  auto f1 = hn::ShiftRight<14>(k0), f2 = hn::ShiftRight<14>(k1), f3 = hn::ShiftRight<14>(k2),
       f4 = hn::ShiftRight<14>(k3);
  auto v1 = hn::Add(v0, hn::And(k0, mstride));
  auto v2 = hn::Add(v1, hn::And(k1, mstride));
  auto v3 = hn::Add(v2, hn::And(k2, mstride));
  auto v4 = hn::Add(v3, hn::And(k3, mstride));
  const auto* base = reinterpret_cast<const std::int32_t*>(lut);
  // Vertex weight w (0..16) in both 16-bit halves; the gathered word's bytes sign-extended to
  // 16 bits: even bytes (o0, o2), odd bytes (o1, o3).
  auto vertex = [&](hn::Vec<DI> v, hn::Vec<DI> w) {
#if HWY_TARGET == HWY_SCALAR
    auto g = hn::GatherOffset(di, base, v);
    sums.s[0] = hn::Add(sums.s[0], hn::Mul(w, hn::ShiftRight<24>(hn::ShiftLeft<24>(g))));
    if constexpr (kOutputs == 3) {
      sums.s[1] = hn::Add(sums.s[1], hn::Mul(w, hn::ShiftRight<24>(hn::ShiftLeft<16>(g))));
      sums.s[2] = hn::Add(sums.s[2], hn::Mul(w, hn::ShiftRight<24>(hn::ShiftLeft<8>(g))));
    }
#else
    const D16 d16;
    auto g = hn::BitCast(d16, hn::GatherOffset(di, base, v));
    auto w16 = hn::BitCast(d16, hn::Or(w, hn::ShiftLeft<16>(w)));
    sums.even = hn::Add(sums.even, hn::Mul(hn::ShiftRight<8>(hn::ShiftLeft<8>(g)), w16));
    if constexpr (kOutputs == 3) sums.odd = hn::Add(sums.odd, hn::Mul(hn::ShiftRight<8>(g), w16));
#endif
  };
  vertex(v0, hn::Sub(hn::Set(di, 16), f1));
  vertex(v1, hn::Sub(f1, f2));
  vertex(v2, hn::Sub(f2, f3));
  vertex(v3, hn::Sub(f3, f4));
  vertex(v4, f4);
}

// numpy's round (half to even) of clip(v, 0, 255).
HWY_INLINE hn::Vec<DI> RoundClip(hn::Vec<DF> v) {
  const DF df;
  const DI di;
  return hn::ConvertTo(di, hn::Round(hn::Min(hn::Max(v, hn::Zero(df)), hn::Set(df, 255.0f))));
}

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// Both stages from cell tables and the walk table (see LutRowArgs::walk), 16 pixels at a
// time. Per look-up and pixel: the 16 walk weights (unsigned bytes) by the LSBs, the cell's
// corners (signed bytes; 3 outputs in the 16-byte lanes of a 64-byte cell) by the MSBs, one
// vpmaddubsw into 16-bit pair sums. Exact as SimplexAdd: per look-up the weights sum to 16, so
// all pair sums of a pixel's 12 look-ups stay within 12 * 16 * 128 = 24576.
template <int kOutputs>
void LutRowWalk(const LutRowArgs& args) {
  const DF df;
  const DI di;
  const D8 d8;
  // Per look-up and pixel: cell offset | walk offset << 32 (one scalar load per look-up).
  HWY_ALIGN std::uint64_t off[12][16];
  const std::int8_t* walk = args.walk;
  const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi_idx = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  const auto mhi = hn::Set(di, 0xF0), mlo = hn::Set(di, 15);
  for (int x = 0; x < args.width; x += 16) {
    const auto a = hn::PromoteTo(di, hn::LoadU(d8, args.rows[3] + x));
    // Byte offsets: cell 16 * (4096 A + 256 B + 16 C + D) (x4 for 64-byte cells), walk entry
    // 16 * (4096 fa + 256 fb + 16 fc + fd).
    const auto ca = hn::ShiftLeft<12>(hn::And(a, mhi)), wa = hn::ShiftLeft<16>(hn::And(a, mlo));
    for (int t = 0; t < 12; ++t) {
      auto load = [&](int k) {
        const std::uint8_t* p = args.rows[args.dy[t][k] + 3] + x + args.dx[t][k];
        return hn::PromoteTo(di, hn::LoadU(d8, p));
      };
      const auto b = load(1), c = load(2), d = load(3);
      auto cell = hn::Or(hn::Or(ca, hn::ShiftLeft<8>(hn::And(b, mhi))),
                         hn::Or(hn::ShiftLeft<4>(hn::And(c, mhi)), hn::And(d, mhi)));
      if constexpr (kOutputs == 3) cell = hn::ShiftLeft<2>(cell);
      const auto wo = hn::Or(hn::Or(wa, hn::ShiftLeft<12>(hn::And(b, mlo))),
                             hn::Or(hn::ShiftLeft<8>(hn::And(c, mlo)), hn::ShiftLeft<4>(hn::And(d, mlo))));
      _mm512_store_si512(off[t], _mm512_permutex2var_epi32(cell.raw, lo_idx, wo.raw));
      _mm512_store_si512(off[t] + 8, _mm512_permutex2var_epi32(cell.raw, hi_idx, wo.raw));
    }
    hn::Vec<DI> sum[3] = {hn::Zero(di), hn::Zero(di), hn::Zero(di)};
    if constexpr (kOutputs == 1) {
      // Per pixel a 128-bit accumulator (8 pair sums) -> 4 dwords r[p].
      const __m128i ones = _mm_set1_epi16(1);
      __m128i r[16];
      for (int p = 0; p < 16; ++p) {
        __m128i acc = _mm_setzero_si128();
        for (int t = 0; t < 12; ++t) {
          const std::uint64_t o = off[t][p];
          const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + (o >> 32)));
          const __m128i cl = _mm_loadu_si128(reinterpret_cast<const __m128i*>(args.cells[t] + (o & 0xffffffffu)));
          acc = _mm_add_epi16(acc, _mm_maddubs_epi16(w, cl));
        }
        r[p] = _mm_madd_epi16(acc, ones);
      }
      // R[g] lane l = pixel g + 4 l; two levels of pairwise sums leave dword 4 l + g = pixel 4 l + g.
      __m512i R[4];
      for (int g = 0; g < 4; ++g) {
        R[g] = _mm512_castsi128_si512(r[g]);
        R[g] = _mm512_inserti32x4(R[g], r[g + 4], 1);
        R[g] = _mm512_inserti32x4(R[g], r[g + 8], 2);
        R[g] = _mm512_inserti32x4(R[g], r[g + 12], 3);
      }
      const __m512i x01 = _mm512_add_epi32(_mm512_unpacklo_epi64(R[0], R[1]), _mm512_unpackhi_epi64(R[0], R[1]));
      const __m512i x23 = _mm512_add_epi32(_mm512_unpacklo_epi64(R[2], R[3]), _mm512_unpackhi_epi64(R[2], R[3]));
      const __m512 f01 = _mm512_castsi512_ps(x01), f23 = _mm512_castsi512_ps(x23);
      sum[0] = hn::Vec<DI>{_mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0x88)),
                                            _mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0xDD)))};
    } else {
      // Per pixel a 512-bit accumulator: lane o = output o (lane 3: zero cell bytes).
      const __m512i ones = _mm512_set1_epi16(1);
      __m512i G[4];
      for (int g = 0; g < 4; ++g) {
        __m512i r[4];
        for (int q = 0; q < 4; ++q) {
          const int p = 4 * g + q;
          __m512i acc = _mm512_setzero_si512();
          for (int t = 0; t < 12; ++t) {
            const std::uint64_t o = off[t][p];
            const __m512i w = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + (o >> 32))));
            const __m512i cl = _mm512_loadu_si512(args.cells[t] + (o & 0xffffffffu));
            acc = _mm512_add_epi16(acc, _mm512_maddubs_epi16(w, cl));
          }
          r[q] = _mm512_madd_epi16(acc, ones);
        }
        // Lane o of G[g]: dword q = output o of pixel 4 g + q.
        const __m512i x01 = _mm512_add_epi32(_mm512_unpacklo_epi64(r[0], r[1]), _mm512_unpackhi_epi64(r[0], r[1]));
        const __m512i x23 = _mm512_add_epi32(_mm512_unpacklo_epi64(r[2], r[3]), _mm512_unpackhi_epi64(r[2], r[3]));
        const __m512 f01 = _mm512_castsi512_ps(x01), f23 = _mm512_castsi512_ps(x23);
        G[g] = _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0x88)),
                                _mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0xDD)));
      }
      // 4x4 transpose of 128-bit lanes: sum[o] = lane o of G[0..3].
      const __m512i t0 = _mm512_shuffle_i32x4(G[0], G[1], 0x44), t1 = _mm512_shuffle_i32x4(G[2], G[3], 0x44);
      const __m512i t2 = _mm512_shuffle_i32x4(G[0], G[1], 0xEE), t3 = _mm512_shuffle_i32x4(G[2], G[3], 0xEE);
      sum[0] = hn::Vec<DI>{_mm512_shuffle_i32x4(t0, t1, 0x88)};
      sum[1] = hn::Vec<DI>{_mm512_shuffle_i32x4(t0, t1, 0xDD)};
      sum[2] = hn::Vec<DI>{_mm512_shuffle_i32x4(t2, t3, 0x88)};
    }
    if (args.stage == 1) {
      auto v = hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 3.0f));
      hn::StoreU(hn::DemoteTo(d8, RoundClip(v)), d8, args.out_bytes + x);
      continue;
    }
    auto word = hn::ShiftLeft<24>(a);
    for (int k = 0; k < kOutputs; ++k) {
      auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[k]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                       hn::Set(df, 127.0f));
      auto h = RoundClip(v);
      word = hn::Or(word, k == 0 ? h : (k == 1 ? hn::ShiftLeft<8>(h) : hn::ShiftLeft<16>(h)));
    }
    hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
  }
}
#endif

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
// What the rotation-pair kernels (AVX-512 LutRowPairsT, AVX2 LutRowPairs2) share: the pairs a
// row uses, where their B halves land in the ring, and the per-pixel offsets of a look-up.
struct PairRow {
  bool emit = false;
  std::int8_t* own = nullptr;  // this row's ring entries
  int js[6] = {}, nj = 0;
  std::int8_t* bdst[6] = {};
  const std::int8_t* cells[6] = {};
};
// Pairs in use: every pair on an output row; before the band only those whose B half lands
// in it.
HWY_INLINE PairRow PairRowSetup(const LutPairArgs& args, int y, int entry, std::size_t ring_row) {
  PairRow r;
  r.emit = y >= args.y0;
  r.own = args.ring + static_cast<std::size_t>(y & 3) * ring_row + kLutPad * entry;
  for (int j = 0; j < 6; ++j) {
    if (!r.emit && y + args.ddy[j] < args.y0) continue;
    r.js[r.nj] = j;
    r.cells[r.nj] = args.pairs[j];
    r.bdst[r.nj] = args.ring + static_cast<std::size_t>((y + args.ddy[j]) & 3) * ring_row +
                   static_cast<std::ptrdiff_t>(args.ddx[j] + kLutPad) * entry;
    ++r.nj;
  }
  return r;
}
// The offsets of a look-up from its samples b, c, d (see PairOffsets).
template <int kOutputs>
HWY_INLINE void PairOffsetsOf(hn::Vec<DI> b, hn::Vec<DI> c, hn::Vec<DI> d, hn::Vec<DI> ca, hn::Vec<DI> wa,
                              hn::Vec<DI>& cell, hn::Vec<DI>& wo) {
  const DI di;
  const auto mhi = hn::Set(di, 0xF0), mlo = hn::Set(di, 15);
  cell = hn::Or(hn::Or(ca, hn::ShiftLeft<8>(hn::And(b, mhi))), hn::Or(hn::ShiftLeft<4>(hn::And(c, mhi)), hn::And(d, mhi)));
  cell = kOutputs == 1 ? hn::ShiftLeft<1>(cell) : hn::ShiftLeft<3>(cell);
  wo = hn::Or(hn::Or(wa, hn::ShiftLeft<12>(hn::And(b, mlo))),
              hn::Or(hn::ShiftLeft<8>(hn::And(c, mlo)), hn::ShiftLeft<4>(hn::And(d, mlo))));
}
// Byte offsets of pair j's look-ups for the pixels at columns x.. of row y: the pair cell (32
// or 128 bytes) from the samples' MSBs, the walk entry from their LSBs; ca / wa: the first
// sample's parts, shared by every pair.
template <int kOutputs>
HWY_INLINE void PairOffsets(const LutPairArgs& args, int j, int y, int x, hn::Vec<DI> ca, hn::Vec<DI> wa,
                            hn::Vec<DI>& cell, hn::Vec<DI>& wo) {
  const DI di;
  const D8 d8;
  auto load = [&](int k) {
    const std::uint8_t* p = args.plane + static_cast<std::ptrdiff_t>(y + args.dy[j][k]) * args.stride + x + args.dx[j][k];
    return hn::PromoteTo(di, hn::LoadU(d8, p));
  };
  PairOffsetsOf<kOutputs>(load(1), load(2), load(3), ca, wa, cell, wo);
}
// PairOffsets with pair J's sample offsets as compile-time constants (the ones
// LutPairArgs::dy / dx hold for pair J): rows[3 + d] is row y + d.
template <int kOutputs, int J>
HWY_INLINE void PairOffsetsFixed(const std::uint8_t* const* rows, int x, hn::Vec<DI> ca, hn::Vec<DI> wa,
                                 hn::Vec<DI>& cell, hn::Vec<DI>& wo) {
  const DI di;
  const D8 d8;
  auto load = [&](auto k) {
    constexpr auto o = rotate_offset(kLutPatternOffsets[J / 2][decltype(k)::value], J % 2);
    return hn::PromoteTo(di, hn::LoadU(d8, rows[3 + o[0]] + x + o[1]));
  };
  PairOffsetsOf<kOutputs>(load(std::integral_constant<int, 1>{}), load(std::integral_constant<int, 2>{}),
                          load(std::integral_constant<int, 3>{}), ca, wa, cell, wo);
}
// The offsets of every pair the row uses (pr.js[0 .. pr.nj)), handed to store(i, cell, wo):
// constant sample offsets when all 6 run (in order), the args' tables otherwise.
template <int kOutputs, typename Store>
HWY_INLINE void RowPairOffsets(const LutPairArgs& args, const PairRow& pr, const std::uint8_t* const* rows, int y,
                               int x, hn::Vec<DI> ca, hn::Vec<DI> wa, const Store& store) {
  if (pr.nj == 6) {
    auto fixed = [&](auto pair) HWY_ATTR {
      hn::Vec<DI> cell, wo;
      PairOffsetsFixed<kOutputs, decltype(pair)::value>(rows, x, ca, wa, cell, wo);
      store(decltype(pair)::value, cell, wo);
    };
    fixed(std::integral_constant<int, 0>{}), fixed(std::integral_constant<int, 1>{});
    fixed(std::integral_constant<int, 2>{}), fixed(std::integral_constant<int, 3>{});
    fixed(std::integral_constant<int, 4>{}), fixed(std::integral_constant<int, 5>{});
    return;
  }
  for (int i = 0; i < pr.nj; ++i) {
    hn::Vec<DI> cell, wo;
    PairOffsets<kOutputs>(args, pr.js[i], y, x, ca, wa, cell, wo);
    store(i, cell, wo);
  }
}
#endif

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// Rotation pairs (see LutPairArgs): per pixel Q of row y and pair j = (pattern, parity), one
// walk load, one pair-cell load and one vpmaddubsw give rotation r at Q (A half, summed in
// registers) and rotation r + 2 at Q + delta (B half, added to the ring row of that pixel).
// A pixel's sums are final once its own row is done: B halves come from rows y - 3 .. y, and
// within row y only from pixels to its left (delta (0, 3)). Integer sums in 16-bit pairs,
// exact as in LutRowWalk (at most 24576 per pair, the same 12 look-ups).
template <int kOutputs>
void LutRowPairsT(const LutPairArgs& args, int y) {
  const DF df;
  const DI di;
  const D8 d8;
  constexpr int kEntry = kOutputs == 1 ? 16 : 64;  // ring bytes per pixel
  const std::size_t ring_row = lut_pair_ring_row(args.width, kOutputs);
  const PairRow pr = PairRowSetup(args, y, kEntry, ring_row);
  if (pr.nj == 0) return;
  const bool emit = pr.emit;
  std::int8_t* own = pr.own;
  const int nj = pr.nj;
  std::int8_t* const* bdst = pr.bdst;
  const std::int8_t* const* cells = pr.cells;
  HWY_ALIGN std::uint64_t off[6][16];
  const std::int8_t* walk = args.walk;
  const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi_idx = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  const auto mhi = hn::Set(di, 0xF0), mlo = hn::Set(di, 15);
  const std::uint8_t* row = args.plane + static_cast<std::ptrdiff_t>(y) * args.stride;
  const std::uint8_t* rows[7];  // rows y - 3 .. y + 3
  for (int d = -3; d <= 3; ++d) rows[3 + d] = row + static_cast<std::ptrdiff_t>(d) * args.stride;
  // Q from x = -8 to past width + 3: every Q whose B half serves a pixel of the row.
  for (int x = -8; x < args.width + 3; x += 16) {
    const auto a = hn::PromoteTo(di, hn::LoadU(d8, row + x));
    const auto ca = hn::ShiftLeft<12>(hn::And(a, mhi)), wa = hn::ShiftLeft<16>(hn::And(a, mlo));
    auto store_offsets = [&](int i, hn::Vec<DI> cell, hn::Vec<DI> wo) HWY_ATTR {
      _mm512_store_si512(off[i], _mm512_permutex2var_epi32(cell.raw, lo_idx, wo.raw));
      _mm512_store_si512(off[i] + 8, _mm512_permutex2var_epi32(cell.raw, hi_idx, wo.raw));
    };
    RowPairOffsets<kOutputs>(args, pr, rows, y, x, ca, wa, store_offsets);
    hn::Vec<DI> sum[3] = {hn::Zero(di), hn::Zero(di), hn::Zero(di)};
    if constexpr (kOutputs == 1) {
      const __m128i ones = _mm_set1_epi16(1);
      // One pixel's look-ups; kFull: all 6 pairs (unrolled at compile time), as in stage 2.
      auto pixel = [&](int p, auto full) HWY_ATTR {
        constexpr bool kFull = decltype(full)::value;
        const int count = kFull ? 6 : nj;
        __m256i acc = _mm256_setzero_si256();
        const std::ptrdiff_t px = static_cast<std::ptrdiff_t>(x + p) * kEntry;
        for (int i = 0; i < count; ++i) {
          const std::uint64_t o = off[i][p];
          const __m256i w = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + (o >> 32))));
          const __m256i m = _mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cells[i] + (o & 0xffffffffu))));
          acc = _mm256_add_epi16(acc, m);
          __m128i* dst = reinterpret_cast<__m128i*>(bdst[i] + px);
          _mm_storeu_si128(dst, _mm_add_epi16(_mm_loadu_si128(dst), _mm256_extracti128_si256(m, 1)));
        }
        __m128i* mine = reinterpret_cast<__m128i*>(own + px);
        const __m128i t = _mm_add_epi16(_mm256_castsi256_si128(acc), _mm_loadu_si128(mine));
        _mm_storeu_si128(mine, _mm_setzero_si128());
        return _mm_madd_epi16(t, ones);
      };
      __m128i r[16];
      if (nj == 6)
        for (int p = 0; p < 16; ++p) r[p] = pixel(p, std::true_type{});
      else
        for (int p = 0; p < 16; ++p) r[p] = pixel(p, std::false_type{});
      if (!emit) continue;
      __m512i R[4];
      for (int g = 0; g < 4; ++g) {
        R[g] = _mm512_castsi128_si512(r[g]);
        R[g] = _mm512_inserti32x4(R[g], r[g + 4], 1);
        R[g] = _mm512_inserti32x4(R[g], r[g + 8], 2);
        R[g] = _mm512_inserti32x4(R[g], r[g + 12], 3);
      }
      const __m512i x01 = _mm512_add_epi32(_mm512_unpacklo_epi64(R[0], R[1]), _mm512_unpackhi_epi64(R[0], R[1]));
      const __m512i x23 = _mm512_add_epi32(_mm512_unpacklo_epi64(R[2], R[3]), _mm512_unpackhi_epi64(R[2], R[3]));
      const __m512 f01 = _mm512_castsi512_ps(x01), f23 = _mm512_castsi512_ps(x23);
      sum[0] = hn::Vec<DI>{_mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0x88)),
                                            _mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0xDD)))};
      if (args.stage == 1) {
        auto v = hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 3.0f));
        hn::StoreU(hn::DemoteTo(d8, RoundClip(v)), d8, args.out_bytes + x);
      } else {  // stage 2 of a 1-output model (lerf-l)
        auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                         hn::Set(df, 127.0f));
        const auto word = hn::Or(hn::ShiftLeft<24>(a), RoundClip(v));
        hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
      }
    } else {
      const __m512i ones = _mm512_set1_epi16(1);
      // One pixel's look-ups; kFull: all 6 pairs on an output row (the common case, unrolled
      // at compile time), otherwise the nj pairs of the row.
      auto pixel = [&](int p, auto full) HWY_ATTR {
        constexpr bool kFull = decltype(full)::value;
        const int count = kFull ? 6 : nj;
        const std::ptrdiff_t px = static_cast<std::ptrdiff_t>(x + p) * kEntry;
        __m512i acc = _mm512_setzero_si512();
        for (int i = 0; i < count; ++i) {
          const std::uint64_t o = off[i][p];
          const __m512i w = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + (o >> 32))));
          const std::int8_t* cl = cells[i] + (o & 0xffffffffu);
          if (kFull || emit) acc = _mm512_add_epi16(acc, _mm512_maddubs_epi16(w, _mm512_loadu_si512(cl)));
          std::int8_t* dst = bdst[i] + px;
          _mm512_storeu_si512(dst, _mm512_add_epi16(_mm512_loadu_si512(dst),
                                                    _mm512_maddubs_epi16(w, _mm512_loadu_si512(cl + 64))));
        }
        std::int8_t* mine = own + px;
        const __m512i t = _mm512_add_epi16(acc, _mm512_loadu_si512(mine));
        _mm512_storeu_si512(mine, _mm512_setzero_si512());
        return _mm512_madd_epi16(t, ones);
      };
      const bool full = emit && nj == 6;
      __m512i G[4];
      for (int g = 0; g < 4; ++g) {
        __m512i r[4];
        for (int q = 0; q < 4; ++q)
          r[q] = full ? pixel(4 * g + q, std::true_type{}) : pixel(4 * g + q, std::false_type{});
        const __m512i x01 = _mm512_add_epi32(_mm512_unpacklo_epi64(r[0], r[1]), _mm512_unpackhi_epi64(r[0], r[1]));
        const __m512i x23 = _mm512_add_epi32(_mm512_unpacklo_epi64(r[2], r[3]), _mm512_unpackhi_epi64(r[2], r[3]));
        const __m512 f01 = _mm512_castsi512_ps(x01), f23 = _mm512_castsi512_ps(x23);
        G[g] = _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0x88)),
                                _mm512_castps_si512(_mm512_shuffle_ps(f01, f23, 0xDD)));
      }
      if (!emit) continue;
      const __m512i t0 = _mm512_shuffle_i32x4(G[0], G[1], 0x44), t1 = _mm512_shuffle_i32x4(G[2], G[3], 0x44);
      const __m512i t2 = _mm512_shuffle_i32x4(G[0], G[1], 0xEE), t3 = _mm512_shuffle_i32x4(G[2], G[3], 0xEE);
      sum[0] = hn::Vec<DI>{_mm512_shuffle_i32x4(t0, t1, 0x88)};
      sum[1] = hn::Vec<DI>{_mm512_shuffle_i32x4(t0, t1, 0xDD)};
      sum[2] = hn::Vec<DI>{_mm512_shuffle_i32x4(t2, t3, 0x88)};
      auto word = hn::ShiftLeft<24>(a);
      for (int k = 0; k < 3; ++k) {
        auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[k]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                         hn::Set(df, 127.0f));
        auto h = RoundClip(v);
        word = hn::Or(word, k == 0 ? h : (k == 1 ? hn::ShiftLeft<8>(h) : hn::ShiftLeft<16>(h)));
      }
      hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
    }
  }
}
#endif

#if HWY_TARGET == HWY_AVX2
// The rotation-pair kernel with 256-bit vectors (8 pixels per block): the same look-ups and
// integer sums as the AVX-512 one, offsets in two arrays, horizontal sums by hadd.
HWY_INLINE __m128i SumFour(__m128i r0, __m128i r1, __m128i r2, __m128i r3) {
  return _mm_hadd_epi32(_mm_hadd_epi32(r0, r1), _mm_hadd_epi32(r2, r3));  // dword q = sum of r_q
}
template <int kOutputs>
void LutRowPairs2(const LutPairArgs& args, int y) {
  const DF df;
  const DI di;
  const D8 d8;
  constexpr int kEntry = kOutputs == 1 ? 16 : 64;
  const std::size_t ring_row = lut_pair_ring_row(args.width, kOutputs);
  const PairRow pr = PairRowSetup(args, y, kEntry, ring_row);
  if (pr.nj == 0) return;
  const bool emit = pr.emit;
  std::int8_t* own = pr.own;
  const int nj = pr.nj;
  std::int8_t* const* bdst = pr.bdst;
  const std::int8_t* const* cells = pr.cells;
  HWY_ALIGN std::int32_t coff[6][8], woff[6][8];
  const std::int8_t* walk = args.walk;
  const auto mhi = hn::Set(di, 0xF0), mlo = hn::Set(di, 15);
  const std::uint8_t* row = args.plane + static_cast<std::ptrdiff_t>(y) * args.stride;
  const std::uint8_t* rows[7];  // rows y - 3 .. y + 3
  for (int d = -3; d <= 3; ++d) rows[3 + d] = row + static_cast<std::ptrdiff_t>(d) * args.stride;
  const __m128i ones = _mm_set1_epi16(1);
  for (int x = -8; x < args.width + 3; x += 8) {
    const auto a = hn::PromoteTo(di, hn::LoadU(d8, row + x));
    const auto ca = hn::ShiftLeft<12>(hn::And(a, mhi)), wa = hn::ShiftLeft<16>(hn::And(a, mlo));
    RowPairOffsets<kOutputs>(args, pr, rows, y, x, ca, wa, [&](int i, hn::Vec<DI> cell, hn::Vec<DI> wo) HWY_ATTR {
      hn::Store(cell, di, coff[i]);
      hn::Store(wo, di, woff[i]);
    });
    hn::Vec<DI> sum[3] = {hn::Zero(di), hn::Zero(di), hn::Zero(di)};
    if constexpr (kOutputs == 1) {
      __m128i r[8];
      for (int p = 0; p < 8; ++p) {
        __m256i acc = _mm256_setzero_si256();
        const std::ptrdiff_t px = static_cast<std::ptrdiff_t>(x + p) * kEntry;
        for (int i = 0; i < nj; ++i) {
          const __m256i w = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + woff[i][p])));
          const __m256i m = _mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cells[i] + coff[i][p])));
          acc = _mm256_add_epi16(acc, m);
          __m128i* dst = reinterpret_cast<__m128i*>(bdst[i] + px);
          _mm_storeu_si128(dst, _mm_add_epi16(_mm_loadu_si128(dst), _mm256_extracti128_si256(m, 1)));
        }
        __m128i* mine = reinterpret_cast<__m128i*>(own + px);
        const __m128i t = _mm_add_epi16(_mm256_castsi256_si128(acc), _mm_loadu_si128(mine));
        _mm_storeu_si128(mine, _mm_setzero_si128());
        r[p] = _mm_madd_epi16(t, ones);
      }
      if (!emit) continue;
      sum[0] = hn::Vec<DI>{_mm256_set_m128i(SumFour(r[4], r[5], r[6], r[7]), SumFour(r[0], r[1], r[2], r[3]))};
      if (args.stage == 1) {
        auto v = hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 3.0f));
        hn::StoreU(hn::DemoteTo(d8, RoundClip(v)), d8, args.out_bytes + x);
      } else {
        auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                         hn::Set(df, 127.0f));
        const auto word = hn::Or(hn::ShiftLeft<24>(a), RoundClip(v));
        hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
      }
    } else {
      const __m256i ones256 = _mm256_set1_epi16(1);
      __m128i r[3][8];
      for (int p = 0; p < 8; ++p) {
        __m256i acc01 = _mm256_setzero_si256();
        __m128i acc2 = _mm_setzero_si128();
        const std::ptrdiff_t px = static_cast<std::ptrdiff_t>(x + p) * kEntry;
        for (int i = 0; i < nj; ++i) {
          const __m256i w = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(walk + woff[i][p])));
          const std::int8_t* cl = cells[i] + coff[i][p];
          // Both outputs 2 in one multiply (bytes 32..63: T's, then T''s copy): low half A, high half B.
          const __m256i m2 = _mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + 32)));
          if (emit) {
            acc01 = _mm256_add_epi16(acc01, _mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl))));
            acc2 = _mm_add_epi16(acc2, _mm256_castsi256_si128(m2));
          }
          __m256i* d01 = reinterpret_cast<__m256i*>(bdst[i] + px);
          __m128i* d2 = reinterpret_cast<__m128i*>(bdst[i] + px + 32);
          _mm256_storeu_si256(d01, _mm256_add_epi16(_mm256_loadu_si256(d01),
                                                    _mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + 64)))));
          _mm_storeu_si128(d2, _mm_add_epi16(_mm_loadu_si128(d2), _mm256_extracti128_si256(m2, 1)));
        }
        __m256i* m01 = reinterpret_cast<__m256i*>(own + px);
        __m128i* m2 = reinterpret_cast<__m128i*>(own + px + 32);
        const __m256i t01 = _mm256_madd_epi16(_mm256_add_epi16(acc01, _mm256_loadu_si256(m01)), ones256);
        const __m128i t2 = _mm_madd_epi16(_mm_add_epi16(acc2, _mm_loadu_si128(m2)), ones);
        _mm256_storeu_si256(m01, _mm256_setzero_si256());
        _mm_storeu_si128(m2, _mm_setzero_si128());
        r[0][p] = _mm256_castsi256_si128(t01);
        r[1][p] = _mm256_extracti128_si256(t01, 1);
        r[2][p] = t2;
      }
      if (!emit) continue;
      for (int k = 0; k < 3; ++k)
        sum[k] = hn::Vec<DI>{_mm256_set_m128i(SumFour(r[k][4], r[k][5], r[k][6], r[k][7]),
                                              SumFour(r[k][0], r[k][1], r[k][2], r[k][3]))};
      auto word = hn::ShiftLeft<24>(a);
      for (int k = 0; k < 3; ++k) {
        auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[k]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                         hn::Set(df, 127.0f));
        auto h = RoundClip(v);
        word = hn::Or(word, k == 0 ? h : (k == 1 ? hn::ShiftLeft<8>(h) : hn::ShiftLeft<16>(h)));
      }
      hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
    }
  }
}
#endif

bool LutRowPairs(const LutPairArgs& args, int y) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  if (args.outputs == 3) LutRowPairsT<3>(args, y);
  else if (args.outputs == 1) LutRowPairsT<1>(args, y);
  else return false;
  return true;
#elif HWY_TARGET == HWY_AVX2
  if (args.outputs == 3) LutRowPairs2<3>(args, y);
  else if (args.outputs == 1) LutRowPairs2<1>(args, y);
  else return false;
  return true;
#else
  (void)args, (void)y;
  return false;
#endif
}

bool LutPairsSupported() {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
  return true;
#else
  return false;
#endif
}

template <int kOutputs>
void LutRowT(const LutRowArgs& args) {
  const DF df;
  const DI di;
  const D8 d8;
  const int N = static_cast<int>(hn::Lanes(di));
  for (int x = 0; x < args.width; x += N) {  // rows are padded on the right
#if HWY_TARGET == HWY_SCALAR
    LutSums sums{{hn::Zero(di), hn::Zero(di), hn::Zero(di)}};
#else
    LutSums sums{hn::Zero(D16()), hn::Zero(D16())};
#endif
    const auto a = hn::PromoteTo(di, hn::LoadU(d8, args.rows[3] + x));
    const auto va = hn::Mul(hn::ShiftRight<4>(a), hn::Set(di, 4913 * kOutputs));
    const auto ka = hn::Or(hn::ShiftLeft<14>(hn::And(a, hn::Set(di, 15))), hn::Set(di, 4913 * kOutputs));
    for (int t = 0; t < 12; ++t) {
      auto load = [&](int k) {
        const std::uint8_t* p = args.rows[args.dy[t][k] + 3] + x + args.dx[t][k];
        return hn::PromoteTo(di, hn::LoadU(d8, p));
      };
      SimplexAdd<kOutputs>(args.luts[t], va, ka, load(1), load(2), load(3), sums);
    }
#if HWY_TARGET == HWY_SCALAR
    const hn::Vec<DI>* sum = sums.s;
#else
    // The three sums, sign-extended from their 16-bit halves.
    const auto even = hn::BitCast(di, sums.even);
    hn::Vec<DI> sum[3] = {hn::ShiftRight<16>(hn::ShiftLeft<16>(even)),
                          hn::ShiftRight<16>(hn::ShiftLeft<16>(hn::BitCast(di, sums.odd))), hn::ShiftRight<16>(even)};
#endif
    if constexpr (kOutputs == 1) {
      if (args.stage == 1) {
        // acc = sum / 16 exactly (multiples of 1/16 far below 2^24), then acc / 3.
        auto v = hn::Div(hn::Mul(hn::ConvertTo(df, sum[0]), hn::Set(df, 0.0625f)), hn::Set(df, 3.0f));
        hn::StoreU(hn::DemoteTo(d8, RoundClip(v)), d8, args.out_bytes + x);
        continue;
      }
    }
    // Stage 2: h = round(clip(acc / 12 + 127)), packed with the centre sample in byte 3.
    auto word = hn::ShiftLeft<24>(a);
    for (int k = 0; k < kOutputs; ++k) {
      auto v = hn::Add(hn::Div(hn::Mul(hn::ConvertTo(df, sum[k]), hn::Set(df, 0.0625f)), hn::Set(df, 12.0f)),
                       hn::Set(df, 127.0f));
      auto h = RoundClip(v);
      word = hn::Or(word, k == 0 ? h : (k == 1 ? hn::ShiftLeft<8>(h) : hn::ShiftLeft<16>(h)));
    }
    hn::StoreU(hn::BitCast(hn::RebindToUnsigned<DI>(), word), hn::RebindToUnsigned<DI>(), args.out_words + x);
  }
}

void LutRow(const LutRowArgs& args) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  if (args.walk && args.cells[0]) {
    if (args.outputs == 3) LutRowWalk<3>(args);
    else LutRowWalk<1>(args);
    return;
  }
#endif
  if (args.outputs == 3) LutRowT<3>(args);
  else LutRowT<1>(args);
}

// exp(x) for x <= 0 (LeRF-G's normalised weights): 2^(x log2 e) split into 2^round and a
// degree-6 Taylor polynomial of 2^f on [-0.5, 0.5] (relative error ~1e-7, as float's own);
// arguments below -87 give 2^-126 or so instead of 0, harmless next to the weight 1 of qmin.
// Also exact to float for 0 < x < 88 (the 2x decode's exp(B / 16) <= e^6.25).
HWY_INLINE hn::Vec<DF> ExpNonPositive(hn::Vec<DF> x) {
  const DF df;
  const DI di;
  const auto t = hn::Mul(hn::Max(x, hn::Set(df, -87.0f)), hn::Set(df, 1.44269504088896341f));
  const auto r = hn::Round(t);
  const auto f = hn::Sub(t, r);
  auto p = hn::Set(df, 1.5403530393381609e-4f);
  p = hn::MulAdd(p, f, hn::Set(df, 1.3333558146428443e-3f));
  p = hn::MulAdd(p, f, hn::Set(df, 9.6181291076284772e-3f));
  p = hn::MulAdd(p, f, hn::Set(df, 5.5504108664821580e-2f));
  p = hn::MulAdd(p, f, hn::Set(df, 2.4022650695910071e-1f));
  p = hn::MulAdd(p, f, hn::Set(df, 6.9314718055994531e-1f));
  p = hn::MulAdd(p, f, hn::Set(df, 1.0f));
  const auto scale = hn::BitCast(df, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, r), hn::Set(di, 127))));
  return hn::Mul(p, scale);
}

// Words row[base .. base + 2N) selected by idx (0 .. 2N).
HWY_INLINE hn::Vec<DI> Permute2(hn::Vec<DI> w0, hn::Vec<DI> w1, hn::Vec<DI> idx) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  return hn::Vec<DI>{_mm512_permutex2var_epi32(w0.raw, idx.raw, w1.raw)};
#else
  const DI di;
  const int N = static_cast<int>(hn::Lanes(di));
  const auto sel = hn::IndicesFromVec(di, hn::And(idx, hn::Set(di, N - 1)));
  return hn::IfThenElse(hn::Lt(idx, hn::Set(di, N)), hn::TableLookupLanes(w0, sel), hn::TableLookupLanes(w1, sel));
#endif
}

// One output row of LeRF for one channel: n = nx * ny neighbours per pixel.
template <bool kGaussian>
void LerfRowT(const LerfRowArgs& args) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const int n = args.nx * args.ny;
  float* qbuf = args.scratch;         // n * N: q (G) or weights (L)
  float* sbuf = args.scratch + n * N;  // n * N: samples
  const auto m255 = hn::Set(di, 255);
  const auto k2 = hn::Set(df, 2.0f / 255.0f), k10 = hn::Set(df, 10.0f / 255.0f), one = hn::Set(df, 1.0f);
  for (int x = 0, blk = 0; x < args.width; x += N, ++blk) {
    auto qmin = hn::Set(df, 3.4e38f);
    auto wsum = hn::Zero(df), acc = hn::Zero(df);
    auto bestd = hn::Set(df, 3.4e38f), bests = hn::Zero(df);
    const int base = args.xbase ? args.xbase[blk] : -1;
    int j = 0;
    for (int a = 0; a < args.ny; ++a) {
      const std::int32_t* row = reinterpret_cast<const std::int32_t*>(args.rows[a]);
      const auto dr = hn::Set(df, args.dr[a]);
      hn::Vec<DI> w0 = hn::Zero(di), w1 = hn::Zero(di);
      if (base >= 0) {
        w0 = hn::LoadU(di, row + base);
        w1 = hn::LoadU(di, row + base + N);
      }
      for (int b = 0; b < args.nx; ++b, ++j) {
        const std::size_t t = b * args.table_stride + x;
        auto g = base >= 0 ? Permute2(w0, w1, hn::LoadU(di, args.xlocal + t))
                           : hn::GatherIndex(di, row, hn::LoadU(di, args.xoff + t));
        auto dc = hn::LoadU(df, args.dc + t);
        auto sample = hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<24>(hn::BitCast(hn::RebindToUnsigned<DI>(), g))));
        hn::StoreU(sample, df, sbuf + j * N);
        auto h0 = hn::ConvertTo(df, hn::And(g, m255));
        if constexpr (kGaussian) {
          auto rho = hn::Sub(hn::Mul(h0, k2), one);
          auto sx = hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<8>(g), m255)), k10);
          auto sy = hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<16>(g), m255)), k10);
          auto av = hn::Mul(sx, dr), bv = hn::Mul(sy, dc);
          auto q = hn::Mul(hn::Set(df, 0.5f),
                           hn::Add(hn::Sub(hn::Mul(av, av), hn::Mul(hn::Mul(hn::Mul(hn::Set(df, 2.0f), rho), av), bv)),
                                   hn::Mul(bv, bv)));
          qmin = hn::Min(qmin, q);
          hn::StoreU(q, df, qbuf + j * N);
        } else {
          auto amp = hn::Sub(hn::Mul(h0, k2), one);
          auto lin = [&](hn::Vec<DF> dd) {
            dd = hn::Abs(dd);
            auto v = hn::Max(hn::Zero(df), hn::Sub(one, hn::Mul(amp, dd)));
            return hn::IfThenElseZero(hn::Le(dd, one), v);
          };
          auto w = hn::Mul(lin(dr), lin(dc));
          wsum = hn::Add(wsum, w);
          acc = hn::Add(acc, hn::Mul(w, sample));
          auto dist = hn::Add(hn::Abs(dr), hn::Abs(dc));
          auto better = hn::Lt(dist, bestd);
          bestd = hn::IfThenElse(better, dist, bestd);
          bests = hn::IfThenElse(better, sample, bests);
        }
      }
    }
    hn::Vec<DF> result;
    if constexpr (kGaussian) {
      for (int i = 0; i < n; ++i) {
        auto w = ExpNonPositive(hn::Sub(qmin, hn::LoadU(df, qbuf + i * N)));
        wsum = hn::Add(wsum, w);
        acc = hn::Add(acc, hn::Mul(w, hn::LoadU(df, sbuf + i * N)));
      }
      result = hn::Div(acc, wsum);
    } else {
      // All weights zero (far from every neighbour): the nearest neighbour, as the reference.
      result = hn::IfThenElse(hn::Gt(wsum, hn::Set(df, 1e-20f)), hn::Div(acc, wsum), bests);
    }
    StoreBytes(result, args.out + x);
  }
}

// LeRF-G with 2 x 2 neighbours (every upscale): the same operations as LerfRowT<true> in the
// same order, with q and the samples kept in registers instead of the scratch rows.
void LerfRowG4(const LerfRowArgs& args) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const auto m255 = hn::Set(di, 255);
  const auto k2 = hn::Set(df, 2.0f / 255.0f), k10 = hn::Set(df, 10.0f / 255.0f), one = hn::Set(df, 1.0f);
  const auto two = hn::Set(df, 2.0f), half = hn::Set(df, 0.5f);
  for (int x = 0, blk = 0; x < args.width; x += N, ++blk) {
    auto qmin = hn::Set(df, 3.4e38f);
    hn::Vec<DF> q[4], smp[4];
    const int base = args.xbase ? args.xbase[blk] : -1;
    for (int a = 0; a < 2; ++a) {
      const std::int32_t* row = reinterpret_cast<const std::int32_t*>(args.rows[a]);
      const auto dr = hn::Set(df, args.dr[a]);
      hn::Vec<DI> w0 = hn::Zero(di), w1 = hn::Zero(di);
      if (base >= 0) {
        w0 = hn::LoadU(di, row + base);
        w1 = hn::LoadU(di, row + base + N);
      }
      for (int b = 0; b < 2; ++b) {
        const int j = 2 * a + b;
        const std::size_t t = b * args.table_stride + x;
        auto g = base >= 0 ? Permute2(w0, w1, hn::LoadU(di, args.xlocal + t))
                           : hn::GatherIndex(di, row, hn::LoadU(di, args.xoff + t));
        auto dc = hn::LoadU(df, args.dc + t);
        smp[j] = hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<24>(hn::BitCast(hn::RebindToUnsigned<DI>(), g))));
        auto rho = hn::Sub(hn::Mul(hn::ConvertTo(df, hn::And(g, m255)), k2), one);
        auto sx = hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<8>(g), m255)), k10);
        auto sy = hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<16>(g), m255)), k10);
        auto av = hn::Mul(sx, dr), bv = hn::Mul(sy, dc);
        q[j] = hn::Mul(half, hn::Add(hn::Sub(hn::Mul(av, av), hn::Mul(hn::Mul(hn::Mul(two, rho), av), bv)),
                                     hn::Mul(bv, bv)));
        qmin = hn::Min(qmin, q[j]);
      }
    }
    auto wsum = hn::Zero(df), acc = hn::Zero(df);
    for (int i = 0; i < 4; ++i) {
      auto w = ExpNonPositive(hn::Sub(qmin, q[i]));
      wsum = hn::Add(wsum, w);
      acc = hn::Add(acc, hn::Mul(w, smp[i]));
    }
    StoreBytes(hn::Div(acc, wsum), args.out + x);
  }
}

// The decode of LerfRowG4Decoded, once per input word: the sample and the quadratic form's
// coefficients, q(dr, dc) = A dr^2 - B dr dc + C dc^2 with A = sx^2 / 2, B = rho sx sy,
// C = sy^2 / 2 (the same q as kernels::lerf_gauss_q, in fewer operations per output).
// The fields of N packed words (hyperparameter bytes 0..2, the stage-1 sample in byte 3): the
// sample stored at out, rho = 2 h0 / 255 - 1, sigma_x = 10 h1 / 255, sigma_y = 10 h2 / 255.
struct DecodedWords {
  hn::Vec<DF> rho, sx, sy;
};
HWY_INLINE DecodedWords LoadDecodedWords(const std::uint32_t* HWY_RESTRICT words, float* HWY_RESTRICT out) {
  const DF df;
  const DI di;
  const auto m255 = hn::Set(di, 255);
  const auto k2 = hn::Set(df, 2.0f / 255.0f), k10 = hn::Set(df, 10.0f / 255.0f), one = hn::Set(df, 1.0f);
  const auto g = hn::BitCast(di, hn::LoadU(hn::RebindToUnsigned<DI>(), words));
  hn::StoreU(hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<24>(hn::BitCast(hn::RebindToUnsigned<DI>(), g)))), df,
             out);
  return {hn::Sub(hn::Mul(hn::ConvertTo(df, hn::And(g, m255)), k2), one),
          hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<8>(g), m255)), k10),
          hn::Mul(hn::ConvertTo(df, hn::And(hn::ShiftRight<16>(g), m255)), k10)};
}

void LerfDecodeRow(const std::uint32_t* HWY_RESTRICT words, int n, float* HWY_RESTRICT out, std::size_t stride) {
  const DF df;
  const int N = static_cast<int>(hn::Lanes(df));
  const auto half = hn::Set(df, 0.5f);
  for (int x = 0; x < n; x += N) {
    const auto [rho, sx, sy] = LoadDecodedWords(words + x, out + x);
    hn::StoreU(hn::Mul(half, hn::Mul(sx, sx)), df, out + stride + x);
    hn::StoreU(hn::Mul(rho, hn::Mul(sx, sy)), df, out + 2 * stride + x);
    hn::StoreU(hn::Mul(half, hn::Mul(sy, sy)), df, out + 3 * stride + x);
  }
}

HWY_INLINE hn::Vec<DF> Permute2F(hn::Vec<DF> w0, hn::Vec<DF> w1, hn::Vec<DI> idx) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  return hn::Vec<DF>{_mm512_permutex2var_ps(w0.raw, idx.raw, w1.raw)};
#else
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(di));
  const auto sel = hn::IndicesFromVec(df, hn::And(idx, hn::Set(di, N - 1)));
  return hn::IfThenElse(hn::RebindMask(df, hn::Lt(idx, hn::Set(di, N))), hn::TableLookupLanes(w0, sel),
                        hn::TableLookupLanes(w1, sel));
#endif
}

// LerfRowG4 on decoded rows (LerfRowArgs::decoded): q from the decoded coefficients (FMA, so
// not bit-exact with LerfRowG4; the same tolerance against the reference), the same exp and sums.
void LerfRowG4Decoded(const LerfRowArgs& args) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const std::size_t ds = args.decoded_stride;
  for (int x = 0, blk = 0; x < args.width; x += N, ++blk) {
    auto qmin = hn::Set(df, 3.4e38f);
    hn::Vec<DF> q[4], smp[4];
    const int base = args.xbase ? args.xbase[blk] : -1;
    for (int a = 0; a < 2; ++a) {
      const float* row = args.decoded[a];
      const auto dr = hn::Set(df, args.dr[a]), dr2 = hn::Set(df, args.dr[a] * args.dr[a]);
      hn::Vec<DF> w0[4], w1[4];
      if (base >= 0)
        for (int k = 0; k < 4; ++k) {
          w0[k] = hn::LoadU(df, row + k * ds + base);
          w1[k] = hn::LoadU(df, row + k * ds + base + N);
        }
      for (int b = 0; b < 2; ++b) {
        const int j = 2 * a + b;
        const std::size_t t = b * args.table_stride + x;
        hn::Vec<DF> v[4];
        if (base >= 0) {
          const auto idx = hn::LoadU(di, args.xlocal + t);
          for (int k = 0; k < 4; ++k) v[k] = Permute2F(w0[k], w1[k], idx);
        } else {
          const auto idx = hn::LoadU(di, args.xoff + t);
          for (int k = 0; k < 4; ++k) v[k] = hn::GatherIndex(df, row + k * ds, idx);
        }
        auto dc = hn::LoadU(df, args.dc + t);
        smp[j] = v[0];
        // q = (C dc - B dr) dc + A dr^2
        q[j] = hn::MulAdd(hn::MulSub(v[3], dc, hn::Mul(v[2], dr)), dc, hn::Mul(v[1], dr2));
        qmin = hn::Min(qmin, q[j]);
      }
    }
    auto wsum = hn::Zero(df), acc = hn::Zero(df);
    for (int i = 0; i < 4; ++i) {
      auto w = ExpNonPositive(hn::Sub(qmin, q[i]));
      wsum = hn::Add(wsum, w);
      acc = hn::Add(acc, hn::Mul(w, smp[i]));
    }
    StoreBytes(hn::Div(acc, wsum), args.out + x);
  }
}

// LeRF-G at exactly 2x (see LerfX2RowArgs): per input pixel, the factors of
// exp(-q) = exp(-A dr^2) exp(B dr dc) exp(-C dc^2) for dr, dc in {+-1, +-3} / 4:
// arrays 0 sample, 1 / 2 exp(-A / 16)^(1 / 9), 3 / 4 exp(-C / 16)^(1 / 9), 5 .. 10
// exp(B / 16)^(1, -1, 3, -3, 9, -9). Powers by multiplication (relative error ~1e-6). The
// cross factors are clamped at 1e-13 so that no product is subnormal (slow on many CPUs): a
// neighbour whose weight that raises stays below 3e-8 of the nearest one's (>= e^-12.5).
void LerfDecodeRowX2(const std::uint32_t* HWY_RESTRICT words, int n, float* HWY_RESTRICT out, std::size_t stride) {
  const DF df;
  const int N = static_cast<int>(hn::Lanes(df));
  const auto one = hn::Set(df, 1.0f);
  const auto floor = hn::Set(df, 1e-13f);
  auto pow9 = [](hn::Vec<DF> v) HWY_ATTR {
    const auto v2 = hn::Mul(v, v), v4 = hn::Mul(v2, v2);
    return hn::Mul(hn::Mul(v4, v4), v);
  };
  for (int x = 0; x < n; x += N) {
    const auto [rho, sx, sy] = LoadDecodedWords(words + x, out + x);
    const auto k32 = hn::Set(df, 1.0f / 32.0f);
    const auto ea = ExpNonPositive(hn::Neg(hn::Mul(hn::Mul(sx, sx), k32)));  // exp(-A / 16), A = sx^2 / 2
    const auto ec = ExpNonPositive(hn::Neg(hn::Mul(hn::Mul(sy, sy), k32)));
    const auto b16 = hn::Mul(hn::Mul(rho, hn::Mul(sx, sy)), hn::Set(df, 1.0f / 16.0f));  // B / 16
    const auto gp = ExpNonPositive(b16), gm = hn::Div(one, gp);
    const auto gp3 = hn::Mul(hn::Mul(gp, gp), gp), gm3 = hn::Mul(hn::Mul(gm, gm), gm);
    hn::StoreU(ea, df, out + stride + x);
    hn::StoreU(pow9(ea), df, out + 2 * stride + x);
    hn::StoreU(ec, df, out + 3 * stride + x);
    hn::StoreU(pow9(ec), df, out + 4 * stride + x);
    hn::StoreU(hn::Max(gp, floor), df, out + 5 * stride + x);
    hn::StoreU(hn::Max(gm, floor), df, out + 6 * stride + x);
    hn::StoreU(hn::Max(gp3, floor), df, out + 7 * stride + x);
    hn::StoreU(hn::Max(gm3, floor), df, out + 8 * stride + x);
    hn::StoreU(hn::Max(hn::Mul(hn::Mul(gp3, gp3), gp3), floor), df, out + 9 * stride + x);
    hn::StoreU(hn::Max(hn::Mul(hn::Mul(gm3, gm3), gm3), floor), df, out + 10 * stride + x);
  }
}

// One output row of LeRF-G at exactly 2x: output 2k + p blends inputs k - 1 + p and k + p of
// the two rows. Pass 1 sums, per input pixel k and column class c = 2 p + b, the two rows'
// weights (products of the decoded factors) and weighted samples; pass 2 adds each output's
// two columns, divides and interleaves the even and odd outputs. exp(-q) without LerfRowG4's
// qmin shift: the nearest neighbour's weight is at least e^-12.5, so nothing underflows.
void LerfRowG4X2(const LerfX2RowArgs& args) {
  const DF df;
  const D8 d8;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const std::size_t ds = args.decoded_stride;
  const int n = args.pixels;
  const std::size_t len = static_cast<std::size_t>(n) + 4 * kMaxLanes;
  auto arr = [&](int i) { return args.scratch + i * len + kMaxLanes; };  // from -kMaxLanes
  const float* r0 = args.rows[0];
  const float* r1 = args.rows[1];
  // Pass 1 covers every k pass 2 reads, [-1, n rounded up to N, + 1].
  const int n2 = (n + N - 1) / N * N;
  // The arrays each class reads, resolved once per row (not per vector).
  const float* ea0 = r0 + args.ea[0] * ds;
  const float* ea1 = r1 + args.ea[1] * ds;
  const float *ec0[4], *ec1[4], *g0[4], *g1[4];
  float *den[4], *num[4];
  for (int c = 0; c < 4; ++c) {
    ec0[c] = r0 + args.ec[c] * ds, ec1[c] = r1 + args.ec[c] * ds;
    g0[c] = r0 + args.g[0][c] * ds, g1[c] = r1 + args.g[1][c] * ds;
    den[c] = arr(2 * c), num[c] = arr(2 * c + 1);
  }
  for (int k = -1; k < n2 + 1; k += N) {
    const auto s0 = hn::LoadU(df, r0 + k), s1 = hn::LoadU(df, r1 + k);
    const auto a0 = hn::LoadU(df, ea0 + k), a1 = hn::LoadU(df, ea1 + k);
    for (int c = 0; c < 4; ++c) {
      const auto w0 = hn::Mul(hn::Mul(a0, hn::LoadU(df, ec0[c] + k)), hn::LoadU(df, g0[c] + k));
      const auto w1 = hn::Mul(hn::Mul(a1, hn::LoadU(df, ec1[c] + k)), hn::LoadU(df, g1[c] + k));
      hn::StoreU(hn::Add(w0, w1), df, den[c] + k);
      hn::StoreU(hn::MulAdd(w0, s0, hn::Mul(w1, s1)), df, num[c] + k);
    }
  }
  auto to_bytes = [&](hn::Vec<DF> v) HWY_ATTR {
    v = hn::Min(hn::Max(v, hn::Zero(df)), hn::Set(df, 255.0f));
    return hn::DemoteTo(d8, hn::ConvertTo(di, hn::Add(v, hn::Set(df, 0.5f))));
  };
  for (int k = 0; k < n; k += N) {
    const auto de = hn::Add(hn::LoadU(df, arr(0) + k - 1), hn::LoadU(df, arr(2) + k));
    const auto ne = hn::Add(hn::LoadU(df, arr(1) + k - 1), hn::LoadU(df, arr(3) + k));
    const auto dd = hn::Add(hn::LoadU(df, arr(4) + k), hn::LoadU(df, arr(6) + k + 1));
    const auto no = hn::Add(hn::LoadU(df, arr(5) + k), hn::LoadU(df, arr(7) + k + 1));
    const auto r = hn::Div(hn::Set(df, 1.0f), hn::Mul(de, dd));  // one division for both (each >= e^-12.5)
    hn::StoreInterleaved2(to_bytes(hn::Mul(hn::Mul(ne, dd), r)), to_bytes(hn::Mul(hn::Mul(no, de), r)), d8,
                          args.out + 2 * k);
  }
}

void LerfRow(const LerfRowArgs& args) {
  if (args.gaussian && args.nx == 2 && args.ny == 2 && args.decoded[0]) LerfRowG4Decoded(args);
  else if (args.gaussian && args.nx == 2 && args.ny == 2) LerfRowG4(args);
  else if (args.gaussian) LerfRowT<true>(args);
  else LerfRowT<false>(args);
}

void UnpackHyper3(const std::uint32_t* HWY_RESTRICT words, int n, std::uint8_t* HWY_RESTRICT hyper) {
  int x = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::uint8_t> d8;
  const int N = static_cast<int>(hn::Lanes(d8));  // words per step
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(words);
  for (; x + N <= n; x += N) {
    hn::Vec<decltype(d8)> b0, b1, b2, b3;
    hn::LoadInterleaved4(d8, bytes + 4 * x, b0, b1, b2, b3);
    hn::StoreInterleaved3(b0, b1, b2, d8, hyper + 3 * x);
  }
#endif
  for (; x < n; ++x) {
    hyper[3 * x] = static_cast<std::uint8_t>(words[x]);
    hyper[3 * x + 1] = static_cast<std::uint8_t>(words[x] >> 8);
    hyper[3 * x + 2] = static_cast<std::uint8_t>(words[x] >> 16);
  }
}

int LanesF32() { return static_cast<int>(hn::Lanes(DF())); }

}  // namespace HWY_NAMESPACE
}  // namespace lerf::cpu::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lerf::cpu::simd {

HWY_EXPORT(U8ToF32);
HWY_EXPORT(HorizontalPass);
HWY_EXPORT(VerticalPass);
HWY_EXPORT(NearestRow);
HWY_EXPORT(LutRow);
HWY_EXPORT(LutRowPairs);
HWY_EXPORT(LutPairsSupported);
HWY_EXPORT(LerfRow);
HWY_EXPORT(LerfDecodeRow);
HWY_EXPORT(LerfDecodeRowX2);
HWY_EXPORT(LerfRowG4X2);
HWY_EXPORT(LanesF32);
HWY_EXPORT(UnpackHyper3);

void u8_to_f32(const std::uint8_t* in, int n, float* out) { HWY_DYNAMIC_DISPATCH(U8ToF32)(in, n, out); }
void horizontal_pass(const float* in, const std::int32_t* off, const std::int32_t* base, const std::int32_t* local,
                     const float* wt, int taps, std::size_t table_stride, int n, float* out) {
  HWY_DYNAMIC_DISPATCH(HorizontalPass)(in, off, base, local, wt, taps, table_stride, n, out);
}
void vertical_pass(const float* const* rows, const float* w, int taps, int n, std::uint8_t* out) {
  alignas(64) std::uint8_t tail[kMaxLanes];
  HWY_DYNAMIC_DISPATCH(VerticalPass)(rows, w, taps, n, out, tail);
}
void nearest_row(const std::uint8_t* in, const std::int32_t* off, const std::int32_t* base,
                 const std::int32_t* local, int n, std::uint8_t* out) {
  alignas(64) std::uint8_t tail[kMaxLanes];
  HWY_DYNAMIC_DISPATCH(NearestRow)(in, off, base, local, n, out, tail);
}
void lut_row(const LutRowArgs& args) { HWY_DYNAMIC_DISPATCH(LutRow)(args); }
bool lut_row_pairs(const LutPairArgs& args, int y) { return HWY_DYNAMIC_DISPATCH(LutRowPairs)(args, y); }
bool lut_pairs_supported() { return HWY_DYNAMIC_DISPATCH(LutPairsSupported)(); }
std::size_t lut_pair_ring_row(int width, int outputs) {
  return static_cast<std::size_t>(width + 3 * kLutPad + 16) * (outputs == 1 ? 16 : 64);
}
Table lut_pair_cells(const std::int8_t* lut, int outputs) {
  // T at byte 16 o + corner, the transposed T'(a, b, c, d) = T(d, c, b, a) at half + 16 o + corner.
  const std::size_t cell_bytes = outputs == 1 ? 32 : 128, half = cell_bytes / 2;
  Table cells(cell_bytes * 65536);
  for (int cell = 0; cell < 65536; ++cell) {
    const int A = cell >> 12, B = (cell >> 8) & 15, C = (cell >> 4) & 15, D = cell & 15;
    for (int corner = 0; corner < 16; ++corner) {
      const int i = corner >> 3, j = (corner >> 2) & 1, k = (corner >> 1) & 1, l = corner & 1;
      const std::int8_t* t = lut + static_cast<std::size_t>((A + i) * 4913 + (B + j) * 289 + (C + k) * 17 + D + l) * outputs;
      const std::int8_t* tr = lut + static_cast<std::size_t>((D + l) * 4913 + (C + k) * 289 + (B + j) * 17 + A + i) * outputs;
      for (int o = 0; o < outputs; ++o) {
        cells.data()[cell_bytes * cell + 16 * o + corner] = t[o];
        cells.data()[cell_bytes * cell + half + 16 * o + corner] = tr[o];
      }
      if (outputs == 3) cells.data()[cell_bytes * cell + 48 + corner] = tr[2];
    }
  }
  return cells;
}
std::vector<std::int8_t> lut_cells(const std::int8_t* lut) {
  std::vector<std::int8_t> cells(16 * 16 * 16 * 16 * 16);
  for (int a = 0; a < 16; ++a)
    for (int b = 0; b < 16; ++b)
      for (int c = 0; c < 16; ++c)
        for (int d = 0; d < 16; ++d)
          for (int corner = 0; corner < 16; ++corner)
            cells[16 * (4096 * a + 256 * b + 16 * c + d) + corner] =
                lut[(a + (corner >> 3)) * 4913 + (b + ((corner >> 2) & 1)) * 289 + (c + ((corner >> 1) & 1)) * 17 +
                    d + (corner & 1)];
  return cells;
}
Table::Table(std::size_t bytes) : bytes_(bytes) {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  data_ = static_cast<std::int8_t*>(std::aligned_alloc(kHuge, rounded));
  if (!data_) throw std::bad_alloc();
  madvise(data_, rounded, MADV_HUGEPAGE);  // a hint: without it (or THP off) small pages serve
  std::memset(data_, 0, bytes);
}
Table& Table::operator=(Table&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = o.data_, bytes_ = o.bytes_;
    o.data_ = nullptr, o.bytes_ = 0;
  }
  return *this;
}
Table::~Table() { std::free(data_); }

Table lut_cells(const std::int8_t* lut, int outputs) {
  const std::size_t cell_bytes = outputs == 1 ? 16 : 64;
  Table cells(cell_bytes * 65536);
  for (int cell = 0; cell < 65536; ++cell)
    for (int corner = 0; corner < 16; ++corner) {
      const int a = (cell >> 12) + (corner >> 3), b = ((cell >> 8) & 15) + ((corner >> 2) & 1);
      const int c = ((cell >> 4) & 15) + ((corner >> 1) & 1), d = (cell & 15) + (corner & 1);
      const std::int8_t* v = lut + static_cast<std::size_t>(a * 4913 + b * 289 + c * 17 + d) * outputs;
      for (int o = 0; o < outputs; ++o) cells.data()[cell_bytes * cell + 16 * o + corner] = v[o];
    }
  return cells;
}
const Table& walk_table() {
  static const Table table = [] {
    using namespace lerf::lut;
    Table w(std::size_t{16} * 65536);
    for (int e = 0; e < 65536; ++e) {
      const int f[4] = {e >> 12, (e >> 8) & 15, (e >> 4) & 15, e & 15};
      int r[4], sorted[4];
      for (int i = 0; i < 4; ++i) r[i] = lerf_simplex_rank(f[0], f[1], f[2], f[3], i);
      for (int k = 0; k < 4; ++k) sorted[k] = lerf_simplex_sorted(f[0], f[1], f[2], f[3], r[0], r[1], r[2], r[3], k);
      int corner = 0;  // bit 8 >> i for dimension i (a, b, c, d)
      for (int k = 0; k < 5; ++k) {
        w.data()[std::size_t{16} * e + corner] =
            static_cast<std::int8_t>(lerf_simplex_weight(sorted[0], sorted[1], sorted[2], sorted[3], k));
        if (k < 4)
          for (int i = 0; i < 4; ++i)
            if (r[i] == k) corner |= 8 >> i;
      }
    }
    return w;
  }();
  return table;
}
void lerf_row(const LerfRowArgs& args) { HWY_DYNAMIC_DISPATCH(LerfRow)(args); }
void lerf_decode_row(const std::uint32_t* words, int n, float* out, std::size_t stride) {
  HWY_DYNAMIC_DISPATCH(LerfDecodeRow)(words, n, out, stride);
}
void lerf_decode_row_x2(const std::uint32_t* words, int n, float* out, std::size_t stride) {
  HWY_DYNAMIC_DISPATCH(LerfDecodeRowX2)(words, n, out, stride);
}
void lerf_row_g4x2(const LerfX2RowArgs& args) { HWY_DYNAMIC_DISPATCH(LerfRowG4X2)(args); }
int lanes_f32() { return HWY_DYNAMIC_DISPATCH(LanesF32)(); }
void unpack_hyper3(const std::uint32_t* words, int n, std::uint8_t* hyper) {
  HWY_DYNAMIC_DISPATCH(UnpackHyper3)(words, n, hyper);
}

std::vector<std::pair<std::int64_t, std::string>> available_targets() {
  std::vector<std::pair<std::int64_t, std::string>> r;
  for (std::int64_t t : hwy::SupportedAndGeneratedTargets()) r.emplace_back(t, hwy::TargetName(t));
  return r;
}
void force_target(std::int64_t target) { hwy::SetSupportedTargetsForTest(target); }
std::string current_target() {
  for (std::int64_t t : hwy::SupportedAndGeneratedTargets()) return hwy::TargetName(t);  // best first
  return "none";
}

}  // namespace lerf::cpu::simd
#endif
