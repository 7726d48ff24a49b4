// One sample of a warp with a classical kernel, widened by the warp's local stretch where it
// minifies (kernels.inc lerf_warp_stretch): the CPU's classical_warp_pixel. Include after the
// `src` buffer (the input bytes) is declared; used by resample_general.comp and, for the
// minified pixels of implicit-method warps, implicit_render.comp.
// m: output -> input homography; (ox, oy): the output pixel; (u, v): its input position;
// r: ceil(kernel radius) (every classical radius is a whole number).
float classical_warp_sample(int kernel, float cubic_a, int r, float m[9], int ox, int oy, float u, float v,
                            int in_w, int in_h, int ch, int border, int c) {
  if (kernel == LERF_VK_KERNEL_NEAREST) {
    int yy = edge_index(int(floor(v + 0.5f)), in_h, border);
    int xx = edge_index(int(floor(u + 0.5f)), in_w, border);
    return float(LOAD_BYTE(src, (yy * in_w + xx) * ch + c));
  }
  float w = m[6] * float(ox) + m[7] * float(oy) + m[8];
  float su = lerf_warp_stretch(m[0], m[1], m[6], m[7], u, w);
  float sv = lerf_warp_stretch(m[3], m[4], m[6], m[7], v, w);
  int rx = int(ceil(float(r) * su)), ry = int(ceil(float(r) * sv));
  int bx = int(floor(u)) - rx + 1, by = int(floor(v)) - ry + 1;
  float sx = 0.0f, sy = 0.0f;
  for (int k = 0; k < 2 * rx; ++k) sx += classical_kernel(kernel, (u - float(bx + k)) / su, cubic_a);
  for (int k = 0; k < 2 * ry; ++k) sy += classical_kernel(kernel, (v - float(by + k)) / sv, cubic_a);
  float acc = 0.0f;
  for (int j = 0; j < 2 * ry; ++j) {
    int row = edge_index(by + j, in_h, border) * in_w;
    float racc = 0.0f;
    for (int k = 0; k < 2 * rx; ++k)
      racc += classical_kernel(kernel, (u - float(bx + k)) / su, cubic_a) *
              float(LOAD_BYTE(src, (row + edge_index(bx + k, in_w, border)) * ch + c));
    acc += classical_kernel(kernel, (v - float(by + j)) / sv, cubic_a) * racc;
  }
  return acc / (sx * sy);
}

// Whether a warp minifies at output pixel (ox, oy) with input position (u, v) along either axis.
bool warp_minifies(float m[9], int ox, int oy, float u, float v) {
  float w = m[6] * float(ox) + m[7] * float(oy) + m[8];
  return lerf_warp_stretch(m[0], m[1], m[6], m[7], u, w) > 1.0f || lerf_warp_stretch(m[3], m[4], m[6], m[7], v, w) > 1.0f;
}
