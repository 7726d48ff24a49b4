// Per-axis tables of separable maps, computed by the host in double precision exactly as
// the CPU computes them (so that rounding decisions at ties agree): for every output index,
// the first input sample (before border handling), the output coordinate relative to it, and
// whether the coordinate lies inside the input. X entries first, then Y.
struct AxisEntry {
  int base;
  float frac;
  uint inside;
};
layout(std430, binding = 3) readonly buffer Axis { AxisEntry axis[]; };
