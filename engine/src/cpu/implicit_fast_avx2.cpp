// The implicit methods' fast path built for AVX2 + FMA (chosen at run time by
// implicit_fast.cpp when the CPU has them). Eigen is renamed (EigenAvx2) and every standard
// header is included before the target region, so no template instance compiled for AVX2 can
// be shared with (and picked by the linker for) the baseline code.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "implicit_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/thread_pool.hpp"

#if defined(__x86_64__) && !defined(__AVX2__)
#pragma GCC push_options
#pragma GCC target("sse3,ssse3,sse4.1,sse4.2,popcnt,avx,avx2,fma,f16c")
// Eigen picks its kernels from these macros, which the pragma does not define.
#define __SSE3__ 1
#define __SSSE3__ 1
#define __SSE4_1__ 1
#define __SSE4_2__ 1
#define __AVX__ 1
#define __AVX2__ 1
#define __FMA__ 1
#define LERF_AVX2_REGION 1
#endif
#define Eigen EigenAvx2
#include <Eigen/Core>

#define LERF_IMPLICIT_ISA avx2
#include "implicit_fast.inc"
#undef LERF_IMPLICIT_ISA
#undef Eigen

#ifdef LERF_AVX2_REGION
#pragma GCC pop_options
#undef __SSE3__
#undef __SSSE3__
#undef __SSE4_1__
#undef __SSE4_2__
#undef __AVX__
#undef __AVX2__
#undef __FMA__
#endif
