#include "PaletteColor.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace lightbox::imaging::detail {
namespace {

using Lut = std::vector<uint16_t>;

/// Appends `length` entries rising (or falling) linearly from y0 (excluded) to y1
/// (included), computed as numpy.around(numpy.linspace(y0 + step, y1, length)).
void appendLinear(Lut& out, double y0, double y1, std::size_t length, std::size_t maxEntries)
{
    const std::size_t n = std::min(length, maxEntries - out.size());
    if (n == 0)
        return;
    if (y0 == y1) {
        out.insert(out.end(), n, static_cast<uint16_t>(y1));
        return;
    }
    const double start = y0 + (y1 - y0) / double(length);
    if (length == 1) {
        out.push_back(static_cast<uint16_t>(std::nearbyint(start)));
        return;
    }
    const double delta = y1 - start;
    const double step = delta / double(length - 1);
    for (std::size_t i = 0; i < n; ++i) {
        double v = step == 0.0 ? double(i) / double(length - 1) * delta : double(i) * step;
        v += start;
        if (i == length - 1)
            v = y1;
        out.push_back(static_cast<uint16_t>(std::clamp(std::nearbyint(v), 0.0, 65535.0)));
    }
}

struct Segmented {
    const Lut& data;
    int bits;
    bool bigEndian;
};

/// Expands segments from data[pos]: all of them (segments < 0), or `segments` of them for an
/// indirect segment, whose first linear segment starts from the last entry of `outer`.
Result<bool> expand(const Segmented& seg, std::size_t pos, long segments, const Lut* outer, Lut& out,
                    std::size_t maxEntries)
{
    const Lut& data = seg.data;
    using R = Result<bool>;
    const bool indirect = segments >= 0;
    long done = 0;
    while (pos + 1 < data.size() && out.size() < maxEntries && (!indirect || done < segments)) {
        const uint16_t opcode = data[pos];
        const std::size_t length = data[pos + 1];
        pos += 2;
        const bool haveEntry = !out.empty() || (outer && !outer->empty());
        const double previous = !out.empty() ? out.back() : (outer && !outer->empty() ? outer->back() : 0.0);
        if (opcode == 0) { // discrete: the entries themselves
            const std::size_t n = std::min({length, data.size() - pos, maxEntries - out.size()});
            out.insert(out.end(), data.begin() + long(pos), data.begin() + long(pos + n));
            pos += length;
        } else if (opcode == 1) { // linear, from the previous entry to y1
            if (!haveEntry)
                return R::failure("segmented palette LUT starts with a linear segment");
            if (pos >= data.size())
                return R::failure("segmented palette LUT data ends inside a linear segment");
            appendLinear(out, previous, data[pos], length, maxEntries);
            pos += 1;
        } else if (opcode == 2) { // indirect: copy `length` segments found at an offset
            if (indirect)
                return R::failure("segmented palette LUT has a nested indirect segment");
            if (!haveEntry)
                return R::failure("segmented palette LUT starts with an indirect segment");
            // The offset: two 16-bit words, the least significant first. 8-bit data holds them
            // as four bytes in file order, each word in the data set's byte order.
            const std::size_t words = seg.bits == 8 ? 4 : 2;
            if (pos + words > data.size())
                return R::failure("segmented palette LUT data ends inside an indirect segment");
            std::size_t low = data[pos], high = data[pos + 1];
            if (seg.bits == 8) {
                low = seg.bigEndian ? (data[pos] << 8 | data[pos + 1]) : (data[pos + 1] << 8 | data[pos]);
                high = seg.bigEndian ? (data[pos + 2] << 8 | data[pos + 3]) : (data[pos + 3] << 8 | data[pos + 2]);
            }
            const std::size_t offset = low | (high << 16);
            pos += words;
            if (offset >= data.size())
                return R::failure("segmented palette LUT indirect segment points past the data");
            Lut copied;
            auto r = expand(seg, offset, long(length), &out, copied, maxEntries - out.size());
            if (!r)
                return r;
            out.insert(out.end(), copied.begin(), copied.end());
        } else {
            return R::failure("segmented palette LUT has an unknown segment type " + std::to_string(opcode));
        }
        ++done;
    }
    return true;
}

template <typename In, typename Out> void mapIndices(const cv::Mat& in, cv::Mat& out, const PaletteLut& lut)
{
    const long n = static_cast<long>(lut.rgb[0].size());
    for (int y = 0; y < in.rows; ++y) {
        const In* s = in.ptr<In>(y);
        Out* d = out.ptr<Out>(y);
        for (int x = 0; x < in.cols; ++x) {
            const long i = std::clamp(long(s[x]) - lut.firstMapped, 0L, n - 1);
            d[3 * x] = static_cast<Out>(lut.rgb[0][std::size_t(i)]);
            d[3 * x + 1] = static_cast<Out>(lut.rgb[1][std::size_t(i)]);
            d[3 * x + 2] = static_cast<Out>(lut.rgb[2][std::size_t(i)]);
        }
    }
}

template <typename Out> void mapAny(const cv::Mat& in, cv::Mat& out, const PaletteLut& lut)
{
    switch (in.depth()) {
    case CV_8U: mapIndices<uint8_t, Out>(in, out, lut); break;
    case CV_16U: mapIndices<uint16_t, Out>(in, out, lut); break;
    case CV_16S: mapIndices<int16_t, Out>(in, out, lut); break;
    default: out.setTo(0); break;
    }
}

} // namespace

Result<std::vector<uint16_t>> expandSegmentedLut(const std::vector<uint16_t>& data, int bits, bool bigEndian,
                                                 std::size_t maxEntries)
{
    using R = Result<std::vector<uint16_t>>;
    Lut out;
    auto r = expand(Segmented{data, bits, bigEndian}, 0, -1, nullptr, out, maxEntries);
    if (!r)
        return R::failure(r.error());
    return out;
}

cv::Mat applyPalette(const cv::Mat& indices, const PaletteLut& lut)
{
    cv::Mat out(indices.rows, indices.cols, lut.bits > 8 ? CV_16UC3 : CV_8UC3);
    if (lut.rgb[0].empty() || lut.rgb[1].size() != lut.rgb[0].size() || lut.rgb[2].size() != lut.rgb[0].size()) {
        out.setTo(0);
        return out;
    }
    if (lut.bits > 8)
        mapAny<uint16_t>(indices, out, lut);
    else
        mapAny<uint8_t>(indices, out, lut);
    return out;
}

} // namespace lightbox::imaging::detail
