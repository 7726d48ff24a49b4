// Trained models and where they are found.
//
// A LUT model (lerf-g, lerf-l) is a directory in the authors' layout:
//   LUTft_s1_{s,c,t}r0.npy       stage 1 (pre-filter), int8, shape (17^4, 1)
//   LUTft_s2_{s,c,t}r{0,1}.npy   stage 2 (hyperparameters), int8, (17^4, 3) G / (17^4, 1) L
// plus, for our own models, model.json (method, version, training data, scores).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lerf/implicit.hpp"
#include "lerf/methods.hpp"

namespace lerf {

// The LUT geometry, defined once for C++ and GLSL in lerf/shared/lut.inc.
namespace lut {
#define LERF_FN constexpr inline
#define LERF_CONST inline constexpr
#include "lerf/shared/lut.inc"
#undef LERF_FN
#undef LERF_CONST
}  // namespace lut

inline constexpr int kLutLevels = lut::lerf_lut_levels;      // MSB levels 0..16 of an 8-bit sample
inline constexpr int kLutEntries = lut::lerf_lut_entries;    // 83521 4-D vertices
inline constexpr int kLutPatterns = lut::lerf_lut_patterns;  // s (2x2), c (1x4 row), t (diagonal)

struct LutModel {
  int stage2_outputs = 0;  // 3 for lerf-g (rho, sx, sy), 1 for lerf-l
  // stage1[p]: kLutEntries values; stage2[p][d]: kLutEntries * stage2_outputs values,
  // d = 0 for rotations 0 and 2, d = 1 for rotations 1 and 3 (directional ensemble).
  std::array<std::vector<std::int8_t>, kLutPatterns> stage1;
  std::array<std::array<std::vector<std::int8_t>, 2>, kLutPatterns> stage2;
};

// IM-LUT (docs/IMLUT.md, lerf/shared/imlut.inc): mixing-logit tables per pattern, int8,
// kLutEntries * bins * components values (column = bin * components + k).
struct ImLutModel {
  std::vector<Method> components;  // the K interpolations mixed (classical kernels, lerf-g)
  float scale_first = 1.5f, scale_step = 0.5f;
  int scale_bins = 0;
  bool affine = false;  // mixing: softmax (false) or affine w = z - mean(z) + 1 / K
  std::array<std::vector<std::int8_t>, kLutPatterns> tables;
  int columns() const { return scale_bins * static_cast<int>(components.size()); }
};

struct Model {
  Method method = Method::LerfG;
  std::filesystem::path directory;
  std::string description;  // from model.json when present
  LutModel lut;             // LeRF's tables; for im-lut the lerf-g component's (when mixed)
  ImLutModel imlut;         // im-lut only
  ImplicitModel implicit;   // liif, a-liif, lmf
};

// Loads the model of `method` from `dir`, which is either the model folder itself or a
// folder holding <method-name>/. Throws lerf::Error naming the file and the problem.
Model load_model(Method method, const std::filesystem::path& dir);

struct NpyArray;
// Validates one LUT file's array (int8, shape (17^4, outputs)); `name` is used in errors.
std::vector<std::int8_t> lut_from_npy(const NpyArray& array, int outputs, const std::string& name);
// Validates model.json (an object; "method" must name `method`); returns its description.
std::string parse_model_json(const std::string& text, Method method, const std::string& name);

// Where models are looked for when no directory is given, in order: $LERF_MODEL_DIR, the
// source tree's models/ (uninstalled builds), the installed data directory.
std::vector<std::filesystem::path> default_model_dirs();
// The first directory of `search` (or the defaults when empty) holding a model for method.
// Throws lerf::Error listing the places searched when none does.
std::filesystem::path find_model_dir(Method method, const std::filesystem::path& hint = {});

}  // namespace lerf
