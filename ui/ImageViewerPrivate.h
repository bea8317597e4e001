#pragma once
// Helpers shared by the files of ImageViewer (ImageViewer.cpp: image, view, window and heat
// map; ImageViewerInput.cpp: crop box, mouse and keys; ImageViewerPaint.cpp: painting and
// rendering); private to them.

#include "ImageViewer.h"

#include <QImage>

#include <opencv2/imgproc.hpp>

namespace lightbox::ui::imageviewer {

inline int cvColormap(ImageViewer::Colormap map)
{
    switch (map) {
    case ImageViewer::Colormap::Jet: return cv::COLORMAP_JET;
    case ImageViewer::Colormap::Inferno: return cv::COLORMAP_INFERNO;
    case ImageViewer::Colormap::Turbo: break;
    }
    return cv::COLORMAP_TURBO;
}

/// 8-bit values through an OpenCV colormap, as an RGB QImage.
inline QImage colourise(const cv::Mat& values8, ImageViewer::Colormap map)
{
    cv::Mat bgr;
    cv::applyColorMap(values8, bgr, cvColormap(map));
    return QImage(bgr.data, bgr.cols, bgr.rows, static_cast<qsizetype>(bgr.step), QImage::Format_BGR888)
        .convertToFormat(QImage::Format_RGB32);
}

} // namespace lightbox::ui::imageviewer
