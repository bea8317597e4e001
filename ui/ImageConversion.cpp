#include "ImageConversion.h"

namespace lightbox::ui {

QImage toQImage(const cv::Mat& m)
{
    if (m.empty() || m.depth() != CV_8U)
        return {};
    const auto format = m.channels() == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8;
    if (m.channels() != 1 && m.channels() != 3)
        return {};
    QImage view(m.data, m.cols, m.rows, static_cast<qsizetype>(m.step), format);
    return view.copy();
}

} // namespace lightbox::ui
