#pragma once

#include <QImage>

#include <opencv2/core/mat.hpp>

namespace lightbox::ui {

/// Wraps an 8-bit rendering (CV_8UC1 grayscale or CV_8UC3 RGB) as a QImage that owns a
/// copy of the pixels.
QImage toQImage(const cv::Mat& rendered8);

} // namespace lightbox::ui
