#pragma once

#include <base/Result.h>

#include <opencv2/core/mat.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lightbox::imaging::detail {

/// The red, green and blue lookup tables of a PALETTE COLOR image (PS3.3 C.7.6.3.1.5-6,
/// C.7.9), expanded to one entry per mapped index.
struct PaletteLut {
    int firstMapped = 0; ///< stored value mapped by entry 0
    int bits = 8;        ///< bits of the output values: 8 or 16
    std::vector<uint16_t> rgb[3];
};

/// Expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete, linear and indirect
/// segments. `data` holds one value per entry: the 16-bit words for 16-bit tables, the bytes
/// in file order for 8-bit ones (`bigEndian` then orders an indirect segment's offset words).
/// Linear segments run from
/// the previous entry (excluded) to their end value (included), rounded half to even, and an
/// indirect segment's offset counts entries from the start of the data: both as pydicom and
/// dcm4che (Weasis) read them. Expansion stops at `maxEntries`. Fails on an unknown segment
/// type, a linear or indirect segment with no entry before it, a nested indirect segment or
/// data that ends inside a segment.
Result<std::vector<uint16_t>> expandSegmentedLut(const std::vector<uint16_t>& data, int bits, bool bigEndian,
                                                 std::size_t maxEntries);

/// Maps stored indices (CV_8U, CV_16U or CV_16S, one channel) through `lut`: indices below
/// the first mapped value take entry 0, those past the end the last entry. Returns CV_8UC3 or
/// CV_16UC3 (by lut.bits) in RGB order.
cv::Mat applyPalette(const cv::Mat& indices, const PaletteLut& lut);

} // namespace lightbox::imaging::detail
