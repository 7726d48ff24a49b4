// libFuzzer target: the .npy parser and the LUT-file validation behind model loading.
#include <cstddef>
#include <cstdint>

#include "lerf/error.hpp"
#include "lerf/model.hpp"
#include "lerf/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    lerf::NpyArray a = lerf::parse_npy(data, size, "fuzz.npy");
    if (a.bytes.size() != a.count() * (a.dtype.back() == '1' ? 1 : a.dtype.back() - '0')) __builtin_trap();
    for (int outputs : {1, 3}) {
      try {
        auto lut = lerf::lut_from_npy(a, outputs, "fuzz.npy");
        if (lut.size() != static_cast<std::size_t>(lerf::kLutEntries) * outputs) __builtin_trap();
      } catch (const lerf::Error&) {
      }
    }
  } catch (const lerf::Error&) {
  }
  return 0;
}
