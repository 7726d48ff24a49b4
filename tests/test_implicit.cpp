// LIIF, A-LIIF, LMF (+ CMSR) on the CPU (docs/IMPLICIT.md): the safetensors reader and model
// validation on damaged files; the fast path against the plain scalar reference (per query in
// float, per plane in bytes) for rescaling, warps, tiny planes and channels; the bicubic base,
// downscaling, CMSR invariants, extreme weights, the Vulkan error.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>
#include <tuple>
#include <opencv2/imgcodecs.hpp>

#include "cpu/fast_paths.hpp"
#include "cpu/implicit_cpu.hpp"
#include "lerf/backend.hpp"
#include "lerf/engine.hpp"
#include "lerf/error.hpp"
#include "lerf/model.hpp"
#include "lerf/safetensors.hpp"
#include "lerf/thread_pool.hpp"
#include "opencv_planes.hpp"
#include "test_helpers.hpp"

using namespace lerf;
namespace fs = std::filesystem;

namespace {

const Method kMethods[] = {Method::Liif, Method::ALiif, Method::Lmf};

// A small architecture (fast tests); the shipped one is exercised by the speed check and the
// torch-equality test.
nlohmann::json small_arch() {
  return {{"channels", 4},      {"blocks", 2},        {"mlp_hidden", 12},    {"basis", 3},
          {"basis_hidden", 6}, {"latent_hidden", 10}, {"render_layers", 2}, {"render_hidden", 5}};
}

// Random tensors named as docs/IMPLICIT.md names them, uniform(-g, g) / sqrt(fan_in).
SafeTensors random_tensors(Method method, const nlohmann::json& a, unsigned seed, float gain = 1.5f) {
  std::mt19937 rng(seed);
  SafeTensors st;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, int fan_in) {
    Tensor t{shape, {}};
    std::uniform_real_distribution<float> d(-gain / std::sqrt(float(fan_in)), gain / std::sqrt(float(fan_in)));
    t.data.resize(t.count());
    for (float& v : t.data) v = d(rng);
    st.tensors[name] = std::move(t);
  };
  auto linear = [&](const std::string& p, int in, int out) {
    add(p + ".weight", {out, in}, in);
    add(p + ".bias", {out}, in);
  };
  auto conv = [&](const std::string& p, int in, int out) {
    add(p + ".weight", {out, in, 3, 3}, 9 * in);
    add(p + ".bias", {out}, 9 * in);
  };
  const int C = a["channels"], Q = 9 * C + 4;
  conv("enc.head", 1, C);
  for (int i = 0; i < int(a["blocks"]); ++i) {
    conv("enc.body." + std::to_string(i) + ".conv1", C, C);
    conv("enc.body." + std::to_string(i) + ".conv2", C, C);
  }
  conv("enc.tail", C, C);
  if (method == Method::Liif) {
    const int H = a["mlp_hidden"], d[5] = {Q, H, H, H, 1};
    for (int l = 0; l < 4; ++l) linear("dec.layers." + std::to_string(l), d[l], d[l + 1]);
  } else if (method == Method::ALiif) {
    const int H = a["mlp_hidden"], K = a["basis"], B = a["basis_hidden"];
    const int d[4] = {Q, H, H, K}, bd[5] = {Q, B, B, B, 1};
    for (int l = 0; l < 3; ++l) linear("dec.expand." + std::to_string(l), d[l], d[l + 1]);
    for (int l = 0; l < 4; ++l) {
      add("dec.basis.w" + std::to_string(l), {K, bd[l + 1], bd[l]}, bd[l]);
      add("dec.basis.b" + std::to_string(l), {K, bd[l + 1]}, bd[l]);
    }
  } else {
    const int L = a["render_layers"], R = a["render_hidden"], LH = a["latent_hidden"];
    linear("dec.latent.0", 9 * C, LH);
    linear("dec.latent.1", LH, (2 * L + 1) * R);
    for (int l = 0; l <= L; ++l) linear("dec.render." + std::to_string(l), l == 0 ? R + 4 : R, l == L ? 1 : R);
  }
  return st;
}

fs::path tmp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("lerf-implicit-" + std::to_string(::getpid())) / name;
  fs::create_directories(d);
  return d;
}

nlohmann::json model_json(Method method, const nlohmann::json& arch) {
  nlohmann::json j = {{"method", std::string(method_name(method))}, {"version", "test"}, {"architecture", arch}};
  if (method == Method::Lmf)
    j["cmsr"] = {{"mse_target", 2e-5}, {"tables", {{"2", {{1, 0.05}}}, {"3", {{1, 0.05}, {2, 0.2}}}}}};
  return j;
}

void write_model(const fs::path& dir, Method, const nlohmann::json& j, const SafeTensors& st) {
  fs::create_directories(dir);
  std::ofstream(dir / "model.json") << j.dump(1);
  write_safetensors(dir / "model.safetensors", st);
}

std::shared_ptr<Model> random_model(Method method, unsigned seed, const nlohmann::json& arch = small_arch(),
                                    float gain = 1.5f) {
  fs::path dir = tmp_dir(std::string(method_name(method)) + "-" + std::to_string(seed) + "-" + std::to_string(int(gain)));
  write_model(dir, method, model_json(method, arch), random_tensors(method, arch, seed, gain));
  return std::make_shared<Model>(load_model(method, dir));
}

cv::Mat photo(int w, int h, int channels = 1) {
  cv::Mat img = test::sample_image();
  cv::Mat crop = img(cv::Rect(200, 120, w, h)).clone();
  if (channels == 1) cv::extractChannel(crop, crop, 1);
  return crop;
}

std::unique_ptr<Backend> backend_for(std::shared_ptr<const Model> model, cpu::CpuPath path, int threads = 2,
                                     bool cmsr = true) {
  MethodSetup setup;
  setup.method = model->method;
  setup.model = model;
  setup.cmsr = cmsr;
  cpu::set_default_cpu_path(path);
  auto b = make_cpu_backend(setup, threads);
  cpu::set_default_cpu_path(cpu::CpuPath::Fast);
  return b;
}

cv::Mat render(Backend& b, const cv::Mat& in, Size out, const CoordinateMap& map, Border border = Border::Clamp) {
  cv::Mat o(out.height, out.width, in.type(), cv::Scalar::all(77));
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(o), map};
  job.border = border;
  job.border_value = {9, 19, 29, 39};
  b.render(*b.analyse(job.in), job);
  return o;
}

cv::Mat rescale(Backend& b, const cv::Mat& in, Scale s) {
  Size isz{in.cols, in.rows};
  Size osz = scaled_size(isz, s);
  return render(b, in, osz, resize_map(isz, osz, s));
}

Matrix3 rotation_about(double deg, double cx, double cy, double zoom) {
  const double r = deg * M_PI / 180, c = std::cos(r) * zoom, s = std::sin(r) * zoom;
  return {{c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0, 1}};
}

}  // namespace

// ---- safetensors and model files ---------------------------------------------------------

TEST(Safetensors, RoundTripAndDamagedFilesNameTheProblem) {
  SafeTensors st;
  st.tensors["a"] = Tensor{{2, 3}, {1, 2, 3, 4, 5, 6}};
  st.tensors["b"] = Tensor{{0}, {}};
  st.metadata["format"] = "pt";
  auto bytes = serialize_safetensors(st);
  SafeTensors back = parse_safetensors(bytes.data(), bytes.size(), "t.safetensors");
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.tensors["a"].data, st.tensors["a"].data);
  EXPECT_EQ(back.tensors["a"].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(back.metadata["format"], "pt");

  auto expect_error = [](std::vector<std::uint8_t> b, const std::string& what) {
    try {
      parse_safetensors(b.data(), b.size(), "bad.safetensors");
      ADD_FAILURE() << "accepted a file with " << what;
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  auto with_header = [](const std::string& h, std::size_t data) {
    std::vector<std::uint8_t> b(8 + h.size() + data, 0);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(std::uint64_t(h.size()) >> (8 * i));
    std::copy(h.begin(), h.end(), b.begin() + 8);
    return b;
  };
  expect_error({1, 2, 3}, "truncated");
  auto cut = bytes;
  cut.resize(bytes.size() - 4);
  expect_error(cut, "beyond the data");
  auto huge = bytes;
  huge[7] = 0x7f;
  expect_error(huge, "header length");
  auto shortened = bytes;
  shortened.resize(20);
  expect_error(shortened, "truncated");
  expect_error(with_header("{not json", 0), "not a JSON object");
  expect_error(with_header("[1,2]", 0), "not a JSON object");
  expect_error(with_header(R"({"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4), "only F32");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "expected 12");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8), "beyond the data");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[4,0]}})", 8), "begin > end");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "not a size");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[2]}})", 8), "data_offsets");
  expect_error(with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlap");
  expect_error(with_header(R"({"__metadata__":{"a":1}})", 0), "__metadata__");
}

TEST(ImplicitModel, LoadsAndValidatesEveryTensorAndTheArchitecture) {
  for (Method method : kMethods) {
    SCOPED_TRACE(std::string(method_name(method)));
    const auto arch = small_arch();
    const SafeTensors good = random_tensors(method, arch, 1);
    fs::path dir = tmp_dir(std::string("validate-") + std::string(method_name(method)));
    write_model(dir, method, model_json(method, arch), good);
    Model m = load_model(method, dir);
    EXPECT_EQ(m.implicit.channels, 4);
    EXPECT_EQ(m.implicit.conv1.size(), 2u);

    auto expect_error = [&](const nlohmann::json& j, const SafeTensors& st, const std::string& file,
                            const std::string& what) {
      fs::path bad = tmp_dir(std::string("bad-") + std::string(method_name(method)));
      write_model(bad, method, j, st);
      try {
        load_model(method, bad);
        ADD_FAILURE() << "accepted a model with " << what;
      } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(file), std::string::npos) << msg;
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
      }
    };
    const auto j = model_json(method, arch);
    SafeTensors missing = good;
    missing.tensors.erase("enc.tail.bias");
    expect_error(j, missing, "model.safetensors", "\"enc.tail.bias\" missing");
    SafeTensors wrong = good;
    wrong.tensors["enc.head.weight"].shape = {4, 1, 9};
    expect_error(j, wrong, "model.safetensors", "expected [4, 1, 3, 3]");
    SafeTensors nan = good;
    nan.tensors["enc.head.bias"].data[0] = std::nanf("");
    expect_error(j, nan, "model.safetensors", "non-finite");
    auto other_arch = j;
    other_arch["architecture"]["channels"] = 5;
    expect_error(other_arch, good, "model.safetensors", "for the architecture");
    auto no_arch = j;
    no_arch.erase("architecture");
    expect_error(no_arch, good, "model.json", "\"architecture\" missing");
    auto bad_arch = j;
    bad_arch["architecture"]["blocks"] = -1;
    expect_error(bad_arch, good, "model.json", "architecture.blocks");
    auto other_method = j;
    other_method["method"] = "lerf-g";
    expect_error(other_method, good, "model.json", "not " + std::string(method_name(method)));
    if (method == Method::Lmf) {
      auto t = j;
      t["cmsr"]["tables"]["4"] = {{2, 0.1}, {1, 0.2}};
      expect_error(t, good, "model.json", "ascend");
      t = j;
      t["cmsr"]["tables"]["2"] = {{2, 0.1}};
      expect_error(t, good, "model.json", "below the table's scale");
      t = j;
      t["cmsr"]["tables"]["x"] = nlohmann::json::array();
      expect_error(t, good, "model.json", "not a scale");
      t = j;
      t["cmsr"]["tables"]["4"] = {{1, -1}};
      expect_error(t, good, "model.json", "threshold");
    }
    // a truncated tensor file
    fs::path trunc = tmp_dir(std::string("trunc-") + std::string(method_name(method)));
    write_model(trunc, method, j, good);
    fs::resize_file(trunc / "model.safetensors", fs::file_size(trunc / "model.safetensors") - 100);
    EXPECT_THROW(load_model(method, trunc), Error);
    fs::remove(trunc / "model.safetensors");
    try {
      load_model(method, trunc);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.safetensors: model file missing"), std::string::npos) << e.what();
    }
  }
}

TEST(ImplicitModel, CmsrTableLookupUsesTheLargestKeyAtOrBelowTheScale) {
  auto m = random_model(Method::Lmf, 2);
  const auto& im = m->implicit;
  EXPECT_EQ(im.cmsr_table(1.9), nullptr);
  ASSERT_NE(im.cmsr_table(2.0), nullptr);
  EXPECT_EQ(im.cmsr_table(2.0)->scale, 2.0);
  EXPECT_EQ(im.cmsr_table(2.99)->scale, 2.0);
  EXPECT_EQ(im.cmsr_table(3.0 - 1e-9)->scale, 3.0);  // float noise of 1 / (1 / 3)
  EXPECT_EQ(im.cmsr_table(8)->scale, 3.0);
  EXPECT_EQ(im.cmsr_table(8)->levels.size(), 2u);
}

// ---- the maths: fast path against the reference ----------------------------------------

TEST(Implicit, FastQueriesEqualTheReferenceInFloat) {
  // Per query, y in normalised units: the fast path reorders float sums (GEMMs, the split
  // first layer, FMA), so equality is within 2e-5 + 1e-5 |y| (a grey level is 0.0078).
  // Both builds of the fast path: baseline and AVX2 + FMA (where the CPU has it).
  for (auto isa : {cpu::ImplicitIsa::Baseline, cpu::ImplicitIsa::Avx2Fma}) {
  const auto before = cpu::implicit_isa();
  if (!cpu::set_implicit_isa(isa)) {
    std::cout << "[ info ] no AVX2 + FMA on this CPU: only the baseline build tested\n";
    continue;
  }
  ThreadPool pool(2);
  cv::Mat img = photo(11, 7);
  ConstPlaneView in = cv_bridge::const_view(img);
  for (Method method : kMethods) {
    SCOPED_TRACE(std::string(method_name(method)));
    auto model = random_model(method, 3);
    const ImplicitModel& m = model->implicit;
    std::vector<float> F, field, mod;
    cpu::implicit_ref_encode(m, in, 0, F, pool);
    auto net = cpu::make_implicit_fast_net(method, m);
    cpu::implicit_fast_analyse(*net, in, 0, field, mod, pool);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> ux(-0.5f, in.width - 0.5f), uy(-0.5f, in.height - 0.5f), uc(0.25f, 1.0f);
    std::vector<cpu::ImplicitQuery> qs;
    for (int i = 0; i < 150; ++i) qs.push_back({ux(rng), uy(rng), uc(rng), uc(rng)});
    qs.push_back({-0.5f, -0.5f, 1, 1});  // corners of the plane
    qs.push_back({in.width - 0.5f, in.height - 0.5f, 0.25f, 0.25f});
    qs.push_back({3.0f, 2.0f, 0.5f, 1.0f});  // on a pixel centre
    std::vector<float> y(qs.size());
    for (std::size_t i = 0; i < qs.size(); i += 64)
      cpu::implicit_fast_eval(*net, field.data(), in, 0, &qs[i], static_cast<int>(std::min<std::size_t>(64, qs.size() - i)), &y[i]);
    double max_residual = 0;
    for (std::size_t i = 0; i < qs.size(); ++i) {
      const float ref = cpu::implicit_ref_eval(method, m, F.data(), in, 0, qs[i]);
      const float base = cpu::implicit_base(in, 0, qs[i].qx, qs[i].qy);
      max_residual = std::max(max_residual, double(std::abs(ref - base)));
      ASSERT_NEAR(y[i], ref, 2e-5 + 1e-5 * std::abs(ref)) << "query " << i << " at " << qs[i].qx << "," << qs[i].qy;
    }
    EXPECT_GT(max_residual, 0.02) << "the random network must matter for the test to mean anything";
    if (method == Method::Lmf) {
      for (int p = 0; p < in.width * in.height; p += 7)
        EXPECT_NEAR(mod[p], cpu::implicit_ref_mod(m, F.data(), in.width, in.height, p % in.width, p / in.width), 1e-5);
    }
    EXPECT_STREQ(cpu::implicit_isa_name(*net), isa == cpu::ImplicitIsa::Baseline ? "baseline" : "avx2+fma");
  }
  cpu::set_implicit_isa(before);
  }
}

TEST(Implicit, FastPlanesEqualTheReferenceWithinOneLevel) {
  // Bytes: within 1 grey level (rounding of values that differ by float reordering), and
  // almost all identical.
  struct Case {
    int w, h, ch;
    Scale s;
  };
  const Case cases[] = {{1, 1, 1, {3, 3}}, {1, 5, 1, {2, 2}}, {5, 1, 3, {2.5, 2.5}}, {2, 3, 2, {4, 4}},
                        {13, 9, 1, {1, 1}}, {13, 9, 3, {3, 2}}, {9, 6, 4, {1.5, 3.7}}};
  for (Method method : kMethods) {
    auto model = random_model(method, 4);
    auto fast = backend_for(model, cpu::CpuPath::Fast);
    auto ref = backend_for(model, cpu::CpuPath::Reference);
    EXPECT_NE(fast->description().find("thread"), std::string::npos);
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(method_name(method)) + " " + std::to_string(c.w) + "x" + std::to_string(c.h) + "x" +
                   std::to_string(c.ch) + " scale " + std::to_string(c.s.h) + "x" + std::to_string(c.s.w));
      cv::Mat in = photo(c.w, c.h, c.ch == 1 ? 1 : 3);
      if (c.ch == 2 || c.ch == 4) {
        std::vector<cv::Mat> parts(c.ch);
        cv::Mat g = photo(c.w, c.h, 1);
        for (int i = 0; i < c.ch; ++i) parts[i] = g + cv::Scalar(40 * i);
        cv::merge(parts, in);
      }
      cv::Mat a = rescale(*fast, in, c.s), b = rescale(*ref, in, c.s);
      EXPECT_LE(test::max_abs_diff(a, b), 1);
      cv::Mat diff;
      cv::absdiff(a, b, diff);
      EXPECT_LE(cv::countNonZero(diff.reshape(1)), std::max<int>(2, static_cast<int>(diff.total() * c.ch / 50)));
    }
  }
}

TEST(Implicit, WarpsMatchTheReferenceAndHonourTheBorder) {
  cv::Mat in = photo(12, 10, 3);
  for (Method method : kMethods) {
    SCOPED_TRACE(std::string(method_name(method)));
    auto model = random_model(method, 5);
    auto fast = backend_for(model, cpu::CpuPath::Fast);
    auto ref = backend_for(model, cpu::CpuPath::Reference);
    const Size out{30, 26};
    Matrix3 rot = rotation_about(20, 6, 5, 2.2);
    Matrix3 persp{{2.0, 0.3, 1, 0.1, 1.8, 2, 0.01, 0.02, 1}};
    for (const Matrix3& m : {rot, persp})
      for (Border border : {Border::Constant, Border::Clamp}) {
        cv::Mat a = render(*fast, in, out, warp_map(m), border), b = render(*ref, in, out, warp_map(m), border);
        EXPECT_LE(test::max_abs_diff(a, b), 1);
        // pixels mapping outside the input: the border value (Constant) or a clamped query
        const CoordinateMap wm = warp_map(m);
        int outside = 0;
        for (int y = 0; y < out.height; ++y)
          for (int x = 0; x < out.width; ++x) {
            double u, v;
            if (cpu::map_point(wm.out_to_in, x, y, u, v) && cpu::inside_plane(u, v, in.cols, in.rows)) continue;
            ++outside;
            if (border == Border::Constant) EXPECT_EQ(a.at<cv::Vec3b>(y, x), cv::Vec3b(9, 19, 29));
            else EXPECT_NE(a.at<cv::Vec3b>(y, x), cv::Vec3b(77, 77, 77));
          }
        EXPECT_GT(outside, 20);
      }
    // a warp that is a pure 2x rescale equals the rescale (same coordinates and cell)
    const Size isz{in.cols, in.rows}, osz{24, 20};
    CoordinateMap rm = resize_map(isz, osz, Scale{2, 2});
    Matrix3 shear_free = rm.out_to_in;
    shear_free.m[1] = 1e-300;  // not separable, same coordinates
    cv::Mat w = render(*fast, in, osz, CoordinateMap{shear_free});
    cv::Mat r = render(*fast, in, osz, rm);
    EXPECT_LE(test::max_abs_diff(w, r), 0);
  }
}

TEST(Implicit, ZeroResidualIsTheBicubicBaseAndDownscalingIsClassicalBicubic) {
  auto model = random_model(Method::Liif, 6);
  auto zero = std::make_shared<Model>(*model);
  std::fill(zero->implicit.mlp[3].w.begin(), zero->implicit.mlp[3].w.end(), 0.0f);
  std::fill(zero->implicit.mlp[3].b.begin(), zero->implicit.mlp[3].b.end(), 0.0f);
  cv::Mat in = photo(24, 16, 3);
  auto fast = backend_for(zero, cpu::CpuPath::Fast);
  MethodSetup bs;
  bs.method = Method::Bicubic;
  auto bicubic = make_cpu_backend(bs, 2);
  for (Scale s : {Scale{2, 2}, Scale{3, 1.5}}) {
    // the engine's bicubic normalises its weights and rounds the same way: equal within
    // float rounding of the sums
    EXPECT_LE(test::max_abs_diff(rescale(*fast, in, s), rescale(*bicubic, in, s)), 1);
  }
  auto real = backend_for(model, cpu::CpuPath::Fast);
  auto ref = backend_for(model, cpu::CpuPath::Reference);
  EXPECT_GT(test::max_abs_diff(rescale(*real, in, {2, 2}), rescale(*bicubic, in, {2, 2})), 2);
  for (Scale s : {Scale{0.5, 0.5}, Scale{0.7, 2}}) {
    cv::Mat expect = rescale(*bicubic, in, s);
    EXPECT_EQ(test::max_abs_diff(rescale(*real, in, s), expect), 0);
    EXPECT_EQ(test::max_abs_diff(rescale(*ref, in, s), expect), 0);
    EXPECT_TRUE(implicit_render_stats(*real)->classical);
  }
}

TEST(Implicit, ThreadCountAndAnalysisReuseDoNotChangeTheResult) {
  auto model = random_model(Method::ALiif, 8);
  cv::Mat in = photo(17, 11, 1);
  auto one = backend_for(model, cpu::CpuPath::Fast, 1), three = backend_for(model, cpu::CpuPath::Fast, 3);
  EXPECT_EQ(test::max_abs_diff(rescale(*one, in, {2.5, 2.5}), rescale(*three, in, {2.5, 2.5})), 0);
  // one analysis, two output sizes
  auto an = three->analyse(cv_bridge::const_view(in));
  for (Scale s : {Scale{2, 2}, Scale{3.5, 1.25}}) {
    Size isz{in.cols, in.rows}, osz = scaled_size(isz, s);
    cv::Mat o(osz.height, osz.width, in.type());
    PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(o), resize_map(isz, osz, s)};
    three->render(*an, job);
    EXPECT_EQ(test::max_abs_diff(o, rescale(*one, in, s)), 0);
  }
}

// An input whose analysis would not fit in memory is a clear error before anything is
// allocated (LERF_MAX_ANALYSIS_MB lowers the limit here); under the limit it runs.
TEST(Implicit, TooLargeAnInputIsAClearErrorNotAnOutOfMemoryKill) {
  for (Method method : {Method::Liif, Method::ALiif, Method::Lmf}) {
    auto model = random_model(method, 11);
    cv::Mat in = photo(120, 90, 3);
    const std::size_t need = implicit_analysis_bytes(method, model->implicit, 120, 90, 3, true);
    EXPECT_GT(need, std::size_t{120} * 90 * 3 * 4 * static_cast<std::size_t>(model->implicit.channels));
    auto backend = backend_for(model, cpu::CpuPath::Fast, 2);
    ::setenv("LERF_MAX_ANALYSIS_MB", std::to_string(static_cast<double>(need) / (1 << 20) * 0.9).c_str(), 1);
    try {
      backend->analyse(cv_bridge::const_view(in));
      ADD_FAILURE() << method_name(method) << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("120x90 plane of 3 channel(s) needs about"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("LERF_MAX_ANALYSIS_MB"), std::string::npos) << e.what();
    }
    ::setenv("LERF_MAX_ANALYSIS_MB", std::to_string(static_cast<double>(need) / (1 << 20) * 1.1).c_str(), 1);
    EXPECT_NO_THROW(backend->analyse(cv_bridge::const_view(in))) << method_name(method);
    ::unsetenv("LERF_MAX_ANALYSIS_MB");
  }
}

TEST(Implicit, ExtremeWeightsGiveNoNaNPixels) {
  // Weights of 1e15: activations overflow to inf and NaN; every pixel still comes out, the
  // non-finite ones as the bicubic base, and the two paths agree on which.
  cv::Mat in = photo(9, 7, 1);
  for (Method method : kMethods) {
    SCOPED_TRACE(std::string(method_name(method)));
    auto model = random_model(method, 9, small_arch(), 1e15f);
    auto fast = backend_for(model, cpu::CpuPath::Fast);
    cv::Mat a = rescale(*fast, in, {2, 2});
    cv::Mat b = rescale(*fast, in, {2, 2});
    EXPECT_EQ(test::max_abs_diff(a, b), 0);
    EXPECT_EQ(implicit_render_stats(*fast)->rendered_full, a.total());
  }
}

// ---- CMSR ---------------------------------------------------------------------------------

namespace {
std::shared_ptr<Model> with_table(const std::shared_ptr<Model>& base, std::vector<CmsrTable::Level> levels) {
  auto m = std::make_shared<Model>(*base);
  m->implicit.cmsr = {CmsrTable{2.0, std::move(levels)}};
  return m;
}
}  // namespace

TEST(ImplicitCmsr, ZeroThresholdsEqualFullRenderingAndSkippingGrowsWithThresholds) {
  auto base = random_model(Method::Lmf, 10);
  cv::Mat in = photo(20, 14, 1);
  const Scale s{4, 4};
  auto full = backend_for(base, cpu::CpuPath::Fast, 2, /*cmsr=*/false);
  cv::Mat reference = rescale(*full, in, s);
  EXPECT_FALSE(implicit_render_stats(*full)->cmsr);

  auto zero = backend_for(with_table(base, {{1, 0}, {2, 0}}), cpu::CpuPath::Fast);
  EXPECT_EQ(test::max_abs_diff(rescale(*zero, in, s), reference), 0);
  EXPECT_TRUE(implicit_render_stats(*zero)->cmsr);
  EXPECT_EQ(implicit_render_stats(*zero)->skipped, 0);

  // the mod values of this model, to place thresholds at its quantiles
  ThreadPool pool(2);
  std::vector<float> field, mod;
  auto net = cpu::make_implicit_fast_net(Method::Lmf, base->implicit);
  cpu::implicit_fast_analyse(*net, cv_bridge::const_view(in), 0, field, mod, pool);
  std::sort(mod.begin(), mod.end());
  long long last_skipped = -1;
  double last_saved = -1;
  // thresholds between two mod values (the paths' mods differ by float noise: a threshold
  // equal to a pixel's mod would make them choose differently)
  auto between = [&](double q) {
    const std::size_t i = static_cast<std::size_t>(q * (mod.size() - 1));
    return 0.5 * (mod[i] + mod[i + 1]);
  };
  for (double q : {0.1, 0.4, 0.7, 1.01}) {
    const double t = q > 1 ? 1e30 : between(q), t1 = q > 1 ? 1e30 : between(q / 2);
    auto model = with_table(base, {{1.5, t1}, {2, t}});
    auto b = backend_for(model, cpu::CpuPath::Fast);
    cv::Mat out = rescale(*b, in, s);
    const ImplicitRenderStats st = *implicit_render_stats(*b);
    EXPECT_GE(st.skipped, last_skipped) << "quantile " << q;
    EXPECT_GE(st.saved_fraction(), last_saved - 1e-9) << "quantile " << q;
    EXPECT_EQ(st.skipped + st.rendered_full, static_cast<long long>(out.total()));
    last_skipped = st.skipped;
    last_saved = st.saved_fraction();
    // the reference renders whole coarse images and selects: same bytes within 1
    auto r = backend_for(model, cpu::CpuPath::Reference);
    EXPECT_LE(test::max_abs_diff(out, rescale(*r, in, s)), 1) << "quantile " << q;
    EXPECT_EQ(implicit_render_stats(*r)->skipped, st.skipped);
    if (q > 1) {
      EXPECT_EQ(st.rendered_full, 0);
      EXPECT_GT(st.saved_fraction(), 0.5);  // only the coarse x1.5 image (and its border) rendered
    }
  }
  EXPECT_GT(last_skipped, 0);
  // --no-cmsr and warps never use the table
  auto off = backend_for(with_table(base, {{1, 1e30}}), cpu::CpuPath::Fast, 2, false);
  EXPECT_EQ(test::max_abs_diff(rescale(*off, in, s), reference), 0);
  // a scale below every table key: no CMSR
  auto low = backend_for(with_table(base, {{1, 1e30}}), cpu::CpuPath::Fast);
  rescale(*low, in, {1.5, 1.5});
  EXPECT_FALSE(implicit_render_stats(*low)->cmsr);
}

// ---- engine front door ---------------------------------------------------------------------

TEST(Implicit, WithoutVulkanCodeVulkanIsAClearErrorAndAutoUsesTheCpu) {
  auto model = random_model(Method::Liif, 11);
  EngineOptions o;
  o.method = Method::Liif;
  o.model_dir = model->directory.string();
  o.backend = BackendKind::Vulkan;
  if (!method_on_vulkan(Method::Liif)) try {
    Engine e(o);
    ADD_FAILURE() << "vulkan accepted liif";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not implemented on Vulkan"), std::string::npos) << e.what();
  }
  o.backend = BackendKind::Cpu;
  Engine e(o);
  EXPECT_EQ(e.backend().kind(), BackendKind::Cpu);
  EXPECT_NE(implicit_render_stats(e.backend()), nullptr);
  if (!method_on_vulkan(Method::Liif)) {
    o.backend = BackendKind::Auto;
    EXPECT_EQ(Engine(o).backend().kind(), BackendKind::Cpu);
  }
  const ImplicitCost c = implicit_cost(Method::Liif, model->implicit);
  EXPECT_GT(c.decoder_per_output, c.decoder_per_output_fast);
}

// ---- the command-line tool -----------------------------------------------------------------

TEST(ImplicitCli, ResizeWarpAndStatsWithARandomModel) {
  const char* cli = std::getenv("LERF_CLI");
  if (!cli) GTEST_SKIP() << "LERF_CLI not set (run through meson test)";
  auto model = random_model(Method::Lmf, 12);
  // a table for x4 that skips everything: --stats must report the saving, --no-cmsr none
  nlohmann::json j = model_json(Method::Lmf, small_arch());
  j["cmsr"]["tables"] = {{"4", {{2, 1e30}}}};
  std::ofstream(model->directory / "model.json") << j.dump();
  fs::path in = tmp_dir("cli") / "in.png", out = tmp_dir("cli") / "out.png";
  cv::imwrite(in.string(), photo(20, 15, 3));
  auto run = [&](const std::string& args) {
    std::string cmd = std::string(cli) + " " + args + " 2>&1";
    std::string text;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) text += buf;
    const int st = p ? pclose(p) : -1;
    return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, text);
  };
  const std::string common = " --method lmf --model-dir " + model->directory.string() + " --threads 1 --stats";
  auto [rc, text] = run("resize " + in.string() + " " + out.string() + " --scale 4" + common);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("cmsr on"), std::string::npos) << text;
  EXPECT_NE(text.find("0 rendered at full scale"), std::string::npos) << text;
  EXPECT_EQ(cv::imread(out.string()).cols, 80);
  std::tie(rc, text) = run("resize " + in.string() + " " + out.string() + " --scale 4 --no-cmsr" + common);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("cmsr off"), std::string::npos) << text;
  EXPECT_NE(text.find("render work saved 0.0%"), std::string::npos) << text;
  std::tie(rc, text) = run("warp " + in.string() + " " + out.string() + " --matrix 1.2,0.1,0,0,1.1,0,0,0,1" + common);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("MAC/output px"), std::string::npos) << text;
  // a damaged model: a clear error, exit 1
  fs::resize_file(model->directory / "model.safetensors", 100);
  std::tie(rc, text) = run("resize " + in.string() + " " + out.string() + " --scale 2" + common);
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("model.safetensors"), std::string::npos) << text;
}
