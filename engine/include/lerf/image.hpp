// Image planes: 8-bit samples, any stride, 1..4 interleaved channels per pixel.
// A video frame is a list of planes, each with its own size (I420 chroma is half
// size, NV12 chroma is one plane of 2 interleaved channels, RGBA one plane of 4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lerf {

struct Size {
  int width = 0;
  int height = 0;
  friend bool operator==(const Size&, const Size&) = default;
};

// A non-owning view of one plane. stride is in bytes and may exceed width * channels.
template <typename T>
struct BasicPlaneView {
  T* data = nullptr;
  int width = 0;
  int height = 0;
  std::ptrdiff_t stride = 0;
  int channels = 1;

  T* row(int y) const { return data + y * stride; }
  Size size() const { return {width, height}; }
  bool empty() const { return data == nullptr || width <= 0 || height <= 0; }
  operator BasicPlaneView<const T>() const { return {data, width, height, stride, channels}; }
};

using PlaneView = BasicPlaneView<std::uint8_t>;
using ConstPlaneView = BasicPlaneView<const std::uint8_t>;

// An owning, tightly packed (optionally padded) 8-bit plane.
class Plane {
 public:
  Plane() = default;
  Plane(int width, int height, int channels, int row_padding = 0);

  PlaneView view() { return {data_.data(), width_, height_, stride_, channels_}; }
  ConstPlaneView view() const { return {data_.data(), width_, height_, stride_, channels_}; }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  std::ptrdiff_t stride() const { return stride_; }
  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }

 private:
  std::vector<std::uint8_t> data_;
  int width_ = 0, height_ = 0, channels_ = 1;
  std::ptrdiff_t stride_ = 0;
};

// Validates a view (positive size, 1..4 channels, stride large enough); throws lerf::Error.
void check_plane(const ConstPlaneView& view, const char* what);

}  // namespace lerf
