#pragma once

#include <base/Result.h>
#include <imaging/Image.h>
#include <ml/Preprocess.h>

#include <opencv2/core.hpp>

#include <optional>

namespace lightbox::data {

/// What a classifier sees of an image, the same for the GUI, the CLI, training and
/// evaluation: the image rendered as the reader sees it by default (the file's window or
/// the automatic one, MONOCHROME1 inverted, colour kept as RGB) to 8 bits, then cropped to
/// `roi` when one is given. The model's own PreprocessSpec (size, channels, normalisation)
/// is applied later by core/ml. Fails when the ROI is empty or not inside the image.
Result<cv::Mat> modelView(const imaging::Image& image, const std::optional<cv::Rect>& roi = std::nullopt);

/// modelView() as core/ml's RawImage (interleaved floats, maxValue 255).
Result<ml::RawImage> modelInput(const imaging::Image& image, const std::optional<cv::Rect>& roi = std::nullopt);

/// An 8-bit grey or RGB cv::Mat as a RawImage (maxValue 255).
ml::RawImage toRawImage(const cv::Mat& view8);

} // namespace lightbox::data
