// The Vulkan backend's internals visible to its tests.
#pragma once

#include <cstdint>
#include <vector>

#include "lerf/backend.hpp"

namespace lerf::vk {

// The stage-1 image (w * h * channels bytes) and hyperparameter bytes (the CPU's
// LerfAnalysis::hyper layout) of a LeRF analysis made by a Vulkan backend; throws lerf::Error
// for other backends or analyses.
void download_lerf_analysis(Backend& backend, const PlaneAnalysis& analysis, std::vector<std::uint8_t>& filtered,
                            std::vector<std::uint8_t>& hyper);

}  // namespace lerf::vk
