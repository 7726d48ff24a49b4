// Helpers shared by every lerfscale compute shader (included after #version).
//
// Planes live in storage buffers of uints holding tightly packed 8-bit samples (rows of
// width * channels bytes, no padding; the host repacks strided rows). Every shader that
// writes bytes runs one invocation per output uint (4 samples), so no two invocations
// write the same word. Dispatches are 1-D with a grid-stride loop.
#extension GL_GOOGLE_include_directive : require

#define LERF_FN
#define LERF_CONST const
#include "lerf/shared/kernels.inc"
#include "lerf/shared/lut.inc"
#include "lerf/shared/vulkan_layout.inc"

layout(local_size_x = LERF_VK_GROUP_SIZE) in;

// Byte i of a packed uint array.
#define LOAD_BYTE(buf, i) int((buf[uint(i) >> 2u] >> ((uint(i) & 3u) * 8u)) & 0xFFu)
// Signed byte i (LUT entries are int8).
#define LOAD_SBYTE(buf, i) bitfieldExtract(int(buf[uint(i) >> 2u]), int((uint(i) & 3u) * 8u), 8)

// Index of sample i along an axis of n under the border rule (Constant clamps its taps).
int edge_index(int i, int n, int border) {
  if (border == LERF_VK_BORDER_REFLECT) {
    int period = 2 * n;
    int m = ((i % period) + period) % period;
    return m < n ? m : period - 1 - m;
  }
  return clamp(i, 0, n - 1);
}

bool inside_axis(float x, int n) { return x >= -0.5f && x <= float(n) - 0.5f; }

uint to_byte(float v) { return v <= 0.0f ? 0u : (v >= 255.0f ? 255u : uint(int(v + 0.5f))); }

uint border_byte(uint packed, int c) { return (packed >> (8u * uint(c))) & 0xFFu; }

// Maps output pixel (x, y) through the homography m (row-major); false when the point has no
// valid input coordinate.
bool map_point(float m[9], int x, int y, out float u, out float v) {
  float fx = float(x), fy = float(y);
  float w = m[6] * fx + m[7] * fy + m[8];
  u = 0.0f;
  v = 0.0f;
  if (!(w > 1e-12f)) return false;
  u = (m[0] * fx + m[1] * fy + m[2]) / w;
  v = (m[3] * fx + m[4] * fy + m[5]) / w;
  return !isnan(u) && !isnan(v) && !isinf(u) && !isinf(v) && abs(u) < 1e9f && abs(v) < 1e9f;
}

// Grid-stride loop over n items.
#define FOR_EACH_ITEM(idx, n) \
  for (uint idx = gl_GlobalInvocationID.x; idx < uint(n); idx += gl_NumWorkGroups.x * uint(LERF_VK_GROUP_SIZE))
