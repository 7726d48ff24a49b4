// libFuzzer target: geometry parameters (sizes, scales, matrices, borders, channel counts,
// strings the CLI parses) through the CPU backend of every implemented method. Any crash,
// sanitizer report or out-of-bounds write into the guard bytes is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lerf/backend.hpp"
#include "lerf/error.hpp"
#include "lerf/geometry.hpp"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  double real() {
    double d = 0;
    std::uint8_t b[8] = {};
    for (auto& x : b) x = byte();
    std::memcpy(&d, b, 8);
    return d;
  }
};

std::shared_ptr<const lerf::Model> random_model(int outputs) {
  auto m = std::make_shared<lerf::Model>();
  std::mt19937 rng(outputs);
  m->lut.stage2_outputs = outputs;
  for (int p = 0; p < lerf::kLutPatterns; ++p) {
    m->lut.stage1[p].resize(lerf::kLutEntries);
    for (auto& v : m->lut.stage1[p]) v = static_cast<std::int8_t>(rng());
    for (int d = 0; d < 2; ++d) {
      m->lut.stage2[p][d].resize(static_cast<std::size_t>(lerf::kLutEntries) * outputs);
      for (auto& v : m->lut.stage2[p][d]) v = static_cast<std::int8_t>(rng());
    }
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto model_g = random_model(3), model_l = random_model(1);
  static std::unique_ptr<lerf::Backend> backends[6];
  static bool init = [] {
    const lerf::Method methods[6] = {lerf::Method::Nearest, lerf::Method::Bilinear, lerf::Method::Bicubic,
                                     lerf::Method::Lanczos, lerf::Method::LerfG,    lerf::Method::LerfL};
    for (int i = 0; i < 6; ++i) {
      lerf::MethodSetup s;
      s.method = methods[i];
      if (i == 4) s.model = model_g;
      if (i == 5) s.model = model_l;
      backends[i] = lerf::make_cpu_backend(s, 1);
    }
    return true;
  }();
  (void)init;

  Reader r{data, size};
  // The strings users type.
  std::string text(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 24));
  (void)lerf::parse_scale(text);
  (void)lerf::parse_size(text);

  lerf::Backend& backend = *backends[r.byte() % 6];
  int ch = 1 + r.byte() % 4;
  lerf::Size in{1 + r.byte() % 40, 1 + r.byte() % 40};
  lerf::Size out{1 + r.byte() % 48, 1 + r.byte() % 48};
  int mode = r.byte() % 4;
  lerf::CoordinateMap map;
  try {
    if (mode == 0) {
      map = lerf::resize_map(in, out);
    } else if (mode == 1) {
      lerf::Scale s{r.real(), r.real()};
      if (!(s.h > 0 && s.w > 0 && std::isfinite(s.h) && std::isfinite(s.w))) return 0;
      map = lerf::resize_map(in, out, s);
    } else if (mode == 2) {
      lerf::Matrix3 m;
      for (double& v : m.m) v = r.real();
      map = lerf::warp_map(m);
    } else {
      lerf::Matrix3 m;  // small perturbations of the identity: realistic warps
      for (int i = 0; i < 9; ++i) m.m[i] = (i % 4 == 0 ? 1.0 : 0.0) + (static_cast<int>(r.byte()) - 128) / 64.0;
      map = lerf::warp_map(m);
    }
  } catch (const lerf::Error&) {
    return 0;
  }
  lerf::PlaneJob job;
  job.map = map;
  job.border = static_cast<lerf::Border>(r.byte() % 3);
  for (auto& v : job.border_value) v = r.byte();
  const int guard = 16;
  std::vector<std::uint8_t> src(static_cast<std::size_t>(in.width * ch + 3) * in.height);
  for (auto& v : src) v = r.byte();
  std::vector<std::uint8_t> dst(static_cast<std::size_t>(out.width * ch + 5) * out.height + guard, 0xA5);
  job.in = {src.data(), in.width, in.height, in.width * ch + 3, ch};
  job.out = {dst.data(), out.width, out.height, out.width * ch + 5, ch};
  try {
    auto analysis = backend.analyse(job.in);
    backend.render(*analysis, job);
  } catch (const lerf::Error&) {
    return 0;
  }
  for (int i = 0; i < guard; ++i)
    if (dst[dst.size() - 1 - i] != 0xA5) __builtin_trap();
  return 0;
}
