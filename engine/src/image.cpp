#include "lerf/image.hpp"

#include <string>

#include "lerf/error.hpp"

namespace lerf {

Plane::Plane(int width, int height, int channels, int row_padding)
    : width_(width), height_(height), channels_(channels) {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || row_padding < 0)
    throw Error("invalid plane size " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                std::to_string(channels));
  stride_ = static_cast<std::ptrdiff_t>(width) * channels + row_padding;
  data_.assign(static_cast<std::size_t>(stride_) * height, 0);
}

void check_plane(const ConstPlaneView& v, const char* what) {
  auto fail = [&](const std::string& why) { throw Error(std::string(what) + ": " + why); };
  if (v.data == nullptr) fail("no data");
  if (v.width <= 0 || v.height <= 0)
    fail("empty plane " + std::to_string(v.width) + "x" + std::to_string(v.height));
  if (v.channels < 1 || v.channels > 4) fail(std::to_string(v.channels) + " channels (1..4 supported)");
  if (v.stride < static_cast<std::ptrdiff_t>(v.width) * v.channels)
    fail("stride " + std::to_string(v.stride) + " smaller than a row of " +
         std::to_string(v.width * v.channels) + " bytes");
}

}  // namespace lerf
