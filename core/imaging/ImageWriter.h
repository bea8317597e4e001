#pragma once

#include <base/Result.h>

#include <opencv2/core/mat.hpp>

#include <string>

namespace lightbox::imaging {

/// Writes an 8- or 16-bit, 1- or 3-channel (RGB order) matrix as PNG. Writes to a
/// temporary file and renames it, so an existing file is never left half-written.
/// Signed 16-bit data is refused (PNG has no signed samples): shift it first.
Result<bool> writePng(const cv::Mat& pixels, const std::string& path);

} // namespace lightbox::imaging
