// Bridges OpenCV images (I/O in the CLI and tests) and engine planes.
#pragma once

#include <opencv2/core.hpp>
#include <string>

#include "lerf/image.hpp"

namespace lerf::cv_bridge {

// Views of an 8-bit cv::Mat with 1..4 channels; throws lerf::Error otherwise.
ConstPlaneView const_view(const cv::Mat& m);
PlaneView view(cv::Mat& m);
cv::Mat to_mat(ConstPlaneView p);  // deep copy

// Reads an image as 8-bit with its own channel count (grey, BGR, BGRA); force_color loads
// BGR always. Throws lerf::Error naming the file when it cannot be read or is not 8-bit.
cv::Mat read_image(const std::string& path, bool force_color = false);
void write_image(const std::string& path, const cv::Mat& m);

}  // namespace lerf::cv_bridge
