// libFuzzer target: the safetensors parser behind implicit model loading, and the invariants
// of what it accepts (every tensor's data matches its shape; a re-serialised file parses to
// the same tensors).
#include <cstddef>
#include <cstdint>

#include "lerf/error.hpp"
#include "lerf/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    lerf::SafeTensors st = lerf::parse_safetensors(data, size, "fuzz.safetensors");
    for (const auto& [name, t] : st.tensors)
      if (t.data.size() != t.count()) __builtin_trap();
    auto bytes = lerf::serialize_safetensors(st);
    lerf::SafeTensors back = lerf::parse_safetensors(bytes.data(), bytes.size(), "reserialised");
    if (back.tensors.size() != st.tensors.size()) __builtin_trap();
    for (const auto& [name, t] : st.tensors) {
      auto it = back.tensors.find(name);
      if (it == back.tensors.end() || it->second.shape != t.shape || it->second.data.size() != t.data.size())
        __builtin_trap();
    }
  } catch (const lerf::Error&) {
  }
  return 0;
}
