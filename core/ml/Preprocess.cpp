#include "Preprocess.h"

#include <algorithm>
#include <cmath>

namespace lightbox::ml {

const char* toString(ResizeMode mode)
{
    return mode == ResizeMode::Area ? "area" : "bilinear";
}

bool parseResizeMode(const std::string& text, ResizeMode& mode)
{
    if (text == "area") {
        mode = ResizeMode::Area;
        return true;
    }
    if (text == "bilinear") {
        mode = ResizeMode::Bilinear;
        return true;
    }
    return false;
}

std::string PreprocessSpec::validate() const
{
    // 2048 bounds the memory a card can make a load-time check pass allocate.
    if (width <= 0 || height <= 0 || width > 2048 || height > 2048)
        return "input size " + std::to_string(width) + "x" + std::to_string(height) + " is out of range";
    if (channels != 1 && channels != 3)
        return "input channels must be 1 or 3, not " + std::to_string(channels);
    if (mean.size() != static_cast<size_t>(channels) || std.size() != static_cast<size_t>(channels))
        return "normalisation needs one mean and one std per channel";
    for (float s : std)
        if (!(s > 0.f))
            return "normalisation std must be positive";
    return {};
}

namespace {

std::vector<float> resizeBilinear(const float* src, int sw, int sh, int dw, int dh)
{
    std::vector<float> out(static_cast<size_t>(dw) * dh);
    const double sx = static_cast<double>(sw) / dw;
    const double sy = static_cast<double>(sh) / dh;
    for (int y = 0; y < dh; ++y) {
        const double fy = std::max(0.0, (y + 0.5) * sy - 0.5);
        const int y0 = std::min(static_cast<int>(fy), sh - 1);
        const int y1 = std::min(y0 + 1, sh - 1);
        const float wy = static_cast<float>(fy - y0);
        for (int x = 0; x < dw; ++x) {
            const double fx = std::max(0.0, (x + 0.5) * sx - 0.5);
            const int x0 = std::min(static_cast<int>(fx), sw - 1);
            const int x1 = std::min(x0 + 1, sw - 1);
            const float wx = static_cast<float>(fx - x0);
            const float top = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
            const float bottom = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
            out[static_cast<size_t>(y) * dw + x] = top * (1 - wy) + bottom * wy;
        }
    }
    return out;
}

/// Weights of the source cells covered by each destination cell along one axis.
struct Span {
    int first = 0;
    std::vector<float> weights;
};

std::vector<Span> areaSpans(int srcLen, int dstLen)
{
    std::vector<Span> spans(dstLen);
    const double scale = static_cast<double>(srcLen) / dstLen;
    for (int d = 0; d < dstLen; ++d) {
        const double a = d * scale;
        const double b = (d + 1) * scale;
        Span& s = spans[d];
        s.first = std::min(static_cast<int>(std::floor(a)), srcLen - 1);
        const int last = std::min(static_cast<int>(std::ceil(b)) - 1, srcLen - 1);
        for (int i = s.first; i <= std::max(last, s.first); ++i) {
            const double lo = std::max(a, static_cast<double>(i));
            const double hi = std::min(b, static_cast<double>(i + 1));
            s.weights.push_back(static_cast<float>(std::max(0.0, hi - lo) / scale));
        }
    }
    return spans;
}

std::vector<float> resizeArea(const float* src, int sw, int sh, int dw, int dh)
{
    // Area averaging is only meaningful when shrinking; enlarge bilinearly like OpenCV does.
    if (dw > sw || dh > sh)
        return resizeBilinear(src, sw, sh, dw, dh);
    const auto xs = areaSpans(sw, dw);
    const auto ys = areaSpans(sh, dh);
    // Separable: rows first (sh x dw), then columns.
    std::vector<float> rows(static_cast<size_t>(sh) * dw);
    for (int y = 0; y < sh; ++y) {
        const float* in = src + static_cast<size_t>(y) * sw;
        float* out = rows.data() + static_cast<size_t>(y) * dw;
        for (int x = 0; x < dw; ++x) {
            const Span& sx = xs[x];
            float acc = 0.f;
            for (size_t i = 0; i < sx.weights.size(); ++i)
                acc += in[sx.first + i] * sx.weights[i];
            out[x] = acc;
        }
    }
    std::vector<float> out(static_cast<size_t>(dw) * dh, 0.f);
    for (int y = 0; y < dh; ++y) {
        const Span& sy = ys[y];
        float* dst = out.data() + static_cast<size_t>(y) * dw;
        for (size_t j = 0; j < sy.weights.size(); ++j) {
            const float* row = rows.data() + static_cast<size_t>(sy.first + j) * dw;
            const float w = sy.weights[j];
            for (int x = 0; x < dw; ++x)
                dst[x] += row[x] * w;
        }
    }
    return out;
}

} // namespace

std::vector<float> resizePlane(const float* src, int srcW, int srcH, int dstW, int dstH, ResizeMode mode)
{
    if (srcW == dstW && srcH == dstH)
        return std::vector<float>(src, src + static_cast<size_t>(srcW) * srcH);
    return mode == ResizeMode::Area ? resizeArea(src, srcW, srcH, dstW, dstH)
                                    : resizeBilinear(src, srcW, srcH, dstW, dstH);
}

Result<InputImage> preprocess(const RawImage& raw, const PreprocessSpec& spec)
{
    const std::string bad = spec.validate();
    if (!bad.empty())
        return Result<InputImage>::failure("invalid preprocessing spec: " + bad);
    if (raw.width <= 0 || raw.height <= 0 || (raw.channels != 1 && raw.channels != 3))
        return Result<InputImage>::failure("image must be non-empty with 1 or 3 channels");
    if (raw.data.size() != static_cast<size_t>(raw.width) * raw.height * raw.channels)
        return Result<InputImage>::failure("image data size does not match its dimensions");
    if (!(raw.maxValue > 0.f))
        return Result<InputImage>::failure("image maxValue must be positive");

    // Resize each source channel once, then convert channels: both steps are linear, so
    // the order does not change the result, and grey -> RGB costs one resize instead of three.
    const size_t n = static_cast<size_t>(raw.width) * raw.height;
    const size_t m = static_cast<size_t>(spec.width) * spec.height;
    std::vector<std::vector<float>> resized(static_cast<size_t>(raw.channels));
    if (raw.channels == 1) {
        resized[0] = resizePlane(raw.data.data(), raw.width, raw.height, spec.width, spec.height, spec.resize);
    } else {
        std::vector<float> plane(n);
        for (int c = 0; c < raw.channels; ++c) {
            for (size_t i = 0; i < n; ++i)
                plane[i] = raw.data[i * raw.channels + c];
            resized[c] = resizePlane(plane.data(), raw.width, raw.height, spec.width, spec.height, spec.resize);
        }
    }

    InputImage out;
    out.channels = spec.channels;
    out.width = spec.width;
    out.height = spec.height;
    out.data.resize(static_cast<size_t>(spec.channels) * m);
    const float inv = 1.f / raw.maxValue;
    for (int c = 0; c < spec.channels; ++c) {
        float* dst = out.data.data() + static_cast<size_t>(c) * m;
        const float mean = spec.mean[c];
        const float scale = inv / spec.std[c];
        const float offset = mean / spec.std[c];
        if (spec.channels == raw.channels || raw.channels == 1) { // same channels, or grey -> RGB
            const float* srcPlane = resized[raw.channels == 1 ? 0 : c].data();
            for (size_t i = 0; i < m; ++i)
                dst[i] = srcPlane[i] * scale - offset;
        } else { // RGB -> grey (ITU-R BT.601 luma)
            const float* r = resized[0].data();
            const float* g = resized[1].data();
            const float* b = resized[2].data();
            for (size_t i = 0; i < m; ++i)
                dst[i] = (0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i]) * scale - offset;
        }
    }
    return out;
}

} // namespace lightbox::ml
