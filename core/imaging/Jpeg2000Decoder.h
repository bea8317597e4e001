#pragma once

#include <base/Result.h>

#include <opencv2/core/mat.hpp>

#include <cstddef>
#include <cstdint>

namespace lightbox::imaging::detail {

/// What the DICOM header says the decoded frame must look like.
struct Jpeg2000Expect {
    int rows = 0;
    int cols = 0;
    int samples = 1;
    int bitsAllocated = 16;
    int bitsStored = 16;
    bool isSigned = false;
    std::size_t maxBytes = std::size_t(1) << 30;
};

/// Decodes one JPEG 2000 frame (raw codestream or JP2 file, lossless or lossy, HTJ2K too)
/// with OpenJPEG into CV_8U/CV_16U/CV_16S (1 or 3 channels, RGB order after the inverse
/// colour transform). Values follow the DICOM header's signedness: a codestream that says
/// unsigned in a Pixel Representation 1 file is reinterpreted as two's complement of
/// Bits Stored, as other toolkits do. Truncated or corrupt codestreams fail.
Result<cv::Mat> decodeJpeg2000(const uint8_t* data, std::size_t size, const Jpeg2000Expect& expect);

} // namespace lightbox::imaging::detail
