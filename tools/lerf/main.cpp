// lerf: the command-line front end of the engine (resize, warp, eval, info).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval.hpp"
#include "lerf/engine.hpp"
#include "lerf/error.hpp"
#include "lerf/implicit.hpp"
#include "lerf/model.hpp"
#include "opencv_planes.hpp"

namespace {

using namespace lerf;

struct CommonOptions {
  std::string method = "lerf-g";
  std::string backend = "auto";
  std::string model_dir;
  int threads = 0;
  int device = 0;
  double cubic_a = -0.5;
  bool reference_quirks = false;
  bool no_cmsr = false;
  bool stats = false;
};

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--method", o.method, "nearest bilinear bicubic lanczos lerf-l lerf-g im-lut liif a-liif lmf")
      ->capture_default_str();
  cmd->add_option("--backend", o.backend, "auto, cpu or vulkan")->capture_default_str();
  cmd->add_option("--model-dir", o.model_dir, "model folder, or a folder holding <method>/ folders");
  cmd->add_option("--threads", o.threads, "worker threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--device-index", o.device, "Vulkan device index")->capture_default_str();
  cmd->add_option("--cubic-a", o.cubic_a, "Keys parameter of bicubic (-0.5 MATLAB, -0.75 OpenCV)")
      ->capture_default_str();
  cmd->add_flag("--reference-quirks", o.reference_quirks,
                "LeRF conformance: reproduce the authors' code's floating-point ties (CPU backend)");
  cmd->add_flag("--no-cmsr", o.no_cmsr, "lmf: render every pixel at full scale (no multi-scale rendering)");
  cmd->add_flag("--stats", o.stats, "implicit methods: print multiply-adds per pixel and CMSR's savings");
}

// --stats: the nominal cost of an implicit model and what the last render did.
void print_stats(const Engine& engine, Size in, Size out) {
  const Model* model = engine.model();
  if (!model || !is_implicit(engine.method())) {
    std::cout << "stats: only for liif, a-liif, lmf\n";
    return;
  }
  const ImplicitCost c = implicit_cost(engine.method(), model->implicit);
  const double ratio = double(in.width) * in.height / (double(out.width) * out.height);
  std::printf("stats: encoder %.0f MAC/input px, latent %.0f MAC/input px, decoder %.0f MAC/output px nominal "
              "(fast path: %.0f precomputed/input px + %.0f/output px); total nominal %.0f MAC/output px\n",
              c.encoder_per_input, c.latent_per_input, c.decoder_per_output, c.precomputed_per_input,
              c.decoder_per_output_fast, (c.encoder_per_input + c.latent_per_input) * ratio + c.decoder_per_output);
  if (const ImplicitRenderStats* st = implicit_render_stats(engine.backend())) {
    if (st->classical) std::printf("stats: downscaling, rendered with classical bicubic\n");
    else
      std::printf("stats: cmsr %s, %lld output values: %lld rendered at full scale, %lld from coarse images "
                  "(%lld coarse values rendered), render work saved %.1f%%\n",
                  st->cmsr ? "on" : "off", st->output_pixels, st->rendered_full, st->skipped, st->rendered_coarse,
                  100.0 * st->saved_fraction());
  }
}

EngineOptions engine_options(const CommonOptions& o) {
  EngineOptions e;
  auto m = parse_method(o.method);
  if (!m) throw Error("unknown method '" + o.method + "' (nearest bilinear bicubic lanczos lerf-l lerf-g im-lut liif a-liif lmf)");
  auto b = parse_backend(o.backend);
  if (!b) throw Error("unknown backend '" + o.backend + "' (auto cpu vulkan)");
  if (o.threads < 0) throw Error("--threads must be >= 0");
  e.method = *m;
  e.backend = *b;
  e.model_dir = o.model_dir;
  e.threads = o.threads;
  e.device_index = o.device;
  e.cubic_a = static_cast<float>(o.cubic_a);
  e.reference_quirks = o.reference_quirks;
  e.cmsr = !o.no_cmsr;
  return e;
}

int cmd_resize(const std::string& in_path, const std::string& out_path, const std::string& scale_text,
               const std::string& size_text, const CommonOptions& o) {
  if (scale_text.empty() == size_text.empty()) throw Error("give exactly one of --scale and --size");
  Engine engine(engine_options(o));
  cv::Mat in = cv_bridge::read_image(in_path);
  Size in_size{in.cols, in.rows};
  Size out_size;
  CoordinateMap map;
  if (!scale_text.empty()) {
    auto s = parse_scale(scale_text);
    if (!s) throw Error("bad --scale '" + scale_text + "' (expected S or SHxSW, positive)");
    out_size = scaled_size(in_size, *s);
    map = resize_map(in_size, out_size, *s);
  } else {
    auto s = parse_size(size_text);
    if (!s) throw Error("bad --size '" + size_text + "' (expected WxH, positive)");
    out_size = *s;
    map = resize_map(in_size, out_size);
  }
  if (static_cast<double>(out_size.width) * out_size.height > 1.0e9 || out_size.width > 1 << 16 ||
      out_size.height > 1 << 16)
    throw Error("output size " + std::to_string(out_size.width) + "x" + std::to_string(out_size.height) +
                " is too large");
  cv::Mat out(out_size.height, out_size.width, in.type());
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), map};
  auto t0 = std::chrono::steady_clock::now();
  engine.run(std::span<const PlaneJob>(&job, 1));
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  cv_bridge::write_image(out_path, out);
  std::cout << in_path << " " << in_size.width << "x" << in_size.height << " -> " << out_path << " "
            << out_size.width << "x" << out_size.height << " (" << method_name(engine.method()) << ", "
            << engine.backend().description() << ", " << static_cast<int>(ms) << " ms)\n";
  if (o.stats) print_stats(engine, in_size, out_size);
  return 0;
}

std::vector<double> parse_numbers(const std::string& text, const char* what) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    double d = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(d))
      throw Error(std::string("bad number '") + item + "' in " + what);
    v.push_back(d);
  }
  return v;
}

int cmd_warp(const std::string& in_path, const std::string& out_path, const std::string& matrix_text,
             const std::string& size_text, const std::string& border, const CommonOptions& o) {
  auto values = parse_numbers(matrix_text, "--matrix");
  if (values.size() != 9) throw Error("--matrix needs 9 numbers (row-major 3x3), got " + std::to_string(values.size()));
  if (border != "black" && border != "clamp") throw Error("--border must be black or clamp");
  Matrix3 m;
  std::copy(values.begin(), values.end(), m.m.begin());
  CoordinateMap map;
  try {
    map = warp_map(m);
  } catch (const Error& e) {
    throw Error(std::string("--matrix: ") + e.what());
  }
  Engine engine(engine_options(o));
  cv::Mat in = cv_bridge::read_image(in_path);
  Size out_size{in.cols, in.rows};
  if (!size_text.empty()) {
    auto s = parse_size(size_text);
    if (!s) throw Error("bad --size '" + size_text + "' (expected WxH)");
    out_size = *s;
  }
  cv::Mat out(out_size.height, out_size.width, in.type());
  PlaneJob job{cv_bridge::const_view(in), cv_bridge::view(out), map};
  job.border = border == "black" ? Border::Constant : Border::Clamp;
  if (in.channels() == 4) job.border_value = {0, 0, 0, 255};  // opaque black
  engine.run(std::span<const PlaneJob>(&job, 1));
  cv_bridge::write_image(out_path, out);
  std::cout << in_path << " warped -> " << out_path << " " << out_size.width << "x" << out_size.height << " ("
            << method_name(engine.method()) << ")\n";
  if (o.stats) print_stats(engine, Size{in.cols, in.rows}, out_size);
  return 0;
}

int cmd_eval(const std::string& dataset, const std::string& scales_text, bool json, const CommonOptions& o) {
  std::vector<Scale> scales;
  std::stringstream ss(scales_text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto s = parse_scale(item);
    if (!s) throw Error("bad scale '" + item + "' in --scales");
    if (s->h < 1 || s->w < 1) throw Error("eval scales must be >= 1 (upscaling)");
    scales.push_back(*s);
  }
  if (scales.empty()) throw Error("--scales is empty");
  Engine engine(engine_options(o));
  auto results = evaluate(engine, dataset, scales);
  if (json) {
    nlohmann::json j;
    j["method"] = std::string(method_name(engine.method()));
    j["backend"] = engine.backend().description();
    if (engine.model()) j["model_dir"] = engine.model()->directory.string();
    j["results"] = nlohmann::json::array();
    for (const auto& r : results)
      j["results"].push_back({{"dataset", r.dataset},
                              {"scale_h", r.scale_h},
                              {"scale_w", r.scale_w},
                              {"images", r.images},
                              {"psnr_y", std::round(r.psnr_y * 1e4) / 1e4},
                              {"ssim_y", std::round(r.ssim_y * 1e6) / 1e6}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%-10s %-8s %6s %9s %8s\n", "dataset", "scale", "images", "PSNR-Y", "SSIM-Y");
    for (const auto& r : results)
      std::printf("%-10s %-8s %6d %9.3f %8.4f\n", r.dataset.c_str(), scale_label({r.scale_h, r.scale_w}).c_str(),
                  r.images, r.psnr_y, r.ssim_y);
  }
  return 0;
}

int cmd_info() {
  std::cout << "methods:\n";
  for (Method m : all_methods()) {
    std::cout << "  " << method_name(m);
    if (!method_implemented(m)) {
      std::cout << "  (not implemented yet)\n";
      continue;
    }
    if (!method_needs_model(m)) {
      std::cout << "  (classical)\n";
      continue;
    }
    try {
      std::string dir = find_model_dir(m).string();
      std::cout << "  model: " << dir << "\n";
      if (is_implicit(m)) {
        const ImplicitCost c = implicit_cost(m, load_model(m, dir).implicit);
        std::printf("    MAC: encoder %.0f + latent %.0f per input pixel, decoder %.0f per output pixel "
                    "(CPU fast path: %.0f per input + %.0f per output pixel)%s\n",
                    c.encoder_per_input, c.latent_per_input, c.decoder_per_output, c.precomputed_per_input,
                    c.decoder_per_output_fast, method_on_vulkan(m) ? "" : "; CPU only (not on Vulkan yet)");
      }
    } catch (const Error& e) {
      std::cout << "  model: none (" << e.what() << ")\n";
    }
  }
  std::cout << "backends:\n  cpu: available\n";
  std::string auto_pick = "cpu";
  try {
    auto devices = list_vulkan_devices();
    std::cout << "  vulkan: " << devices.size() << " device" << (devices.size() == 1 ? "" : "s") << "\n";
    for (const auto& d : devices)
      std::cout << "    " << d.index << ": " << d.name << " (" << d.type << ")\n";
    if (!devices.empty() && auto_uses_vulkan(devices[0])) auto_pick = "vulkan (device 0: " + devices[0].name + ")";
    else if (!devices.empty()) auto_pick = "cpu (vulkan device 0 is a software implementation)";
  } catch (const Error& e) {
    std::cout << "  vulkan: unavailable (" << e.what() << ")\n";
  }
  std::cout << "auto picks: " << auto_pick << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lerf: learned resampling of images (LeRF, IM-LUT, LIIF, LMF) and classical kernels"};
  app.require_subcommand(1);

  CommonOptions resize_opts, warp_opts, eval_opts;
  std::string in_path, out_path, scale_text, size_text, matrix_text, border = "black", dataset, scales;
  bool json = false;

  auto* resize = app.add_subcommand("resize", "rescale an image");
  resize->add_option("input", in_path, "input image (PNG, JPEG, ...)")->required();
  resize->add_option("output", out_path, "output image")->required();
  resize->add_option("--scale", scale_text, "scale S or SHxSW (output = ceil(S * input))");
  resize->add_option("--size", size_text, "explicit output size WxH");
  add_common(resize, resize_opts);

  auto* warp = app.add_subcommand("warp", "warp an image by a homography");
  warp->add_option("input", in_path)->required();
  warp->add_option("output", out_path)->required();
  warp->add_option("--matrix", matrix_text, "m00,m01,...,m22: maps input (x, y, 1) to output")->required();
  warp->add_option("--size", size_text, "output size WxH (default: the input size)");
  warp->add_option("--border", border, "black or clamp")->capture_default_str();
  add_common(warp, warp_opts);

  auto* eval = app.add_subcommand("eval", "PSNR-Y / SSIM-Y on a dataset");
  eval->add_option("--dataset", dataset, "folder with x{s}/HR and x{s}/LR")->required();
  eval->add_option("--scales", scales, "comma-separated scales, e.g. 2,3,4 or 1.5,2x3")->required();
  eval->add_flag("--json", json, "print one JSON object");
  add_common(eval, eval_opts);

  app.add_subcommand("info", "list methods, models and backends");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (resize->parsed()) return cmd_resize(in_path, out_path, scale_text, size_text, resize_opts);
    if (warp->parsed()) return cmd_warp(in_path, out_path, matrix_text, size_text, border, warp_opts);
    if (eval->parsed()) return cmd_eval(dataset, scales, json, eval_opts);
    return cmd_info();
  } catch (const Error& e) {
    std::cerr << "lerf: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lerf: error: " << e.what() << "\n";
    return 1;
  }
}
