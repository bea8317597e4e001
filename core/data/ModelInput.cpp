#include "ModelInput.h"

#include <imaging/Render.h>

#include <string>

namespace lightbox::data {

Result<cv::Mat> modelView(const imaging::Image& image, const std::optional<cv::Rect>& roi)
{
    cv::Mat shown = imaging::render8(image);
    if (shown.empty())
        return Result<cv::Mat>::failure("the image has no pixels to classify");
    if (!roi)
        return shown;
    if (roi->width < 1 || roi->height < 1 || (*roi & cv::Rect(0, 0, shown.cols, shown.rows)) != *roi)
        return Result<cv::Mat>::failure("the region " + std::to_string(roi->x) + "," + std::to_string(roi->y) + "," +
                                        std::to_string(roi->width) + "," + std::to_string(roi->height) +
                                        " lies outside the " + std::to_string(shown.cols) + "x" +
                                        std::to_string(shown.rows) + " image");
    return cv::Mat(shown(*roi).clone());
}

ml::RawImage toRawImage(const cv::Mat& view8)
{
    ml::RawImage raw;
    raw.width = view8.cols;
    raw.height = view8.rows;
    raw.channels = view8.channels();
    raw.maxValue = 255.f;
    raw.data.resize(view8.total() * view8.channels());
    float* out = raw.data.data();
    for (int y = 0; y < view8.rows; ++y) {
        const uint8_t* row = view8.ptr<uint8_t>(y);
        for (int x = 0; x < view8.cols * view8.channels(); ++x)
            *out++ = row[x];
    }
    return raw;
}

Result<ml::RawImage> modelInput(const imaging::Image& image, const std::optional<cv::Rect>& roi)
{
    auto view = modelView(image, roi);
    if (!view)
        return Result<ml::RawImage>::failure(view.error());
    return toRawImage(view.value());
}

} // namespace lightbox::data
