#include "lerf/lerf_lut.hpp"

#include <algorithm>
#include <cmath>

#include "lerf/thread_pool.hpp"

namespace lerf {

namespace {

// Sums the lookups of all 3 patterns x 4 rotations for pixel (y, x) of one channel.
// lut_for(pattern, rotation) selects the table; clamping the sample coordinates equals the
// reference's edge padding of the rotated image.
template <typename LutFor>
void accumulate_pixel(ConstPlaneView in, int channel, int y, int x, int outputs, LutFor lut_for, float* acc) {
  const int w = in.width, h = in.height, ch = in.channels;
  for (int p = 0; p < kLutPatterns; ++p) {
    for (int r = 0; r < 4; ++r) {
      std::uint8_t s[4];
      for (int k = 0; k < 4; ++k) {
        auto o = rotate_offset(kLutPatternOffsets[p][k], r);
        int yy = std::clamp(y + o[0], 0, h - 1);
        int xx = std::clamp(x + o[1], 0, w - 1);
        s[k] = in.row(yy)[xx * ch + channel];
      }
      simplex_interpolate_add(lut_for(p, r), outputs, s[0], s[1], s[2], s[3], acc);
    }
  }
}

std::uint8_t round_clip(float v) {
  // numpy/torch round: half to even (the default FE_TONEAREST mode of nearbyint).
  return static_cast<std::uint8_t>(std::nearbyint(std::clamp(v, 0.0f, 255.0f)));
}

}  // namespace

void lerf_stage1(const LutModel& lut, ConstPlaneView in, int channel, PlaneView out, ThreadPool& pool) {
  pool.parallel_for(in.height, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < in.width; ++x) {
        float acc = 0;
        accumulate_pixel(in, channel, y, x, 1, [&](int p, int) { return lut.stage1[p].data(); }, &acc);
        out.row(y)[x * out.channels + channel] = round_clip(acc / 3.0f);
      }
  });
}

void lerf_stage2(const LutModel& lut, ConstPlaneView feat, int channel, std::uint8_t* hyper, int stride,
                 ThreadPool& pool) {
  const int outputs = lut.stage2_outputs;
  pool.parallel_for(feat.height, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < feat.width; ++x) {
        float acc[3] = {0, 0, 0};
        accumulate_pixel(feat, channel, y, x, outputs,
                         [&](int p, int r) { return lut.stage2[p][r & 1].data(); }, acc);
        std::uint8_t* dst =
            hyper + (static_cast<std::size_t>(y) * feat.width + x) * stride + channel * outputs;
        for (int k = 0; k < outputs; ++k) dst[k] = round_clip(acc[k] / 12.0f + 127.0f);
      }
  });
}

}  // namespace lerf
