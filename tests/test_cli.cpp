// The lerf command-line tool, run as a user would.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sys/wait.h>

#include "test_helpers.hpp"

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int status;
  std::string output;
};

CliRun run_lerf(const std::string& args) {
  const char* cli = std::getenv("LERF_CLI");
  std::string cmd = std::string(cli ? cli : "build/tools/lerf") + " " + args + " 2>&1";
  CliRun r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

fs::path tmp(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("lerf-cli-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

const std::string kPhoto = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg";

}  // namespace

TEST(Cli, ResizeWritesTheRequestedSize) {
  auto out = tmp("up.png");
  CliRun r = run_lerf("resize " + kPhoto + " " + out.string() + " --scale 1.5 --method bicubic");
  ASSERT_EQ(r.status, 0) << r.output;
  cv::Mat in = cv::imread(kPhoto), o = cv::imread(out.string());
  EXPECT_EQ(o.cols, (in.cols * 3 + 1) / 2);
  EXPECT_EQ(o.rows, (in.rows * 3 + 1) / 2);
  r = run_lerf("resize " + kPhoto + " " + out.string() + " --size 301x77 --method lanczos --threads 1");
  ASSERT_EQ(r.status, 0) << r.output;
  o = cv::imread(out.string());
  EXPECT_EQ(o.cols, 301);
  EXPECT_EQ(o.rows, 77);
  r = run_lerf("resize " + kPhoto + " " + out.string() + " --scale 0.5x2 --method bilinear");
  ASSERT_EQ(r.status, 0) << r.output;
  o = cv::imread(out.string());
  EXPECT_EQ(o.cols, in.cols * 2);
  EXPECT_EQ(o.rows, (in.rows + 1) / 2);
}

TEST(Cli, ResizeOutputEqualsTheEngine) {
  auto out = tmp("eq.png");
  CliRun r = run_lerf("resize " + kPhoto + " " + out.string() + " --size 700x500 --method bicubic");
  ASSERT_EQ(r.status, 0) << r.output;
  cv::Mat in = cv::imread(kPhoto);
  cv::Mat ref = lerf::test::resize(lerf::Method::Bicubic, in, {700, 500});
  EXPECT_EQ(lerf::test::max_abs_diff(cv::imread(out.string()), ref), 0);
}

TEST(Cli, LearnedMethodWithTheAuthorsLuts) {
  LERF_REQUIRE_SHARED();
  auto out = tmp("lerf.png");
  CliRun r = run_lerf("resize " + kPhoto + " " + out.string() + " --scale 2 --method lerf-g --model-dir " +
               (lerf::test::shared_dir() / "reference/lerf-official").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("lerf-g"), std::string::npos);
}

TEST(Cli, ErrorsAreClearAndNonZero) {
  auto out = tmp("x.png");
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"resize /nonexistent.png " + out.string() + " --scale 2 --method bilinear", "no such file"},
      {"resize /etc/os-release " + out.string() + " --scale 2 --method bilinear", "not a readable image"},
      {"resize " + kPhoto + " " + out.string() + " --scale 0 --method bilinear", "bad --scale"},
      {"resize " + kPhoto + " " + out.string() + " --scale abc --method bilinear", "bad --scale"},
      {"resize " + kPhoto + " " + out.string() + " --method bilinear", "exactly one of --scale and --size"},
      {"resize " + kPhoto + " " + out.string() + " --scale 2 --method sharpest", "unknown method 'sharpest'"},
      {"resize " + kPhoto + " " + out.string() + " --scale 2 --method bilinear --backend gpu", "unknown backend"},
      {"resize " + kPhoto + " " + out.string() + " --scale 2 --method lerf-g --model-dir /nonexistent", "lerf-g"},
      {"resize " + kPhoto + " /nonexistent/dir/x.png --scale 2 --method bilinear", "cannot write"},
      {"resize " + kPhoto + " " + out.string() + " --scale 100000 --method bilinear", "too large"},
      {"warp " + kPhoto + " " + out.string() + " --matrix 1,2,3,2,4,6,0,0,1 --method bilinear", "singular"},
      {"warp " + kPhoto + " " + out.string() + " --matrix 1,2,3 --method bilinear", "9 numbers"},
      {"eval --dataset /nonexistent --scales 2 --method bicubic", "does not exist"},
      {"eval --dataset /tmp --scales 0.5 --method bicubic", ">= 1"},
  };
  for (const auto& c : cases) {
    CliRun r = run_lerf(c.args);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_LT(r.status, 128) << "killed by a signal: " << c.args;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(Cli, WarpAppliesTheMatrix) {
  auto out = tmp("warp.png");
  CliRun r = run_lerf("warp " + kPhoto + " " + out.string() + " --matrix 1,0,10,0,1,0,0,0,1 --method bilinear --size 200x100");
  ASSERT_EQ(r.status, 0) << r.output;
  cv::Mat in = cv::imread(kPhoto), o = cv::imread(out.string());
  ASSERT_EQ(o.cols, 200);
  EXPECT_EQ(lerf::test::max_abs_diff(o(cv::Rect(10, 0, 190, 100)), in(cv::Rect(0, 0, 190, 100))), 0);
  EXPECT_EQ(cv::countNonZero(o(cv::Rect(0, 0, 10, 100)).reshape(1)), 0);
}

TEST(Cli, EvalJsonOnAGeneratedDataset) {
  // A tiny dataset in the shared layout, with HR only: LR is generated for every scale.
  fs::path ds = tmp("tinyset");
  fs::create_directories(ds / "x2" / "HR");
  cv::Mat photo = cv::imread(kPhoto);
  cv::imwrite((ds / "x2/HR/a.png").string(), photo(cv::Rect(0, 0, 96, 72)));
  cv::imwrite((ds / "x2/HR/b.png").string(), photo(cv::Rect(200, 100, 120, 90)));
  CliRun r = run_lerf("eval --dataset " + ds.string() + " --scales 2,1.5,2x3 --method bicubic --json");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["results"].size(), 3u);
  for (const auto& e : j["results"]) {
    EXPECT_EQ(e["dataset"], "tinyset");
    EXPECT_EQ(e["images"], 2);
    EXPECT_GT(e["psnr_y"].get<double>(), 20.0);
    EXPECT_GT(e["ssim_y"].get<double>(), 0.5);
    EXPECT_LE(e["ssim_y"].get<double>(), 1.0);
  }
  EXPECT_EQ(j["results"][2]["scale_h"], 2.0);
  EXPECT_EQ(j["results"][2]["scale_w"], 3.0);
}

TEST(Cli, InfoListsMethods) {
  CliRun r = run_lerf("info");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* m : {"nearest", "bilinear", "bicubic", "lanczos", "lerf-l", "lerf-g", "im-lut", "liif", "a-liif", "lmf"})
    EXPECT_NE(r.output.find(m), std::string::npos) << m;
}
