// One description of a resampling job, whatever the method or backend.
//
// Every method has two phases:
//   1. analysis, per input pixel and independent of the output geometry (nothing for
//      classical kernels, the pre-filtered image and kernel hyperparameters for LeRF,
//      latent features for the implicit methods);
//   2. rendering, per output pixel, at arbitrary input coordinates given by a map.
// An analysis can be reused for several renders of the same input (video whose output
// size changes, several warps of one frame).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "lerf/geometry.hpp"
#include "lerf/image.hpp"

namespace lerf {

// What an output pixel whose coordinate falls outside the input gets.
enum class Border {
  Clamp,     // the nearest edge sample (coordinates clamped): the default for rescaling
  Constant,  // PlaneJob::border_value for pixels mapping outside; taps clamp inside
  Reflect,   // MATLAB's symmetric extension (used by the imresize-compatible downscaler)
};

struct PlaneJob {
  ConstPlaneView in;
  PlaneView out;
  CoordinateMap map;  // output pixel centre -> input coordinate, in this plane's pixels
  Border border = Border::Clamp;
  std::array<std::uint8_t, 4> border_value{0, 0, 0, 0};  // per channel, for Border::Constant
};

// Result of phase 1 for one input plane; each method derives its own.
struct PlaneAnalysis {
  virtual ~PlaneAnalysis() = default;
  Size input_size;
  int channels = 1;
};

using FrameAnalysis = std::vector<std::shared_ptr<const PlaneAnalysis>>;

}  // namespace lerf
