#pragma once

#include "Image.h"

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <vector>

namespace lightbox::imaging {

/// How an Image becomes an 8-bit picture on screen.
struct RenderParams {
    Window window;          ///< used when useVoiLut is false or the image has no VOI LUT
    bool useVoiLut = false; ///< apply the file's VOI LUT instead of the linear window
    bool invert = false;    ///< user inversion, on top of MONOCHROME1's own
};

/// A lookup table from stored sample values to 8-bit display values: modality LUT, VOI
/// (linear window per DICOM PS3.3 C.11.2.1.2, or the file's VOI LUT) and inversion folded
/// into one table, so re-rendering a 16-bit image after a window change costs one table
/// build (64 K entries) plus one lookup per pixel.
///
/// Works for CV_8U, CV_16U and CV_16S images (and their RGB variants) through the table;
/// deeper ones (CV_32S, CV_32F, CV_64F) are mapped pixel by pixel. Floating-point images
/// (Image::isFloat) use DICOM's LINEAR_EXACT window; NaN samples show black.
class DisplayLut {
public:
    DisplayLut(const Image& image, const RenderParams& params);

    /// Renders `roi` of `image` (the whole image when empty) into `out`: CV_8UC1 for
    /// grayscale, CV_8UC3 (RGB) for colour. `out` is reallocated only when its size changes.
    void apply(const Image& image, cv::Mat& out, cv::Rect roi = {}) const;

    /// The display value of one modality value (for colour bars and tests).
    uint8_t map(double modalityValue) const;

private:
    double m_slope = 1.0, m_intercept = 0.0;
    RenderParams m_params;
    const VoiLut* m_voi = nullptr;
    bool m_invert = false;
    bool m_exact = false;         ///< LINEAR_EXACT (floating-point samples)
    int m_offset = 0;             ///< table index of stored value 0
    std::vector<uint8_t> m_table; ///< stored value + offset -> display value
};

/// Renders the whole image with `params`. Convenience over DisplayLut.
cv::Mat render8(const Image& image, const RenderParams& params);
/// Renders the whole image with its default window.
cv::Mat render8(const Image& image);

/// A robust window covering the lowPct..highPct percentiles of the modality values (finite
/// ones). Colour images get their full range instead.
Window computeAutoWindow(const Image& image, double lowPct = 0.5, double highPct = 99.5);

/// Modality values (stored * slope + intercept) as CV_32F, channels kept: what a model sees.
cv::Mat modalityValues(const Image& image);

} // namespace lightbox::imaging
