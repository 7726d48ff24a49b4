// Classical kernels by code (LERF_VK_KERNEL_*), from kernels.inc.
float classical_kernel(int kernel, float x, float cubic_a) {
  if (kernel == LERF_VK_KERNEL_LINEAR) return lerf_kernel_linear(x);
  if (kernel == LERF_VK_KERNEL_CUBIC) return lerf_kernel_cubic(x, cubic_a);
  if (kernel == LERF_VK_KERNEL_LANCZOS3) return lerf_kernel_lanczos3(x);
  return abs(x) < 0.5f ? 1.0f : 0.0f;
}
