// The .npy reader and LUT model loading: good files load, malformed ones are rejected with
// an error naming the file and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lerf/error.hpp"
#include "lerf/model.hpp"
#include "lerf/npy.hpp"
#include "test_helpers.hpp"

using namespace lerf;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("lerf-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

NpyArray int8_array(std::vector<std::size_t> shape, int seed = 1) {
  NpyArray a;
  a.dtype = "|i1";
  a.shape = shape;
  a.bytes.resize(a.count());
  for (std::size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = static_cast<std::uint8_t>((i * 7 + seed) & 0xff);
  return a;
}

// Writes a complete random LUT model folder.
void write_model(const fs::path& dir, int outputs) {
  for (const char* p : {"s", "c", "t"}) {
    write_npy(dir / (std::string("LUTft_s1_") + p + "r0.npy"), int8_array({kLutEntries, 1}));
    for (int r = 0; r < 2; ++r)
      write_npy(dir / (std::string("LUTft_s2_") + p + "r" + std::to_string(r) + ".npy"),
                int8_array({kLutEntries, static_cast<std::size_t>(outputs)}, r + 3));
  }
}

void expect_error(const std::function<void()>& f, const std::string& a, const std::string& b) {
  try {
    f();
    FAIL() << "no error (expected '" << b << "')";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(a), std::string::npos) << msg;
    EXPECT_NE(msg.find(b), std::string::npos) << msg;
  }
}

}  // namespace

TEST(Npy, RoundTripsArrays) {
  auto dir = temp_dir("npy");
  NpyArray a = int8_array({5, 3});
  write_npy(dir / "a.npy", a);
  NpyArray b = read_npy(dir / "a.npy");
  EXPECT_EQ(b.dtype, "|i1");
  EXPECT_EQ(b.shape, (std::vector<std::size_t>{5, 3}));
  EXPECT_EQ(b.bytes, a.bytes);
}

TEST(Npy, ADirectoryInPlaceOfAFileIsAnErrorNamingIt) {
  auto dir = temp_dir("npydir");
  std::filesystem::create_directories(dir / "t.npy");
  try {
    read_npy(dir / "t.npy");
    ADD_FAILURE() << "a directory was read as a .npy file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "t.npy").string() + ": is a directory"), std::string::npos) << e.what();
  }
}

TEST(Npy, ReadsTheAuthorsLutFiles) {
  LERF_REQUIRE_SHARED();
  NpyArray a = read_npy(test::shared_dir() / "reference/lerf-official/lerf-g/LUTft_s2_sr0.npy");
  EXPECT_EQ(a.dtype, "|i1");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{83521, 3}));
}

TEST(Npy, RejectsMalformedFiles) {
  auto dir = temp_dir("npy-bad");
  write_npy(dir / "good.npy", int8_array({10, 2}));
  auto good = file_bytes(dir / "good.npy");
  const std::string name = (dir / "bad.npy").string();
  auto parse = [&](std::vector<std::uint8_t> b) { return [b, name] { parse_npy(b.data(), b.size(), name); }; };

  auto bad_magic = good;
  bad_magic[1] = 'X';
  expect_error(parse(bad_magic), name, "bad magic");
  expect_error(parse(std::vector<std::uint8_t>(good.begin(), good.begin() + 20)), name, "truncated");
  expect_error(parse(std::vector<std::uint8_t>(good.begin(), good.end() - 1)), name, "truncated data");
  auto extra = good;
  extra.push_back(0);
  expect_error(parse(extra), name, "unexpected bytes");
  auto version = good;
  version[6] = 9;
  expect_error(parse(version), name, "version");
  auto header = [&](const std::string& dict, std::size_t payload) {
    std::string text = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) + '\0' + dict +
                       std::string(payload, '\0');
    return std::vector<std::uint8_t>(text.begin(), text.end());
  };
  expect_error(parse(header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16)), name, "dtype");
  expect_error(parse(header("{'descr': '|i1', 'fortran_order': True, 'shape': (2,), }", 2)), name, "Fortran");
  expect_error(parse(header("{'descr': '|i1', 'shape': (2,), }", 2)), name, "lacks");
  expect_error(parse(header("{'descr': '|i1', 'fortran_order': False, 'shape': (2,x), }", 2)), name, "dimension");
  expect_error(parse(header("garbage", 2)), name, "header");
  expect_error(parse(header("{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }", 2)),
               name, "large");
}

TEST(Model, LoadsTheAuthorsLuts) {
  LERF_REQUIRE_SHARED();
  Model g = load_model(Method::LerfG, test::shared_dir() / "reference/lerf-official");
  EXPECT_EQ(g.lut.stage2_outputs, 3);
  EXPECT_EQ(g.lut.stage1[0].size(), static_cast<std::size_t>(kLutEntries));
  EXPECT_EQ(g.lut.stage2[2][1].size(), static_cast<std::size_t>(kLutEntries) * 3);
  Model l = load_model(Method::LerfL, test::shared_dir() / "reference/lerf-official/lerf-l");
  EXPECT_EQ(l.lut.stage2_outputs, 1);
}

TEST(Model, ReportsMissingAndMismatchedFiles) {
  auto dir = temp_dir("model");
  write_model(dir, 3);
  EXPECT_NO_THROW(load_model(Method::LerfG, dir));
  // An L model is not a G model: the stage-2 shapes differ.
  expect_error([&] { load_model(Method::LerfL, dir); }, "LUTft_s2_sr0.npy", "shape (83521,3,), expected (83521, 1)");
  fs::remove(dir / "LUTft_s2_tr1.npy");
  expect_error([&] { load_model(Method::LerfG, dir); }, "LUTft_s2_tr1.npy", "missing");
  write_npy(dir / "LUTft_s2_tr1.npy", NpyArray{"<f4", {kLutEntries, 3}, std::vector<std::uint8_t>(kLutEntries * 12)});
  expect_error([&] { load_model(Method::LerfG, dir); }, "LUTft_s2_tr1.npy", "dtype");
  write_bytes(dir / "LUTft_s2_tr1.npy", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  expect_error([&] { load_model(Method::LerfG, dir); }, "LUTft_s2_tr1.npy", "bad magic");
  write_model(dir, 3);
  write_bytes(dir / "model.json", {'{', 'x'});
  expect_error([&] { load_model(Method::LerfG, dir); }, "model.json", "JSON");
  std::ofstream(dir / "model.json") << R"({"method": "lerf-l"})";
  expect_error([&] { load_model(Method::LerfG, dir); }, "model.json", "lerf-l");
  std::ofstream(dir / "model.json") << R"({"method": "lerf-g", "description": "test model"})";
  EXPECT_EQ(load_model(Method::LerfG, dir).description, "test model");
  expect_error([&] { load_model(Method::LerfG, dir / "nope"); }, "nope", "does not exist");
}

TEST(Model, FindsModelFoldersAndExplainsFailures) {
  auto dir = temp_dir("find");
  fs::create_directories(dir / "lerf-g");
  write_model(dir / "lerf-g", 3);
  EXPECT_EQ(find_model_dir(Method::LerfG, dir), dir / "lerf-g");
  EXPECT_EQ(find_model_dir(Method::LerfG, dir / "lerf-g"), dir / "lerf-g");
  expect_error([&] { find_model_dir(Method::LerfL, dir / "missing"); }, "lerf-l", "searched");
}
