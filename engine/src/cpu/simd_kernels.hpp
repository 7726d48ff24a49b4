// Vectorised row kernels of the CPU backend's fast paths (simd_kernels.cpp, Google Highway,
// dispatched at run time). Internal to the engine; each has a plain reference (see there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lerf::cpu::simd {

// The widest vector of any compiled target, in 32-bit lanes: tables and row buffers handed
// to these kernels are padded to a multiple of it (and readable that far).
inline constexpr int kMaxLanes = 16;

// out[0..n) = in[0..n) as floats.
void u8_to_f32(const std::uint8_t* in, int n, float* out);
// Classical horizontal pass of one row: out[i] = sum_k wt[k * stride + i] * in[off[k * stride + i]]
// (k ascending), for i in [0, n rounded up to kMaxLanes); in is a float row. Optionally (base
// non-null, tables made for lanes_f32() lanes) block b of lanes_f32() outputs with base[b] >= 0
// reads its taps by permutes: local[k * stride + i] = off - base[b] < 2 * lanes, and `in` is
// readable up to base[b] + 2 * lanes.
void horizontal_pass(const float* in, const std::int32_t* off, const std::int32_t* base, const std::int32_t* local,
                     const float* wt, int taps, std::size_t table_stride, int n, float* out);
// Classical vertical pass: out[i] = to_byte(sum_k w[k] * rows[k][i]) for i in [0, n); rows are
// readable up to n rounded up to kMaxLanes.
void vertical_pass(const float* const* rows, const float* w, int taps, int n, std::uint8_t* out);

// Nearest neighbour, one row: out[i] = in[off[i]] for i in [0, n), with the permute tables of
// horizontal_pass (int32 lanes = lanes_f32()); in readable up to its largest base + 2 * lanes.
void nearest_row(const std::uint8_t* in, const std::int32_t* off, const std::int32_t* base,
                 const std::int32_t* local, int n, std::uint8_t* out);

// A read-only table in its own 2 MiB-aligned block, backed by transparent huge pages where
// the kernel allows (madvise): the LUT look-ups are random accesses over megabytes, and 4 KiB
// pages would cost a TLB miss on most of them.
class Table {
 public:
  Table() = default;
  explicit Table(std::size_t bytes);
  Table(Table&& o) noexcept : data_(o.data_), bytes_(o.bytes_) { o.data_ = nullptr, o.bytes_ = 0; }
  Table& operator=(Table&& o) noexcept;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table();
  std::int8_t* data() const { return data_; }
  std::size_t size() const { return bytes_; }

 private:
  std::int8_t* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// One row of a LeRF LUT stage for one channel.
struct LutRowArgs {
  const std::uint8_t* rows[7];  // rows y-3..y+3 of the edge-padded plane, pointing at x = 0
  int width = 0;                // pixels; rows readable to width + 3 + kMaxLanes
  int outputs = 1;              // values per LUT vertex (1 or 3)
  int stage = 1;                // 1: out_bytes; 2: out_words (hyper bytes, centre sample in byte 3)
  const std::int8_t* luts[12];  // per (pattern, rotation), each readable 4 bytes past its end
  // Optional (AVX-512 targets; both set or none): the same tables re-laid per 4-D cell,
  // lut_cells(luts[t], outputs), and walk_table(). A look-up is then the dot product of the
  // pixel's walk weights (by the samples' LSBs) with its cell's corners (by the MSBs): two
  // loads and one multiply-add instead of 5 gathered vertices and a per-pixel sort.
  const std::int8_t* cells[12] = {};
  const std::int8_t* walk = nullptr;
  int dy[12][4], dx[12][4];     // sample offsets per (pattern, rotation)
  std::uint8_t* out_bytes = nullptr;    // stage 1, width rounded up to kMaxLanes
  std::uint32_t* out_words = nullptr;   // stage 2, width rounded up to kMaxLanes
};
void lut_row(const LutRowArgs& args);
// A stage-1 table (17^4 vertices, 1 output) re-laid per cell: cell (A, B, C, D) of the MSBs
// 0..15 holds at byte 16 * (4096 A + 256 B + 16 C + D) + (8 i + 4 j + 2 k + l) the vertex
// (A + i, B + j, C + k, D + l): the 16 corners of the cell, so any simplex walk's 5 vertices.
std::vector<std::int8_t> lut_cells(const std::int8_t* lut);
// Cells of a table with `outputs` values per vertex: outputs 1 as above (16 bytes per cell);
// outputs 3: 64 bytes per cell, byte 16 * o + corner = output o of that corner, bytes 48..63 zero.
Table lut_cells(const std::int8_t* lut, int outputs);
// The 4-simplex walk of lut.inc as weights per cell corner: entry 4096 fa + 256 fb + 16 fc + fd
// (the LSBs of a, b, c, d), 16 bytes, holds at byte 8 i + 4 j + 2 k + l the weight (in 16ths)
// of corner (i, j, k, l): 5 non-zero bytes at most, summing to 16. One table for every LUT
// (built once per process, 1 MiB).
const Table& walk_table();

// Rotation pairs (AVX-512 and AVX2 targets). Rotation r + 2 of a pattern at pixel P reads the samples
// of rotation r at Q = P - delta in reverse order (delta: the rotated offset of the pattern's
// last sample), and the same table (stage 1: one per pattern; stage 2: rotations 0/2 and 1/3
// share one). The simplex walk of a reversed sample order has the same non-zero vertex weights
// (ties only reorder zero-weight vertices), so the look-up of rotation r + 2 at P is the
// interpolation at Q of the transposed table T'(a, b, c, d) = T(d, c, b, a). A pair cell holds a
// cell of T and the same cell of T': one walk load and one cell load serve both look-ups. The
// sums are integers, so adding the shifted half later (a ring of 4 rows of partial sums) leaves
// the result bit-exact with the reference.
inline constexpr int kLutPad = 16;  // padding (rows and columns) of the planes lut_row_pairs reads
struct LutPairArgs {
  const std::uint8_t* plane = nullptr;  // edge-padded plane at (0, 0): rows [-kLutPad, height + kLutPad),
  std::ptrdiff_t stride = 0;            // columns [-kLutPad, width + 3 * kLutPad) readable
  int width = 0;
  int outputs = 1;
  int stage = 1;                        // 1: out_bytes; 2: out_words
  int y0 = 0;                           // the band's first row: rows y < y0 only feed the ring
  const std::int8_t* pairs[6] = {};     // lut_pair_cells(table of pattern p, parity r) at 2 p + r
  const std::int8_t* walk = nullptr;    // walk_table()
  int dy[6][4], dx[6][4];               // sample offsets of rotation r of pattern p
  int ddy[6], ddx[6];                   // delta of (p, r): the B half belongs to Q + delta
  std::int8_t* ring = nullptr;          // 4 rows of lut_pair_ring_row(width, outputs) bytes, zero at y0 - 3
  std::uint8_t* out_bytes = nullptr;    // stage 1: row y at x = 0, writable [-kLutPad, width + 2 * kLutPad)
  std::uint32_t* out_words = nullptr;   // stage 2: likewise (hyper bytes, centre sample in byte 3)
};
// Adds row y's look-ups (Q in row y) to the ring; for y >= y0 also writes row y's outputs. A band
// [y0, y1) calls it for y = y0 - 3 .. y1 - 1 in order. False: this target has no pair kernel.
bool lut_row_pairs(const LutPairArgs& args, int y);
bool lut_pairs_supported();
std::size_t lut_pair_ring_row(int width, int outputs);
// Pair cells: outputs 1: 32 bytes per cell, T's 16 corners then T''s; outputs 3: 128 bytes,
// T's outputs at 16 o + corner, T''s at 64 + 16 o + corner, bytes 112..127 zero, and bytes
// 48..63 a copy of T''s output 2: the AVX-512 kernel reads T at 0..63 (ignoring lane 3) and T'
// at 64..127; the AVX2 one T's outputs 0, 1 at 0..31, both outputs 2 at once at 32..63, T''s
// outputs 0, 1 at 64..95.
Table lut_pair_cells(const std::int8_t* lut, int outputs);

// One output row of LeRF (separable map) for one channel.
struct LerfRowArgs {
  bool gaussian = true;
  int width = 0;                       // output pixels (tables padded to kMaxLanes)
  int nx = 2, ny = 2;                  // neighbours per axis
  const std::uint32_t* rows[16];       // packed words of the ny input rows (channel applied)
  float dr[16];                        // row distances of those rows
  const std::int32_t* xoff = nullptr;  // [b * table_stride + x]: word index in a row
  const float* dc = nullptr;           // [b * table_stride + x]: column distance
  std::size_t table_stride = 0;
  // Optional (null: gathers), made for lanes_f32() lanes: block i of lanes outputs with
  // xbase[i] >= 0 reads its neighbours by permutes of the 2 * lanes words from xbase[i]:
  // xlocal[b * table_stride + x] = xoff - xbase < 2 * lanes; rows readable that far.
  const std::int32_t* xbase = nullptr;
  const std::int32_t* xlocal = nullptr;
  float* scratch = nullptr;            // 2 * nx * ny * kMaxLanes floats
  std::uint8_t* out = nullptr;         // width rounded up to kMaxLanes
  // Optional, LeRF-G with 2 x 2 neighbours: the 2 rows already decoded by lerf_decode_row
  // (then `rows` is not read). The same q in fewer operations: within the blend's tolerance.
  const float* decoded[2] = {nullptr, nullptr};
  std::size_t decoded_stride = 0;      // floats between the 4 arrays of a decoded row
};
void lerf_row(const LerfRowArgs& args);
// LeRF-G's per-neighbour decode of n packed words (n a multiple of kMaxLanes; channel applied,
// consecutive words), done once per input row instead of once per output that reads it:
// out[0 .. n) sample, out[stride ..) sigma_x^2 / 2, out[2 stride ..) rho sigma_x sigma_y,
// out[3 stride ..) sigma_y^2 / 2.
void lerf_decode_row(const std::uint32_t* words, int n, float* out, std::size_t stride);

// LeRF-G at exactly 2x in both axes (2 x 2 neighbours at distances +-1/4, +-3/4): the Gaussian
// weights factorise per input pixel, exp(-q) = exp(-A dr^2) exp(B dr dc) exp(-C dc^2), with
// dr^2, dc^2 in {1, 9} / 16 and 16 dr dc in {+-1, +-3, +-9}. lerf_decode_row_x2 computes those
// factors once per input row (kX2Arrays arrays, see simd_kernels.cpp); each output then costs
// products instead of four exponentials. Within the blend's tolerance of the reference.
inline constexpr int kX2Arrays = 11;
void lerf_decode_row_x2(const std::uint32_t* words, int n, float* out, std::size_t stride);
// Array of the decoded row holding exp(-A dr^2) for dr = m / 4, m in {+-1, +-3}: 1 or 2.
inline int x2_a_array(int m) { return m == 1 || m == -1 ? 1 : 2; }
// ... exp(-C dc^2) for dc = m / 4: 3 or 4.
inline int x2_c_array(int m) { return m == 1 || m == -1 ? 3 : 4; }
// ... exp(B dr dc) for dr = mr / 4, dc = mc / 4: 5 .. 10.
inline int x2_cross_array(int mr, int mc) {
  const int p = mr * mc, a = p < 0 ? -p : p;
  return 5 + 2 * (a == 1 ? 0 : a == 3 ? 1 : 2) + (p < 0 ? 1 : 0);
}
struct LerfX2RowArgs {
  // The two neighbour rows, decoded by lerf_decode_row_x2 and edge-padded: arrays readable
  // at [-1, pixels + 2 kMaxLanes).
  const float* rows[2] = {nullptr, nullptr};
  std::size_t decoded_stride = 0;  // floats between the arrays of a decoded row
  int ea[2] = {1, 1};              // per row: x2_a_array(4 dr)
  // Column class c = 2 p + b (output parity p, neighbour b = 0 left / 1 right, at input
  // k - 1 + p + b for output 2 k + p): x2_c_array(4 dc), and per row x2_cross_array(4 dr, 4 dc).
  int ec[4] = {3, 3, 3, 3};
  int g[2][4] = {};
  int pixels = 0;                  // output pairs: outputs [0, 2 pixels) written
  float* scratch = nullptr;        // 8 (pixels + 4 kMaxLanes) floats
  std::uint8_t* out = nullptr;     // writable to 2 (pixels rounded up to kMaxLanes)
};
void lerf_row_g4x2(const LerfX2RowArgs& args);

// hyper[3 x + k] = byte k of words[x], k < 3, for x in [0, n).
void unpack_hyper3(const std::uint32_t* words, int n, std::uint8_t* hyper);

int lanes_f32();
// Targets compiled in and supported by this CPU (best first), for tests and the bench.
std::vector<std::pair<std::int64_t, std::string>> available_targets();
// Restricts dispatch to `target` (0: back to the best one). Tests only.
void force_target(std::int64_t target);
std::string current_target();

}  // namespace lerf::cpu::simd
