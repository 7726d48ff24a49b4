#include "lerf/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "lerf/error.hpp"

namespace lerf {

// The data are copied as host floats: the file format is little-endian.
static_assert(std::endian::native == std::endian::little, "safetensors reader assumes a little-endian host");

namespace {

// Bounds that keep absurd headers from turning into huge allocations.
constexpr std::uint64_t kMaxHeader = 100u << 20;
constexpr std::size_t kMaxRank = 8;

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw Error(name + ": " + what); }

}  // namespace

std::size_t Tensor::count() const {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::string Tensor::shape_text() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafeTensors parse_safetensors(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (size < 8) fail(name, "truncated (" + std::to_string(size) + " bytes, no header length)");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxHeader) fail(name, "header length " + std::to_string(n) + " is implausible (over 100 MiB)");
  if (n > size - 8)
    fail(name, "truncated: header length " + std::to_string(n) + " exceeds the file (" + std::to_string(size) +
                   " bytes)");
  const char* text = reinterpret_cast<const char*>(data + 8);
  nlohmann::json j = nlohmann::json::parse(text, text + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) fail(name, "header is not a JSON object");
  const std::uint8_t* body = data + 8 + n;
  const std::uint64_t body_size = size - 8 - n;

  SafeTensors st;
  struct Range {
    std::uint64_t begin, end;
    std::string tensor;
  };
  std::vector<Range> ranges;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(name, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(name, "__metadata__ value \"" + m.key() + "\" is not a string");
        st.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tn = "tensor \"" + key + "\"";
    if (!v.is_object()) fail(name, tn + ": entry is not an object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail(name, tn + ": dtype missing");
    if (v["dtype"] != "F32") fail(name, tn + ": dtype " + v["dtype"].get<std::string>() + ", only F32 is supported");
    if (!v.contains("shape") || !v["shape"].is_array()) fail(name, tn + ": shape missing");
    if (v["shape"].size() > kMaxRank) fail(name, tn + ": more than 8 dimensions");
    Tensor t;
    std::uint64_t count = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) fail(name, tn + ": shape entry " + d.dump() + " is not a size");
      const auto dim = d.get<std::uint64_t>();
      if (dim > (1ull << 40) || (dim && count > (std::numeric_limits<std::uint64_t>::max() / 8) / dim))
        fail(name, tn + ": shape too large");
      count *= dim;
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = v.contains("data_offsets") ? v["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(name, tn + ": data_offsets must be [begin, end]");
    const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (begin > end) fail(name, tn + ": data_offsets begin > end");
    if (end > body_size)
      fail(name, tn + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] beyond the data (" + std::to_string(body_size) + " bytes; truncated file?)");
    if (end - begin != count * 4)
      fail(name, tn + ": " + std::to_string(end - begin) + " bytes for shape " + t.shape_text() + " (expected " +
                     std::to_string(count * 4) + ")");
    t.data.resize(count);
    if (count) std::memcpy(t.data.data(), body + begin, count * 4);
    ranges.push_back({begin, end, key});
    st.tensors.emplace(key, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      fail(name, "tensors \"" + ranges[i - 1].tensor + "\" and \"" + ranges[i].tensor + "\" overlap");
  return st;
}

SafeTensors read_safetensors(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path.string() + ": cannot open");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes.data(), bytes.size(), path.string());
}

std::vector<std::uint8_t> serialize_safetensors(const SafeTensors& st) {
  nlohmann::json j = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& [key, t] : st.tensors) {
    j[key] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size() * 4}}};
    offset += t.data.size() * 4;
  }
  if (!st.metadata.empty()) j["__metadata__"] = st.metadata;
  std::string header = j.dump();
  while (header.size() % 8) header += ' ';  // the format's recommended alignment
  std::vector<std::uint8_t> out(8 + header.size() + offset);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  std::size_t at = 8 + header.size();
  for (const auto& [key, t] : st.tensors) {
    if (!t.data.empty()) std::memcpy(out.data() + at, t.data.data(), t.data.size() * 4);
    at += t.data.size() * 4;
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const SafeTensors& st) {
  auto bytes = serialize_safetensors(st);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw Error(path.string() + ": cannot write");
}

}  // namespace lerf
