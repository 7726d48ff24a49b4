// A strict reader (and a small writer, for tests and tools) of safetensors files: 8-byte
// little-endian header length N, N bytes of JSON naming each tensor's dtype, shape and byte
// range, then the data. Only float32 ("F32") tensors are accepted: the implicit models
// (docs/IMPLICIT.md) store nothing else. Anything malformed is rejected with a lerf::Error
// naming the file and the problem.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lerf {

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // C order
  std::size_t count() const;
  std::string shape_text() const;  // e.g. "[32, 1, 3, 3]"
};

struct SafeTensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
};

// Parses an in-memory file; `name` is used in error messages (also the fuzzing entry point).
SafeTensors parse_safetensors(const std::uint8_t* data, std::size_t size, const std::string& name);
SafeTensors read_safetensors(const std::filesystem::path& path);
// Serialises tensors (sorted by name, packed in that order).
std::vector<std::uint8_t> serialize_safetensors(const SafeTensors& st);
void write_safetensors(const std::filesystem::path& path, const SafeTensors& st);

}  // namespace lerf
