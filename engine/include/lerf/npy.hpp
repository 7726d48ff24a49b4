// A strict reader for NumPy .npy files (format versions 1.0-3.0), enough for the LUT
// models: little-endian int8/uint8/int16/float32 arrays in C order. Anything malformed is
// rejected with a lerf::Error naming the file and the problem.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lerf {

struct NpyArray {
  std::string dtype;  // numpy descr, e.g. "|i1", "<f4"
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> bytes;  // raw little-endian data, C order

  std::size_t count() const;
};

NpyArray read_npy(const std::filesystem::path& path);
// Parses an in-memory file; `name` is used in error messages (also the fuzzing entry point).
NpyArray parse_npy(const std::uint8_t* data, std::size_t size, const std::string& name);
// Writes a C-order array (used by training tools and tests).
void write_npy(const std::filesystem::path& path, const NpyArray& array);

}  // namespace lerf
