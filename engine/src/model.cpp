#include "lerf/model.hpp"

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lerf/error.hpp"
#include "lerf/imlut.hpp"
#include "lerf/npy.hpp"

namespace lerf {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPatternNames[kLutPatterns] = {"s", "c", "t"};

std::vector<std::int8_t> load_lut(const fs::path& file, int outputs) {
  if (!fs::exists(file)) throw Error(file.string() + ": model file missing");
  return lut_from_npy(read_npy(file), outputs, file.string());
}

bool has_lut_files(const fs::path& dir) { return fs::exists(dir / "LUTft_s1_sr0.npy"); }
bool has_model_files(const fs::path& dir, Method method) {
  if (is_implicit(method)) return has_implicit_files(dir);
  return method == Method::ImLut ? has_imlut_files(dir) : has_lut_files(dir);
}

}  // namespace

std::vector<std::int8_t> lut_from_npy(const NpyArray& a, int outputs, const std::string& name) {
  if (a.dtype != "|i1" && a.dtype != "<i1")
    throw Error(name + ": dtype '" + a.dtype + "', expected int8 ('|i1')");
  bool shape_ok = a.shape.size() == 2 && a.shape[0] == static_cast<std::size_t>(kLutEntries) &&
                  a.shape[1] == static_cast<std::size_t>(outputs);
  if (!shape_ok) {
    std::string got = "(";
    for (auto d : a.shape) got += std::to_string(d) + ",";
    got += ")";
    throw Error(name + ": shape " + got + ", expected (" + std::to_string(kLutEntries) + ", " +
                std::to_string(outputs) + ")");
  }
  std::vector<std::int8_t> v(a.bytes.size());
  std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
  return v;
}

std::string parse_model_json(const std::string& text, Method method, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(name + ": not valid JSON");
  if (j.contains("method") && (!j["method"].is_string() || j["method"] != std::string(method_name(method))))
    throw Error(name + ": model is for method " + j["method"].dump() + ", not " + std::string(method_name(method)));
  if (j.contains("description") && !j["description"].is_string())
    throw Error(name + ": \"description\" must be a string");
  return j.value("description", std::string());
}

Model load_model(Method method, const fs::path& given) {
  if (method == Method::ImLut)
    return load_imlut_model(!has_imlut_files(given) && fs::is_directory(given / method_name(method))
                                ? given / method_name(method)
                                : given);
  if (is_implicit(method))
    return load_implicit_model(method, !has_implicit_files(given) && fs::is_directory(given / method_name(method))
                                           ? given / method_name(method)
                                           : given);
  if (method != Method::LerfG && method != Method::LerfL)
    throw Error(std::string("no model format for method ") + std::string(method_name(method)) + " yet");
  fs::path dir = given;
  if (!has_lut_files(dir) && fs::is_directory(given / method_name(method))) dir = given / method_name(method);
  if (!fs::is_directory(dir)) throw Error(dir.string() + ": model directory does not exist");

  Model model;
  model.method = method;
  model.directory = dir;
  int outputs = method == Method::LerfG ? 3 : 1;
  model.lut.stage2_outputs = outputs;
  for (int p = 0; p < kLutPatterns; ++p) {
    std::string pat = kPatternNames[p];
    model.lut.stage1[p] = load_lut(dir / ("LUTft_s1_" + pat + "r0.npy"), 1);
    for (int d = 0; d < 2; ++d)
      model.lut.stage2[p][d] = load_lut(dir / ("LUTft_s2_" + pat + "r" + std::to_string(d) + ".npy"), outputs);
  }

  fs::path meta = dir / "model.json";
  if (fs::exists(meta)) {
    std::ifstream f(meta);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    model.description = parse_model_json(text, method, meta.string());
  } else {
    model.description = "LUTs from " + dir.string();
  }
  return model;
}

std::vector<fs::path> default_model_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("LERF_MODEL_DIR"); env && *env) dirs.emplace_back(env);
#ifdef LERF_SOURCE_MODEL_DIR
  dirs.emplace_back(LERF_SOURCE_MODEL_DIR);
#endif
#ifdef LERF_INSTALLED_MODEL_DIR
  dirs.emplace_back(LERF_INSTALLED_MODEL_DIR);
#endif
  return dirs;
}

fs::path find_model_dir(Method method, const fs::path& hint) {
  std::vector<fs::path> search = hint.empty() ? default_model_dirs() : std::vector<fs::path>{hint};
  std::string tried;
  for (const auto& d : search) {
    if (has_model_files(d, method)) return d;
    if (has_model_files(d / method_name(method), method)) return d / method_name(method);
    tried += (tried.empty() ? "" : ", ") + d.string();
  }
  if (!hint.empty() && fs::is_directory(hint)) return hint;  // let load_model name the missing file
  throw Error("no model for " + std::string(method_name(method)) + " found (searched: " +
              (tried.empty() ? std::string("nothing") : tried) + "); pass a model directory");
}

}  // namespace lerf
