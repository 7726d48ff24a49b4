#include <thread>

#include "cpu_methods.hpp"
#include "fast_paths.hpp"
#include "imlut_cpu.hpp"
#include "implicit_cpu.hpp"
#include "lerf/backend.hpp"
#include "lerf/error.hpp"

namespace lerf {

namespace {

class CpuBackend final : public Backend {
 public:
  CpuBackend(const MethodSetup& setup, int threads) : setup_(setup), pool_(threads) {
    if (is_classical(setup.method)) kernel_ = kernels::classical_kernel(setup.method, setup.cubic_a);
    else if (!setup.model) throw Error(std::string(method_name(setup.method)) + " needs a model");
    if (cpu::default_cpu_path() == cpu::CpuPath::Fast) {
      MethodSetup fs = setup;
      if (is_implicit(setup.method)) fs.model = nullptr;  // FastCpu reads LUT models only
      fast_ = std::make_unique<cpu::FastCpu>(fs);
    }
    if (setup.method == Method::ImLut) imlut_ = std::make_unique<cpu::ImLutCpu>(setup, fast_ != nullptr);
    if (is_implicit(setup.method)) implicit_ = std::make_unique<cpu::ImplicitCpu>(setup, fast_ != nullptr);
  }

  const ImplicitRenderStats* implicit_stats() const {
    return implicit_ ? &implicit_->stats() : nullptr;
  }

  const cpu::FastCpu* fast() const { return fast_.get(); }

  BackendKind kind() const override { return BackendKind::Cpu; }
  std::string description() const override {
    return "cpu (" + std::to_string(pool_.size()) + " thread" + (pool_.size() == 1 ? "" : "s") +
           (fast_ ? "" : ", reference path") + ")";
  }

  std::shared_ptr<const PlaneAnalysis> analyse(ConstPlaneView in) override {
    check_plane(in, "input plane");
    switch (setup_.method) {
      case Method::LerfG:
      case Method::LerfL: {
        if (fast_) return fast_->analyse_lerf(in, pool_);
        auto a = std::make_shared<cpu::LerfAnalysis>();
        cpu::analyse_lerf(setup_.model->lut, in, *a, pool_);
        return a;
      }
      case Method::ImLut: return imlut_->analyse(in, pool_);
      case Method::Liif:
      case Method::ALiif:
      case Method::Lmf: return implicit_->analyse(in, pool_);
      default: {
        auto a = std::make_shared<PlaneAnalysis>();
        a->input_size = in.size();
        a->channels = in.channels;
        return a;
      }
    }
  }

  void render(const PlaneAnalysis& analysis, const PlaneJob& job) override {
    check_plane(job.in, "input plane");
    check_plane(job.out, "output plane");
    if (job.in.channels != job.out.channels) throw Error("input and output planes differ in channel count");
    if (!(analysis.input_size == job.in.size()) || analysis.channels != job.in.channels)
      throw Error("analysis does not belong to this input plane");
    if (!job.map.out_to_in.is_finite()) throw Error("coordinate map is not finite");
    switch (setup_.method) {
      case Method::LerfG:
      case Method::LerfL: {
        const auto& a = static_cast<const cpu::LerfAnalysis&>(analysis);
        if (fast_) fast_->render_lerf(setup_.method == Method::LerfG, a, job, pool_);
        else cpu::render_lerf(setup_.method == Method::LerfG, a, job, pool_, setup_.reference_quirks);
        break;
      }
      case Method::ImLut: imlut_->render(analysis, job, pool_); break;
      case Method::Liif:
      case Method::ALiif:
      case Method::Lmf: implicit_->render(analysis, job, pool_); break;
      default:
        if (fast_) fast_->render_classical(kernel_, job, pool_);
        else cpu::render_classical(kernel_, job, pool_);
    }
  }

 private:
  MethodSetup setup_;
  ThreadPool pool_;
  kernels::Classical kernel_{Method::Nearest, 0.5f, -0.5f};
  std::unique_ptr<cpu::FastCpu> fast_;  // null: the reference path
  std::unique_ptr<cpu::ImLutCpu> imlut_;  // im-lut only
  std::unique_ptr<cpu::ImplicitCpu> implicit_;  // liif, a-liif, lmf
};

}  // namespace

namespace cpu {
const FastCpu* fast_paths_of(const Backend& backend) {
  auto* b = dynamic_cast<const CpuBackend*>(&backend);
  return b ? b->fast() : nullptr;
}
}  // namespace cpu

const ImplicitRenderStats* implicit_render_stats(const Backend& backend) {
  auto* b = dynamic_cast<const CpuBackend*>(&backend);
  return b ? b->implicit_stats() : nullptr;
}

std::unique_ptr<Backend> make_cpu_backend(const MethodSetup& setup, int threads) {
  return std::make_unique<CpuBackend>(setup, threads);
}

namespace kernels {
Classical classical_kernel(Method m, float cubic_a) {
  switch (m) {
    case Method::Nearest: return {m, 0.5f, cubic_a};
    case Method::Bilinear: return {m, 1.0f, cubic_a};
    case Method::Bicubic: return {m, 2.0f, cubic_a};
    case Method::Lanczos: return {m, 3.0f, cubic_a};
    default: throw Error(std::string(method_name(m)) + " is not a classical kernel");
  }
}
}  // namespace kernels

}  // namespace lerf
