// libFuzzer target: model.json validation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lerf/error.hpp"
#include "lerf/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (auto m : {lerf::Method::LerfG, lerf::Method::LerfL}) {
    try {
      (void)lerf::parse_model_json(text, m, "fuzz/model.json");
    } catch (const lerf::Error&) {
    }
  }
  return 0;
}
