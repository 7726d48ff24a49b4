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
// Stage 1 from cell tables (lut_cells), 16 pixels at a time: per look-up, the 16 corners of
// the pixel's cell in one 128-bit lane (4 pixels per vector), the simplex walk's 5 vertices
// picked by a byte shuffle, weighted by multiply-adds of bytes. Sums are exact integers, as
// SimplexAdd's: per look-up a 16-bit pair sums to at most 16 * 128, twelve to 24576.
void LutRowCells(const LutRowArgs& args) {
  const DF df;
  const DI di;
  const D8 d8;
  HWY_ALIGN std::int32_t off[12][16], ctl[12][16], wlo[12][16], whi[12][16];
  const __m512i ctl_const = _mm512_set4_epi32(int(0x80808080u), int(0x80808080u), int(0x8080800Fu), 0);
  __m512i idx_ctl[4], idx_w[4];
  for (int g = 0; g < 4; ++g) {
    idx_ctl[g] = _mm512_set_epi32(4 * g + 3, 4 * g + 3, 4 * g + 3, 4 * g + 3, 4 * g + 2, 4 * g + 2, 4 * g + 2,
                                  4 * g + 2, 4 * g + 1, 4 * g + 1, 4 * g + 1, 4 * g + 1, 4 * g, 4 * g, 4 * g, 4 * g);
    idx_w[g] = _mm512_set_epi32(0, 0, 16 + 4 * g + 3, 4 * g + 3, 0, 0, 16 + 4 * g + 2, 4 * g + 2, 0, 0,
                                16 + 4 * g + 1, 4 * g + 1, 0, 0, 16 + 4 * g, 4 * g);
  }
  const __m512i ones16 = _mm512_set1_epi16(1);
  const __m512i pick = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 28, 24, 20, 16, 12, 8, 4, 0);
  for (int x = 0; x < args.width; x += 16) {
    const auto a = hn::PromoteTo(di, hn::LoadU(d8, args.rows[3] + x));
    const auto m15 = hn::Set(di, 15);
    const auto cell_a = hn::ShiftLeft<12>(hn::ShiftRight<4>(a));
    const auto ka = hn::Or(hn::ShiftLeft<4>(hn::And(a, m15)), hn::Set(di, 8));
    for (int t = 0; t < 12; ++t) {
      auto load = [&](int k) {
        const std::uint8_t* p = args.rows[args.dy[t][k] + 3] + x + args.dx[t][k];
        return hn::PromoteTo(di, hn::LoadU(d8, p));
      };
      const auto b = load(1), c = load(2), d = load(3);
      const auto cell = hn::Or(hn::Or(cell_a, hn::ShiftLeft<8>(hn::ShiftRight<4>(b))),
                               hn::Or(hn::ShiftLeft<4>(hn::ShiftRight<4>(c)), hn::ShiftRight<4>(d)));
      hn::Store(hn::ShiftLeft<4>(cell), di, off[t]);
      // Keys LSB << 4 | corner bit (a 8, b 4, c 2, d 1): descending order is the reference's
      // walk (ties: a before b before c before d).
      auto k0 = ka;
      auto k1 = hn::Or(hn::ShiftLeft<4>(hn::And(b, m15)), hn::Set(di, 4));
      auto k2 = hn::Or(hn::ShiftLeft<4>(hn::And(c, m15)), hn::Set(di, 2));
      auto k3 = hn::Or(hn::ShiftLeft<4>(hn::And(d, m15)), hn::Set(di, 1));
      auto cx = [](hn::Vec<DI>& p, hn::Vec<DI>& q) {
        auto hi = hn::Max(p, q);
        q = hn::Min(p, q);
        p = hi;
      };
      cx(k0, k1);
      cx(k2, k3);
      cx(k0, k2);
      cx(k1, k3);
      cx(k1, k2);
      const auto c1 = hn::And(k0, m15);
      const auto c2 = hn::Or(c1, hn::And(k1, m15));
      const auto c3 = hn::Or(c2, hn::And(k2, m15));
      hn::Store(hn::Or(hn::Or(hn::ShiftLeft<8>(c1), hn::ShiftLeft<16>(c2)), hn::ShiftLeft<24>(c3)), di, ctl[t]);
      const auto f0 = hn::ShiftRight<4>(k0), f1 = hn::ShiftRight<4>(k1), f2 = hn::ShiftRight<4>(k2),
                 f3 = hn::ShiftRight<4>(k3);
      const auto w0 = hn::Sub(hn::Set(di, 16), f0), w1 = hn::Sub(f0, f1), w2 = hn::Sub(f1, f2), w3 = hn::Sub(f2, f3);
      hn::Store(hn::Or(hn::Or(w0, hn::ShiftLeft<8>(w1)), hn::Or(hn::ShiftLeft<16>(w2), hn::ShiftLeft<24>(w3))), di,
                wlo[t]);
      hn::Store(f3, di, whi[t]);
    }
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                      _mm512_setzero_si512()};
    for (int t = 0; t < 12; ++t) {
      const std::int8_t* lut = args.cells[t];
      const __m512i vctl = _mm512_load_si512(ctl[t]), vwlo = _mm512_load_si512(wlo[t]),
                    vwhi = _mm512_load_si512(whi[t]);
      for (int g = 0; g < 4; ++g) {
        const std::int32_t* o = off[t] + 4 * g;
        __m512i cells = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lut + o[0])));
        cells = _mm512_inserti32x4(cells, _mm_loadu_si128(reinterpret_cast<const __m128i*>(lut + o[1])), 1);
        cells = _mm512_inserti32x4(cells, _mm_loadu_si128(reinterpret_cast<const __m128i*>(lut + o[2])), 2);
        cells = _mm512_inserti32x4(cells, _mm_loadu_si128(reinterpret_cast<const __m128i*>(lut + o[3])), 3);
        const __m512i sel = _mm512_mask_permutexvar_epi32(ctl_const, 0x1111, idx_ctl[g], vctl);
        const __m512i w = _mm512_maskz_permutex2var_epi32(0x3333, vwlo, idx_w[g], vwhi);
        acc[g] = _mm512_add_epi16(acc[g], _mm512_maddubs_epi16(w, _mm512_shuffle_epi8(cells, sel)));
      }
    }
    // Per lane: dword 0 = pairs 0 + 1, dword 1 = pair 2; their sum in dword 0 of each lane.
    __m512i s[4];
    for (int g = 0; g < 4; ++g) {
      s[g] = _mm512_madd_epi16(acc[g], ones16);
      s[g] = _mm512_add_epi32(s[g], _mm512_srli_epi64(s[g], 32));
    }
    const __m512i s01 = _mm512_permutex2var_epi32(s[0], pick, s[1]);
    const __m512i s23 = _mm512_permutex2var_epi32(s[2], pick, s[3]);
    const hn::Vec<DI> sum{_mm512_shuffle_i64x2(s01, s23, 0x44)};
    auto v = hn::Div(hn::Mul(hn::ConvertTo(df, sum), hn::Set(df, 0.0625f)), hn::Set(df, 3.0f));
    hn::StoreU(hn::DemoteTo(d8, RoundClip(v)), d8, args.out_bytes + x);
  }
}
#endif

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
  if (args.stage == 1 && args.outputs == 1 && args.cells[0]) {
    LutRowCells(args);
    return;
  }
#endif
  if (args.outputs == 3) LutRowT<3>(args);
  else LutRowT<1>(args);
}

// exp(x) for x <= 0 (LeRF-G's normalised weights): 2^(x log2 e) split into 2^round and a
// degree-6 Taylor polynomial of 2^f on [-0.5, 0.5] (relative error ~1e-7, as float's own);
// arguments below -87 give 2^-126 or so instead of 0, harmless next to the weight 1 of qmin.
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

void LerfRow(const LerfRowArgs& args) {
  if (args.gaussian) LerfRowT<true>(args);
  else LerfRowT<false>(args);
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
HWY_EXPORT(LerfRow);
HWY_EXPORT(LanesF32);

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
void lerf_row(const LerfRowArgs& args) { HWY_DYNAMIC_DISPATCH(LerfRow)(args); }
int lanes_f32() { return HWY_DYNAMIC_DISPATCH(LanesF32)(); }

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
