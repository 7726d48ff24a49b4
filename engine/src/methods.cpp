#include "lerf/methods.hpp"

#include <array>

namespace lerf {

namespace {
constexpr std::array<Method, 10> kMethods = {Method::Nearest, Method::Bilinear, Method::Bicubic,
                                             Method::Lanczos, Method::LerfL,    Method::LerfG,
                                             Method::ImLut,   Method::Liif,     Method::ALiif,
                                             Method::Lmf};
constexpr std::array<std::string_view, 10> kNames = {"nearest", "bilinear", "bicubic", "lanczos",
                                                     "lerf-l",  "lerf-g",   "im-lut",  "liif",
                                                     "a-liif",  "lmf"};
}  // namespace

std::string_view method_name(Method m) { return kNames[static_cast<std::size_t>(m)]; }

std::optional<Method> parse_method(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return kMethods[i];
  return std::nullopt;
}

std::span<const Method> all_methods() { return kMethods; }

bool is_classical(Method m) {
  return m == Method::Nearest || m == Method::Bilinear || m == Method::Bicubic || m == Method::Lanczos;
}

bool method_implemented(Method m) {
  (void)m;
  return true;  // every method has a CPU implementation; Vulkan: method_on_vulkan
}

bool is_implicit(Method m) { return m == Method::Liif || m == Method::ALiif || m == Method::Lmf; }

bool method_on_vulkan(Method m) {
  (void)m;
  return true;  // the implicit methods too since issue 8 (LMF without CMSR: docs/VULKAN.md)
}

bool method_needs_model(Method m) { return !is_classical(m); }

std::string_view backend_name(BackendKind b) {
  switch (b) {
    case BackendKind::Auto: return "auto";
    case BackendKind::Cpu: return "cpu";
    case BackendKind::Vulkan: return "vulkan";
  }
  return "?";
}

std::optional<BackendKind> parse_backend(std::string_view name) {
  for (auto b : {BackendKind::Auto, BackendKind::Cpu, BackendKind::Vulkan})
    if (backend_name(b) == name) return b;
  return std::nullopt;
}

}  // namespace lerf
