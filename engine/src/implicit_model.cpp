// Implicit model folders (docs/IMPLICIT.md): model.json (method, architecture, CMSR tables)
// + model.safetensors (float32 tensors named as torch names them).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "lerf/error.hpp"
#include "lerf/implicit.hpp"
#include "lerf/model.hpp"
#include "lerf/safetensors.hpp"

namespace lerf {

namespace fs = std::filesystem;

bool has_implicit_files(const fs::path& dir) { return fs::exists(dir / "model.safetensors"); }

const CmsrTable* ImplicitModel::cmsr_table(double s) const {
  const CmsrTable* best = nullptr;
  for (const auto& t : cmsr)
    if (t.scale <= s + 1e-6) best = &t;  // keys ascending
  return best;
}

namespace {

int arch_int(const nlohmann::json& a, const char* key, int max, const std::string& name) {
  if (!a.contains(key)) throw Error(name + ": architecture." + key + " missing");
  const auto& v = a[key];
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > max)
    throw Error(name + ": architecture." + key + " = " + v.dump() + " is not an integer in 1.." + std::to_string(max));
  return v.get<int>();
}

class TensorTaker {
 public:
  TensorTaker(SafeTensors&& st, std::string name) : st_(std::move(st)), name_(std::move(name)) {}

  std::vector<float> take(const std::string& key, std::vector<std::int64_t> shape) {
    auto it = st_.tensors.find(key);
    Tensor want{shape, {}};
    if (it == st_.tensors.end())
      throw Error(name_ + ": tensor \"" + key + "\" missing (expected shape " + want.shape_text() + ")");
    if (it->second.shape != shape)
      throw Error(name_ + ": tensor \"" + key + "\" has shape " + it->second.shape_text() + ", expected " +
                  want.shape_text() + " for the architecture in model.json");
    for (float v : it->second.data)
      if (!std::isfinite(v)) throw Error(name_ + ": tensor \"" + key + "\" has non-finite values");
    return std::move(it->second.data);
  }
  DenseLayer linear(const std::string& prefix, int in, int out) {
    DenseLayer l{in, out, take(prefix + ".weight", {out, in}), take(prefix + ".bias", {out})};
    return l;
  }
  DenseLayer conv(const std::string& prefix, int in, int out) {
    DenseLayer l{in, out, take(prefix + ".weight", {out, in, 3, 3}), take(prefix + ".bias", {out})};
    return l;
  }

 private:
  SafeTensors st_;
  std::string name_;
};

void parse_cmsr(const nlohmann::json& c, ImplicitModel& m, const std::string& name) {
  if (!c.is_object()) throw Error(name + ": \"cmsr\" must be an object");
  if (c.contains("mse_target")) {
    if (!c["mse_target"].is_number() || !(c["mse_target"].get<double>() >= 0))
      throw Error(name + ": cmsr.mse_target must be a number >= 0");
    m.cmsr_mse_target = c["mse_target"].get<double>();
  }
  if (!c.contains("tables") || !c["tables"].is_object()) throw Error(name + ": cmsr.tables must be an object");
  for (auto it = c["tables"].begin(); it != c["tables"].end(); ++it) {
    CmsrTable t;
    const std::string where = name + ": cmsr table \"" + it.key() + "\"";
    char* end = nullptr;
    t.scale = std::strtod(it.key().c_str(), &end);
    if (it.key().empty() || end != it.key().c_str() + it.key().size() || !std::isfinite(t.scale) || !(t.scale > 1))
      throw Error(where + ": key is not a scale > 1");
    if (!it.value().is_array()) throw Error(where + ": must be a list of [decode_scale, threshold]");
    if (it.value().size() > 16) throw Error(where + ": more than 16 decode scales");
    for (const auto& lv : it.value()) {
      if (!lv.is_array() || lv.size() != 2 || !lv[0].is_number() || !lv[1].is_number())
        throw Error(where + ": entry " + lv.dump() + " is not [decode_scale, threshold]");
      CmsrTable::Level l{lv[0].get<double>(), lv[1].get<double>()};
      if (!(l.decode_scale >= 1) || !(l.decode_scale < t.scale))
        throw Error(where + ": decode scale " + lv[0].dump() + " must be >= 1 and below the table's scale");
      if (!t.levels.empty() && !(l.decode_scale > t.levels.back().decode_scale))
        throw Error(where + ": decode scales must ascend");
      if (!(l.threshold >= 0) || !std::isfinite(l.threshold))
        throw Error(where + ": threshold " + lv[1].dump() + " must be a finite number >= 0");
      t.levels.push_back(l);
    }
    m.cmsr.push_back(std::move(t));
  }
  std::sort(m.cmsr.begin(), m.cmsr.end(), [](const CmsrTable& a, const CmsrTable& b) { return a.scale < b.scale; });
  for (std::size_t i = 1; i < m.cmsr.size(); ++i)
    if (m.cmsr[i].scale == m.cmsr[i - 1].scale) throw Error(name + ": two cmsr tables for scale " + std::to_string(m.cmsr[i].scale));
}

}  // namespace

Model load_implicit_model(Method method, const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(dir.string() + ": model directory does not exist");
  Model model;
  model.method = method;
  model.directory = dir;
  const fs::path meta = dir / "model.json";
  const std::string mname = meta.string();
  if (!fs::exists(meta)) throw Error(mname + ": model file missing (an implicit model needs model.json)");
  std::ifstream f(meta);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  model.description = parse_model_json(text, method, mname);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.contains("method")) throw Error(mname + ": \"method\" missing (expected \"" + std::string(method_name(method)) + "\")");
  if (!j.contains("architecture") || !j["architecture"].is_object())
    throw Error(mname + ": \"architecture\" missing (an object of layer sizes)");
  const auto& a = j["architecture"];
  ImplicitModel& m = model.implicit;
  m.channels = arch_int(a, "channels", 256, mname);
  m.blocks = arch_int(a, "blocks", 64, mname);
  if (method == Method::Liif || method == Method::ALiif) m.mlp_hidden = arch_int(a, "mlp_hidden", 1024, mname);
  if (method == Method::ALiif) {
    m.basis = arch_int(a, "basis", 64, mname);
    m.basis_hidden = arch_int(a, "basis_hidden", 256, mname);
  }
  if (method == Method::Lmf) {
    m.latent_hidden = arch_int(a, "latent_hidden", 1024, mname);
    m.render_layers = arch_int(a, "render_layers", 16, mname);
    m.render_hidden = arch_int(a, "render_hidden", 256, mname);
    if (j.contains("cmsr")) parse_cmsr(j["cmsr"], m, mname);
  }

  const fs::path file = dir / "model.safetensors";
  if (!fs::exists(file)) throw Error(file.string() + ": model file missing");
  TensorTaker t(read_safetensors(file), file.string());
  const int C = m.channels, Q = m.query_dim();
  m.head = t.conv("enc.head", 1, C);
  for (int i = 0; i < m.blocks; ++i) {
    m.conv1.push_back(t.conv("enc.body." + std::to_string(i) + ".conv1", C, C));
    m.conv2.push_back(t.conv("enc.body." + std::to_string(i) + ".conv2", C, C));
  }
  m.tail = t.conv("enc.tail", C, C);
  if (method == Method::Liif) {
    const int H = m.mlp_hidden;
    const int dims[5] = {Q, H, H, H, 1};
    for (int l = 0; l < 4; ++l) m.mlp.push_back(t.linear("dec.layers." + std::to_string(l), dims[l], dims[l + 1]));
  } else if (method == Method::ALiif) {
    const int H = m.mlp_hidden, K = m.basis, B = m.basis_hidden;
    const int dims[4] = {Q, H, H, K};
    for (int l = 0; l < 3; ++l) m.mlp.push_back(t.linear("dec.expand." + std::to_string(l), dims[l], dims[l + 1]));
    const int bd[5] = {Q, B, B, B, 1};
    for (int l = 0; l < 4; ++l) {
      DenseLayer d{bd[l], bd[l + 1], t.take("dec.basis.w" + std::to_string(l), {K, bd[l + 1], bd[l]}),
                   t.take("dec.basis.b" + std::to_string(l), {K, bd[l + 1]})};
      m.basis_layers.push_back(std::move(d));
    }
  } else {
    const int L = m.render_layers, R = m.render_hidden;
    m.mlp.push_back(t.linear("dec.latent.0", m.unfold_dim(), m.latent_hidden));
    m.mlp.push_back(t.linear("dec.latent.1", m.latent_hidden, m.latent_dim()));
    for (int l = 0; l <= L; ++l)
      m.render.push_back(t.linear("dec.render." + std::to_string(l), l == 0 ? R + 4 : R, l == L ? 1 : R));
  }
  return model;
}

std::size_t implicit_analysis_bytes(Method method, const ImplicitModel& m, int width, int height, int channels,
                                    bool fast_path) {
  const std::size_t P = static_cast<std::size_t>(std::max(width, 0)) * static_cast<std::size_t>(std::max(height, 0));
  const std::size_t C = static_cast<std::size_t>(m.channels);
  std::size_t field = C;  // reference: the features
  if (fast_path)
    field = method == Method::Liif    ? static_cast<std::size_t>(m.mlp_hidden)
            : method == Method::ALiif ? static_cast<std::size_t>(m.mlp_hidden + m.basis * m.basis_hidden)
                                      : static_cast<std::size_t>(m.latent_dim()) + 1;  // + CMSR's modulation
  // kept: every channel's field; transient: the input plane and 4 feature planes (h, b, t, u)
  return sizeof(float) * P * (static_cast<std::size_t>(std::max(channels, 1)) * field + 1 + 4 * C);
}

ImplicitCost implicit_cost(Method method, const ImplicitModel& m) {
  ImplicitCost c;
  const double C = m.channels;
  c.encoder_per_input = 9 * C + 2 * m.blocks * 9 * C * C + 9 * C * C;
  auto dense = [](const DenseLayer& l) { return double(l.in) * l.out; };
  const double U = m.unfold_dim();
  if (method == Method::Liif) {
    const double H = m.mlp_hidden;
    const double per_corner = (U + 4) * H + 2 * H * H + H;
    c.decoder_per_output = 4 * per_corner;
    c.precomputed_per_input = U * H;
    c.decoder_per_output_fast = 4 * (4 * H + 2 * H * H + H);
  } else if (method == Method::ALiif) {
    const double H = m.mlp_hidden, K = m.basis, B = m.basis_hidden;
    const double expand = (U + 4) * H + H * H + H * K;
    const double basis_params = (U + 4) * B + B + 2 * (B * B + B) + B + 1;
    const double eval = (U + 4) * B + 2 * B * B + B;
    c.decoder_per_output = 4 * (expand + K * basis_params + eval);
    c.precomputed_per_input = U * (H + K * B);
    // first layers: the [rel, cell] terms and the mix of K precomputed terms; then K basis
    // layers evaluated and mixed (equivalent to mixing the weights).
    c.decoder_per_output_fast = 4 * (4 * H + H * H + H * K + K * B * (4 + 1) + K * (2 * B * B + B) + K * 2 * B + K);
  } else if (method == Method::Lmf) {
    const double R = m.render_hidden, L = m.render_layers;
    c.latent_per_input = U * m.latent_hidden + double(m.latent_hidden) * m.latent_dim();
    const double per_corner = (R + 4) * R + (L - 1) * R * R + R + L * R;  // the modulation multiplies
    c.decoder_per_output = 4 * per_corner;
    c.decoder_per_output_fast = c.decoder_per_output;
    (void)dense;
  }
  return c;
}

}  // namespace lerf
