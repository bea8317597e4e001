#include "Render.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>

namespace lightbox::imaging {
namespace {

/// DICOM PS3.3 C.11.2.1.2.1 linear VOI function, scaled to 0..255.
inline double linearWindow(double x, double center, double width)
{
    if (width <= 1.0)
        return x < center - 0.5 ? 0.0 : 255.0;
    const double lo = center - 0.5 - (width - 1.0) / 2.0;
    const double hi = center - 0.5 + (width - 1.0) / 2.0;
    if (x <= lo)
        return 0.0;
    if (x > hi)
        return 255.0;
    return ((x - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0;
}

template <typename T> void applyTable(const cv::Mat& src, cv::Mat& dst, const uint8_t* table, int offset)
{
    const int n = src.cols * src.channels();
    for (int y = 0; y < src.rows; ++y) {
        const T* s = src.ptr<T>(y);
        uint8_t* d = dst.ptr<uint8_t>(y);
        for (int x = 0; x < n; ++x)
            d[x] = table[static_cast<int>(s[x]) + offset];
    }
}

/// Deep samples (int32, float, double) are mapped one by one, without a table.
template <typename T>
void applyDirect(const DisplayLut& lut, const cv::Mat& src, cv::Mat& dst, double slope, double intercept)
{
    const int n = src.cols * src.channels();
    for (int y = 0; y < src.rows; ++y) {
        const T* s = src.ptr<T>(y);
        uint8_t* d = dst.ptr<uint8_t>(y);
        for (int x = 0; x < n; ++x)
            d[x] = lut.map(double(s[x]) * slope + intercept);
    }
}

} // namespace

DisplayLut::DisplayLut(const Image& image, const RenderParams& params)
    : m_slope(image.rescaleSlope), m_intercept(image.rescaleIntercept), m_params(params)
{
    if (m_params.useVoiLut && image.voiLut.valid())
        m_voi = &image.voiLut;
    if (!m_params.window.valid())
        m_params.window = image.defaultWindow();
    m_invert = (image.photometric == Photometric::Monochrome1) != params.invert;
    m_exact = image.isFloat;

    int lo = 0, hi = -1;
    switch (image.pixels.depth()) {
    case CV_8U:
        lo = 0;
        hi = 255;
        break;
    case CV_16U:
        lo = 0;
        hi = 65535;
        break;
    case CV_16S:
        lo = -32768;
        hi = 32767;
        break;
    default: break; // CV_32S, CV_32F, CV_64F: no table
    }
    if (hi >= lo) {
        m_offset = -lo;
        m_table.resize(static_cast<std::size_t>(hi - lo + 1));
        for (int v = lo; v <= hi; ++v)
            m_table[static_cast<std::size_t>(v - lo)] = map(v * m_slope + m_intercept);
    }
}

uint8_t DisplayLut::map(double m) const
{
    if (std::isnan(m))
        return 0; // no value (e.g. outside a parametric map's tissue): black
    double out;
    if (m_voi) {
        const double idx = std::clamp(std::floor(m) - m_voi->firstMapped, 0.0, double(m_voi->data.size() - 1));
        const double maxOut = double((1u << m_voi->bits) - 1u);
        out = std::min(double(m_voi->data[static_cast<std::size_t>(idx)]), maxOut) / maxOut * 255.0;
    } else if (m_exact) {
        // PS3.3 C.11.2.1.3.2 LINEAR_EXACT: any positive width, however small.
        const double c = m_params.window.center, w = m_params.window.width;
        out = w <= 0.0 ? (m < c ? 0.0 : 255.0) : std::clamp(((m - c) / w + 0.5) * 255.0, 0.0, 255.0);
    } else {
        out = linearWindow(m, m_params.window.center, m_params.window.width);
    }
    const int v = static_cast<int>(std::lround(out));
    return static_cast<uint8_t>(m_invert ? 255 - v : v);
}

void DisplayLut::apply(const Image& image, cv::Mat& out, cv::Rect roi) const
{
    const cv::Rect full(0, 0, image.pixels.cols, image.pixels.rows);
    roi = roi.area() > 0 ? (roi & full) : full;
    const cv::Mat src = image.pixels(roi);
    out.create(roi.height, roi.width, CV_MAKETYPE(CV_8U, image.pixels.channels()));
    switch (src.depth()) {
    case CV_8U: applyTable<uint8_t>(src, out, m_table.data(), m_offset); break;
    case CV_16U: applyTable<uint16_t>(src, out, m_table.data(), m_offset); break;
    case CV_16S: applyTable<int16_t>(src, out, m_table.data(), m_offset); break;
    case CV_32S: applyDirect<int32_t>(*this, src, out, m_slope, m_intercept); break;
    case CV_32F: applyDirect<float>(*this, src, out, m_slope, m_intercept); break;
    case CV_64F: applyDirect<double>(*this, src, out, m_slope, m_intercept); break;
    default: out.setTo(0); break;
    }
}

cv::Mat render8(const Image& image, const RenderParams& params)
{
    cv::Mat out;
    if (image.empty())
        return out;
    DisplayLut(image, params).apply(image, out);
    return out;
}

cv::Mat render8(const Image& image)
{
    RenderParams p;
    p.window = image.defaultWindow();
    p.useVoiLut = image.fileWindows.empty() && image.voiLut.valid();
    return render8(image, p);
}

Window computeAutoWindow(const Image& image, double lowPct, double highPct)
{
    Window w;
    w.explanation = "AUTO";
    if (image.empty())
        return w;
    const cv::Mat& px = image.pixels;
    if (px.channels() == 3) {
        // Colour shows its full range: 8, 16 or Bits Stored (32-bit samples).
        const double maxv = px.depth() == CV_8U    ? 255.0
                            : px.depth() == CV_16U ? 65535.0
                                                   : std::ldexp(1.0, std::clamp(image.bitsStored, 1, 32)) - 1.0;
        w.center = (maxv + 1.0) / 2.0;
        w.width = maxv + 1.0;
        return w;
    }
    // Histogram of stored values, then percentiles mapped through the modality LUT.
    double lo = 0, hi = 0;
    if (px.depth() == CV_8U || px.depth() == CV_16U || px.depth() == CV_16S) {
        const int offset = px.depth() == CV_16S ? 32768 : 0;
        std::vector<uint32_t> hist(px.depth() == CV_8U ? 256 : 65536, 0);
        for (int y = 0; y < px.rows; ++y) {
            if (px.depth() == CV_8U) {
                const uint8_t* p = px.ptr<uint8_t>(y);
                for (int x = 0; x < px.cols; ++x)
                    ++hist[p[x]];
            } else if (px.depth() == CV_16U) {
                const uint16_t* p = px.ptr<uint16_t>(y);
                for (int x = 0; x < px.cols; ++x)
                    ++hist[p[x]];
            } else {
                const int16_t* p = px.ptr<int16_t>(y);
                for (int x = 0; x < px.cols; ++x)
                    ++hist[p[x] + offset];
            }
        }
        const double total = double(px.total());
        const double loCount = total * lowPct / 100.0, hiCount = total * highPct / 100.0;
        double acc = 0;
        bool haveLo = false;
        for (std::size_t i = 0; i < hist.size(); ++i) {
            acc += hist[i];
            if (!haveLo && acc > loCount) {
                lo = double(i) - offset;
                haveLo = true;
            }
            if (acc >= hiCount) {
                hi = double(i) - offset;
                break;
            }
        }
    } else {
        // Deep samples (int32, float, double): percentiles of the finite values, sorted.
        cv::Mat flat;
        px.reshape(1, 1).convertTo(flat, CV_64F);
        std::vector<double> values;
        values.reserve(flat.total());
        for (const double v : cv::Mat_<double>(flat))
            if (std::isfinite(v))
                values.push_back(v);
        if (values.empty())
            return w;
        std::sort(values.begin(), values.end());
        const int n = static_cast<int>(values.size());
        lo = values[std::clamp(int(n * lowPct / 100.0), 0, n - 1)];
        hi = values[std::clamp(int(n * highPct / 100.0), 0, n - 1)];
    }
    double mlo = image.toModality(lo), mhi = image.toModality(hi);
    if (mlo > mhi)
        std::swap(mlo, mhi);
    if (image.isFloat) {
        w.center = (mlo + mhi) / 2.0;
        w.width = mhi > mlo ? mhi - mlo : 1.0;
    } else {
        w.center = (mlo + mhi) / 2.0 + 0.5;
        w.width = std::max(1.0, mhi - mlo + 1.0);
    }
    w.explanation = "AUTO";
    return w;
}

cv::Mat modalityValues(const Image& image)
{
    cv::Mat out;
    image.pixels.convertTo(out, CV_MAKETYPE(CV_32F, image.pixels.channels()), image.rescaleSlope,
                           image.rescaleIntercept);
    return out;
}

} // namespace lightbox::imaging
