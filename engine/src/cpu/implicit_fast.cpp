// The implicit methods' CPU fast path (docs/IMPLICIT.md), proven against the scalar
// reference in implicit.cpp by tests/test_implicit.cpp:
// - encoder convolutions as im2col of one row at a time x GEMM (memory: one row of 9C values
//   per thread, never the whole image);
// - the query-independent part of each decoder's first layer (W_U U(p) + b, LIIF / A-LIIF)
//   or LMF's whole latent MLP computed once per input pixel in the analysis: a query then
//   costs its [rel, cell] terms and the hidden layers;
// - decoders over blocks of queries x 4 corners as GEMMs (Eigen).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "implicit_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/thread_pool.hpp"

#define LERF_IMPLICIT_ISA generic
#include "implicit_fast.inc"
#undef LERF_IMPLICIT_ISA

namespace lerf::cpu {

// The AVX2 + FMA build of the same code (implicit_fast_avx2.cpp).
namespace avx2 {
struct Net;
Net* make_net(Method method, const ImplicitModel& m);
void destroy(Net* n);
void analyse(const Net& n, ConstPlaneView in, int channel, std::vector<float>& field, std::vector<float>& mod,
             ThreadPool& pool);
void eval(const Net& n, const float* field, ConstPlaneView in, int channel, const ImplicitQuery* q, int count,
          float* y);
}  // namespace avx2

namespace {
bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
// Which build runs: AVX2 + FMA where the CPU has them, unless LERF_IMPLICIT_ISA=baseline (tests
// run both: set_implicit_isa).
ImplicitIsa detected_isa() {
  if (const char* e = std::getenv("LERF_IMPLICIT_ISA"); e && std::string(e) == "baseline") return ImplicitIsa::Baseline;
  return cpu_has_avx2_fma() ? ImplicitIsa::Avx2Fma : ImplicitIsa::Baseline;
}
ImplicitIsa& isa_override() {
  static ImplicitIsa isa = detected_isa();
  return isa;
}
}  // namespace

ImplicitIsa implicit_isa() { return isa_override(); }
bool set_implicit_isa(ImplicitIsa isa) {
  if (isa == ImplicitIsa::Avx2Fma && !cpu_has_avx2_fma()) return false;
  isa_override() = isa;
  return true;
}

struct ImplicitFastNet {
  generic::Net* base = nullptr;
  avx2::Net* fast = nullptr;  // non-null: the AVX2 + FMA build
  ~ImplicitFastNet() {
    if (base) generic::destroy(base);
    if (fast) avx2::destroy(fast);
  }
};

void ImplicitFastNetDeleter::operator()(ImplicitFastNet* n) const { delete n; }

std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> make_implicit_fast_net(Method method,
                                                                                 const ImplicitModel& model) {
  std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> n(new ImplicitFastNet);
  if (implicit_isa() == ImplicitIsa::Avx2Fma) n->fast = avx2::make_net(method, model);
  else n->base = generic::make_net(method, model);
  return n;
}

void implicit_fast_analyse(const ImplicitFastNet& n, ConstPlaneView in, int channel, std::vector<float>& field,
                           std::vector<float>& mod, ThreadPool& pool) {
  if (n.fast) avx2::analyse(*n.fast, in, channel, field, mod, pool);
  else generic::analyse(*n.base, in, channel, field, mod, pool);
}

void implicit_fast_eval(const ImplicitFastNet& n, const float* field, ConstPlaneView in, int channel,
                        const ImplicitQuery* q, int count, float* y) {
  if (n.fast) avx2::eval(*n.fast, field, in, channel, q, count, y);
  else generic::eval(*n.base, field, in, channel, q, count, y);
}

const char* implicit_isa_name(const ImplicitFastNet& n) { return n.fast ? "avx2+fma" : "baseline"; }

}  // namespace lerf::cpu
