// IM-LUT model folders (docs/IMLUT.md): model.json + imlut_{s,c,t}.npy (+ lerf-g/ tables).
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "lerf/error.hpp"
#include "lerf/imlut.hpp"
#include "lerf/npy.hpp"

namespace lerf {

namespace fs = std::filesystem;

bool has_imlut_files(const fs::path& dir) { return fs::exists(dir / "imlut_s.npy"); }

Model load_imlut_model(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(dir.string() + ": model directory does not exist");
  Model model;
  model.method = Method::ImLut;
  model.directory = dir;
  const fs::path meta = dir / "model.json";
  const std::string mname = meta.string();
  if (!fs::exists(meta)) throw Error(mname + ": model file missing (an im-lut model needs model.json)");
  std::ifstream f(meta);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  model.description = parse_model_json(text, Method::ImLut, mname);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.contains("method")) throw Error(mname + ": \"method\" missing (expected \"im-lut\")");

  ImLutModel& m = model.imlut;
  if (!j.contains("components") || !j["components"].is_array() || j["components"].empty())
    throw Error(mname + ": \"components\" must be a non-empty array of method names");
  if (j["components"].size() > static_cast<std::size_t>(imlut::imlut_max_components))
    throw Error(mname + ": more than " + std::to_string(imlut::imlut_max_components) + " components");
  for (const auto& c : j["components"]) {
    auto parsed = c.is_string() ? parse_method(c.get<std::string>()) : std::nullopt;
    if (!parsed || !(is_classical(*parsed) || *parsed == Method::LerfG))
      throw Error(mname + ": component " + c.dump() + " is not one of nearest, bilinear, bicubic, lanczos, lerf-g");
    for (Method prev : m.components)
      if (prev == *parsed) throw Error(mname + ": component " + c.dump() + " listed twice");
    m.components.push_back(*parsed);
  }
  if (!j.contains("scale_bins") || !j["scale_bins"].is_array() || j["scale_bins"].empty() ||
      j["scale_bins"].size() > static_cast<std::size_t>(imlut::imlut_max_bins))
    throw Error(mname + ": \"scale_bins\" must be an array of 1.." + std::to_string(imlut::imlut_max_bins) +
                " scales");
  std::vector<double> bins;
  for (const auto& b : j["scale_bins"]) {
    if (!b.is_number() || !(b.get<double>() > 0)) throw Error(mname + ": scale_bins entry " + b.dump() + " is not a positive number");
    bins.push_back(b.get<double>());
  }
  m.scale_bins = static_cast<int>(bins.size());
  m.scale_first = static_cast<float>(bins[0]);
  m.scale_step = bins.size() > 1 ? static_cast<float>(bins[1] - bins[0]) : 1.0f;
  for (std::size_t i = 1; i < bins.size(); ++i)
    if (!(std::abs(bins[i] - bins[0] - i * (bins[1] - bins[0])) < 1e-6) || !(bins[1] > bins[0]))
      throw Error(mname + ": scale_bins must be increasing and uniformly spaced");

  if (j.contains("mixing")) {
    if (j["mixing"] == "affine") m.affine = true;
    else if (j["mixing"] != "softmax") throw Error(mname + ": \"mixing\" must be \"softmax\" or \"affine\"");
  }
  const int columns = m.columns();
  constexpr const char* kNames[kLutPatterns] = {"s", "c", "t"};
  for (int p = 0; p < kLutPatterns; ++p) {
    fs::path file = dir / (std::string("imlut_") + kNames[p] + ".npy");
    if (!fs::exists(file)) throw Error(file.string() + ": model file missing");
    NpyArray a = read_npy(file);
    if (a.dtype != "|i1" && a.dtype != "<i1") throw Error(file.string() + ": dtype '" + a.dtype + "', expected int8 ('|i1')");
    if (a.shape.size() != 2 || a.shape[0] != static_cast<std::size_t>(kLutEntries) ||
        a.shape[1] != static_cast<std::size_t>(columns)) {
      std::string got = "(";
      for (auto d : a.shape) got += std::to_string(d) + ",";
      throw Error(file.string() + ": shape " + got + "), expected (" + std::to_string(kLutEntries) + ", " +
                  std::to_string(columns) + ") = (17^4, scale bins x components)");
    }
    m.tables[p].resize(a.bytes.size());
    std::memcpy(m.tables[p].data(), a.bytes.data(), a.bytes.size());
  }
  for (Method c : m.components)
    if (c == Method::LerfG) {
      fs::path sub = dir / "lerf-g";
      if (!fs::is_directory(sub)) throw Error(sub.string() + ": missing (the lerf-g component's LUT folder)");
      model.lut = load_model(Method::LerfG, sub).lut;
    }
  return model;
}

}  // namespace lerf
