// The names users type, chosen once and used everywhere: element enum nicks, CLI
// flags, model folders.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace lerf {

enum class Method { Nearest, Bilinear, Bicubic, Lanczos, LerfL, LerfG, ImLut, Liif, ALiif, Lmf };

enum class BackendKind { Auto, Cpu, Vulkan };

std::string_view method_name(Method m);
std::optional<Method> parse_method(std::string_view name);
std::span<const Method> all_methods();
// Methods this build can run (the others parse but report "not implemented yet").
bool method_implemented(Method m);
// Methods the Vulkan backend implements (the others run on the CPU; BackendKind::Auto picks
// the CPU for them, BackendKind::Vulkan reports "not implemented on Vulkan").
bool method_on_vulkan(Method m);
// LIIF, A-LIIF, LMF (docs/IMPLICIT.md).
bool is_implicit(Method m);
// Methods that need a trained model from a model directory.
bool method_needs_model(Method m);
bool is_classical(Method m);

std::string_view backend_name(BackendKind b);
std::optional<BackendKind> parse_backend(std::string_view name);

}  // namespace lerf
