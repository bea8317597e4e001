// Stage 3 of reading a DICOM image (DicomStages.h): one frame's pixel values, from native
// data, DCMTK's decoders (JPEG, JPEG-LS, RLE), OpenJPEG (JPEG 2000 and HTJ2K) or float pixel
// data, and the photometric interpretation applied to them.
#include "DicomStages.h"
#include "Jpeg2000Decoder.h"

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <type_traits>

namespace lightbox::imaging::detail::dicom {
namespace {

/// Splits an encapsulated pixel sequence into frames: one fragment per frame, the Basic
/// Offset Table, or codestream start markers, in that order of preference.
Result<std::vector<uint8_t>> encapsulatedFrame(DcmPixelSequence* seq, int frame, int frameCount)
{
    using R = Result<std::vector<uint8_t>>;
    const unsigned long items = seq->card();
    if (items < 2)
        return R::failure("encapsulated pixel data has no fragments");
    struct Fragment {
        const Uint8* data;
        Uint32 length;
    };
    std::vector<Fragment> fragments;
    for (unsigned long i = 1; i < items; ++i) {
        DcmPixelItem* item = nullptr;
        if (seq->getItem(item, i).bad() || !item)
            return R::failure("corrupt encapsulated pixel data");
        Uint8* p = nullptr;
        if (item->getUint8Array(p).bad() && item->getLength() > 0)
            return R::failure("cannot read a pixel data fragment");
        fragments.push_back({p, item->getLength()});
    }
    std::vector<uint8_t> out;
    auto append = [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i)
            if (fragments[i].data)
                out.insert(out.end(), fragments[i].data, fragments[i].data + fragments[i].length);
    };
    if (frameCount <= 1) {
        append(0, fragments.size());
        return out;
    }
    if (static_cast<int>(fragments.size()) == frameCount) {
        append(frame, frame + 1);
        return out;
    }
    // Fragments starting with a J2K SOC marker (FF 4F FF 51) or a JP2 box begin frames.
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < fragments.size(); ++i) {
        const Uint8* d = fragments[i].data;
        if (fragments[i].length >= 4 && d &&
            ((d[0] == 0xFF && d[1] == 0x4F && d[2] == 0xFF && d[3] == 0x51) ||
             (d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 0x0C)))
            starts.push_back(i);
    }
    if (static_cast<int>(starts.size()) != frameCount)
        return R::failure("cannot find frame " + std::to_string(frame + 1) + " in the encapsulated pixel data");
    append(starts[frame], frame + 1 < frameCount ? starts[frame + 1] : fragments.size());
    return out;
}

/// The fragment holding an RLE frame, once its header is checked. DCMTK 3.6.7's RLE decoder
/// trusts the header: a segment offset past the end of the fragment made it read beyond it.
/// PS3.5 G.5: one fragment per frame, starting with a 64-byte header of the segment count
/// (one segment per byte of each sample, at most 15) and their offsets, ascending from 64.
Result<Uint32> rleStartFragment(DcmPixelSequence* seq, int frame, long frames, int segments)
{
    using R = Result<Uint32>;
    Uint32 item = 0;
    if (DcmCodec::determineStartFragment(static_cast<Uint32>(frame), static_cast<Sint32>(frames), seq, item).bad())
        return R::failure("cannot find frame " + std::to_string(frame + 1) + " in the RLE pixel data");
    DcmPixelItem* fragment = nullptr;
    Uint8* data = nullptr;
    if (seq->getItem(fragment, item).bad() || !fragment || fragment->getUint8Array(data).bad() || !data ||
        fragment->getLength() < 64)
        return R::failure("corrupt RLE pixel data: frame " + std::to_string(frame + 1) + " has no 64-byte RLE header");
    const Uint32 length = fragment->getLength();
    auto word = [&](int i) {
        const Uint8* p = data + 4 * i;
        return Uint32(p[0]) | Uint32(p[1]) << 8 | Uint32(p[2]) << 16 | Uint32(p[3]) << 24;
    };
    const Uint32 count = word(0);
    if (count < 1 || count > 15 || count != Uint32(segments))
        return R::failure("corrupt RLE pixel data: the header lists " + std::to_string(count) + " segments, " +
                          std::to_string(segments) + " expected");
    Uint32 previous = 64;
    for (Uint32 i = 1; i <= count; ++i) {
        const Uint32 offset = word(int(i));
        if (offset < previous || offset > length)
            return R::failure("corrupt RLE pixel data: segment " + std::to_string(i) + " starts at byte " +
                              std::to_string(offset) + " of a " + std::to_string(length) + "-byte frame");
        previous = offset;
    }
    return item;
}

template <typename T> void maskAndExtend(cv::Mat& m, int bitsStored, int highBit, bool isSigned)
{
    const int shift = highBit + 1 - bitsStored;
    if (bitsStored >= int(sizeof(T) * 8) && shift == 0)
        return;
    using U = std::make_unsigned_t<T>;
    const uint32_t mask = bitsStored >= 32 ? 0xFFFFFFFFu : ((1u << bitsStored) - 1u);
    const uint32_t signBit = 1u << (bitsStored - 1);
    const std::size_t n = m.total() * m.channels();
    T* p = m.ptr<T>();
    for (std::size_t i = 0; i < n; ++i) {
        uint32_t v = (static_cast<uint32_t>(static_cast<U>(p[i])) >> std::max(shift, 0)) & mask;
        if (isSigned && (v & signBit))
            p[i] = static_cast<T>(static_cast<int64_t>(v) - (int64_t(1) << bitsStored));
        else
            p[i] = static_cast<T>(v);
    }
}

void ybrFullToRgb(cv::Mat& m)
{
    if (m.depth() != CV_8U)
        return;
    for (int y = 0; y < m.rows; ++y) {
        auto* p = m.ptr<cv::Vec3b>(y);
        for (int x = 0; x < m.cols; ++x) {
            const double Y = p[x][0], cb = p[x][1] - 128.0, cr = p[x][2] - 128.0;
            p[x] = cv::Vec3b(cv::saturate_cast<uint8_t>(Y + 1.402 * cr),
                             cv::saturate_cast<uint8_t>(Y - 0.344136 * cb - 0.714136 * cr),
                             cv::saturate_cast<uint8_t>(Y + 1.772 * cb));
        }
    }
}

using Frame = Result<DecodedFrame>;

/// Float or Double Float Pixel Data: native only (PS3.5 8.2), swapped to host order by DCMTK.
Frame decodeFloat(const PixelModule& pm, int frame)
{
    DcmElement* el = pm.floatElement;
    const std::size_t perFrame = std::size_t(pm.rows) * pm.cols;
    const std::size_t have = el->getLength() / (pm.bitsAllocated / 8);
    if (have < perFrame * (frame + 1))
        return Frame::failure("truncated float pixel data: " + std::to_string(have) + " of " +
                              std::to_string(perFrame * (frame + 1)) + " values");
    DecodedFrame out;
    if (pm.isDouble) {
        Float64* values = nullptr;
        if (el->getFloat64Array(values).bad() || !values)
            return Frame::failure("cannot read Double Float Pixel Data");
        out.pixels = cv::Mat(pm.rows, pm.cols, CV_64F, values + perFrame * frame).clone();
    } else {
        Float32* values = nullptr;
        if (el->getFloat32Array(values).bad() || !values)
            return Frame::failure("cannot read Float Pixel Data");
        out.pixels = cv::Mat(pm.rows, pm.cols, CV_32F, values + perFrame * frame).clone();
    }
    out.colorModel = pm.photometric;
    out.bitsStored = pm.bitsAllocated;
    out.highBit = pm.bitsAllocated - 1;
    return out;
}

/// JPEG 2000 and HTJ2K frames go to OpenJPEG (Jpeg2000Decoder.h), not DCMTK.
Frame decodeJpeg2000(const PixelModule& pm, E_TransferSyntax xfer, const LoadOptions& options)
{
    DcmPixelSequence* seq = nullptr;
    if (pm.pixelData->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq)
        return Frame::failure("JPEG 2000 transfer syntax but the pixel data is not encapsulated");
    auto codestream = encapsulatedFrame(seq, options.frame, static_cast<int>(pm.frames));
    if (!codestream)
        return Frame::failure(codestream.error());
    Jpeg2000Expect expect;
    expect.rows = pm.rows;
    expect.cols = pm.cols;
    expect.samples = pm.samples;
    expect.bitsAllocated = pm.bitsAllocated;
    expect.bitsStored = pm.bitsStored;
    expect.isSigned = pm.pixelRep == 1;
    expect.maxBytes = options.maxBytes;
    auto decoded = decodeJpeg2000(codestream->data(), codestream->size(), expect);
    if (!decoded)
        return Frame::failure(decoded.error());
    DecodedFrame out;
    out.pixels = decoded.value();
    // The codestream's inverse colour transform yields RGB.
    out.colorModel = pm.samples == 3 ? "RGB" : pm.photometric;
    out.bitsStored = pm.bitsStored;
    out.highBit = pm.highBit;
    return out;
}

/// Uncompressed YBR_FULL_422: Y1 Y2 Cb Cr for each pair of pixels (PS3.3 C.7.6.3.1.2).
Frame decodeYbrFull422(const PixelModule& pm, Uint32 have, int frame)
{
    if (pm.bitsAllocated != 8 || pm.samples != 3 || (pm.cols % 2) != 0)
        return Frame::failure("unsupported uncompressed YBR_FULL_422 layout");
    const std::size_t frameBytes = std::size_t(pm.rows) * pm.cols * 2;
    Uint8* raw = nullptr;
    if (pm.pixelData->getUint8Array(raw).bad() || !raw || have < frameBytes * (frame + 1))
        return Frame::failure("truncated YBR_FULL_422 pixel data");
    const Uint8* src = raw + frameBytes * frame;
    DecodedFrame out;
    out.pixels.create(pm.rows, pm.cols, CV_8UC3);
    for (int y = 0; y < pm.rows; ++y) {
        auto* d = out.pixels.ptr<cv::Vec3b>(y);
        const Uint8* s = src + std::size_t(y) * pm.cols * 2;
        for (int x = 0; x < pm.cols; x += 2, s += 4) {
            d[x] = cv::Vec3b(s[0], s[2], s[3]);
            d[x + 1] = cv::Vec3b(s[1], s[2], s[3]);
        }
    }
    out.colorModel = "YBR_FULL";
    out.bitsStored = pm.bitsStored;
    out.highBit = pm.highBit;
    return out;
}

/// A frame's bytes, as DCMTK gives them, as samples: planes interleaved, masked to Bits
/// Stored and sign-extended; unsigned 32-bit samples as doubles (they reach 2^32 - 1).
cv::Mat unpackSamples(std::vector<uint8_t>& buffer, const PixelModule& pm, bool bigEndian)
{
    const int rows = pm.rows, cols = pm.cols, samples = pm.samples, bitsAllocated = pm.bitsAllocated;
    const int bitsStored = pm.bitsStored, highBit = pm.highBit;
    if (bitsAllocated == 32 && bigEndian) {
        // DCMTK swaps OW pixel data to host order in 16-bit words; 32-bit samples then need
        // their halves exchanged.
        auto* w = reinterpret_cast<uint32_t*>(buffer.data());
        for (std::size_t i = 0; i < buffer.size() / 4; ++i)
            w[i] = (w[i] << 16) | (w[i] >> 16);
    }
    const int depth = bitsAllocated == 8 ? CV_8U : bitsAllocated == 16 ? CV_16U : CV_32S;
    cv::Mat raw;
    if (samples == 3 && pm.planar == 1) {
        const std::size_t plane = std::size_t(rows) * cols * (bitsAllocated / 8);
        std::vector<cv::Mat> planes;
        for (int c = 0; c < 3; ++c)
            planes.emplace_back(rows, cols, depth, buffer.data() + c * plane);
        cv::merge(planes, raw);
    } else {
        raw = cv::Mat(rows, cols, CV_MAKETYPE(depth, samples), buffer.data()).clone();
    }
    if (pm.pixelRep == 1) {
        if (depth == CV_8U) {
            raw.convertTo(raw, CV_16S); // temporarily unsigned copy, sign fixed below
            raw.forEach<int16_t>([](int16_t& v, const int*) { v = static_cast<int8_t>(v & 0xFF); });
            if (bitsStored < 8)
                maskAndExtend<int16_t>(raw, bitsStored, highBit, true);
        } else if (depth == CV_16U) {
            raw = cv::Mat(raw.rows, raw.cols, CV_MAKETYPE(CV_16S, raw.channels()), raw.data).clone();
            maskAndExtend<int16_t>(raw, bitsStored, highBit, true);
        } else {
            maskAndExtend<int32_t>(raw, bitsStored, highBit, true);
        }
    } else if (depth == CV_8U) {
        maskAndExtend<uint8_t>(raw, bitsStored, highBit, false);
    } else if (depth == CV_16U) {
        maskAndExtend<uint16_t>(raw, bitsStored, highBit, false);
    } else if (bitsStored == 32) {
        cv::Mat wide(raw.rows, raw.cols, CV_MAKETYPE(CV_64F, raw.channels()));
        const auto* src = reinterpret_cast<const uint32_t*>(raw.data);
        auto* dst = wide.ptr<double>();
        const std::size_t n = raw.total() * raw.channels();
        for (std::size_t i = 0; i < n; ++i)
            dst[i] = src[i];
        raw = wide;
    } else {
        maskAndExtend<int32_t>(raw, bitsStored, highBit, false);
    }
    return raw;
}

/// Native pixel data, or data DCMTK's registered decoders (JPEG, JPEG-LS, RLE) decompress.
Frame decodeWithDcmtk(DcmDataset* ds, const PixelModule& pm, const TransferSyntax& syntax, const LoadOptions& options)
{
    const E_TransferSyntax xfer = syntax.xfer;
    const DcmXfer xf(xfer);
    DcmPixelData* pixelData = pm.pixelData;
    if (xf.isEncapsulated() && !pixelData->hasRepresentation(xfer, nullptr))
        return Frame::failure("encapsulated pixel data is missing");
    if (!xf.isEncapsulated()) {
        const std::size_t bitsPerFrame = std::size_t(pm.rows) * pm.cols * pm.samples * pm.bitsAllocated;
        const std::size_t needed = (bitsPerFrame * (options.frame + 1) + 7) / 8;
        const Uint32 have = pixelData->getLength(xfer);
        if (pm.photometric == "YBR_FULL_422")
            return decodeYbrFull422(pm, have, options.frame);
        if (have < needed)
            return Frame::failure("truncated pixel data: " + std::to_string(have) + " of " + std::to_string(needed) +
                                  " bytes");
    } else if (pm.bitsAllocated == 1) {
        return Frame::failure("compressed 1-bit pixel data is not supported");
    }
    Uint32 frameSize = 0;
    if (pixelData->getUncompressedFrameSize(ds, frameSize).bad() || frameSize == 0)
        return Frame::failure("cannot determine the frame size");
    std::vector<uint8_t> buffer(frameSize + (frameSize & 1));
    Uint32 startFragment = 0;
    if (xfer == EXS_RLELossless) {
        DcmPixelSequence* seq = nullptr;
        if (pixelData->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq)
            return Frame::failure("RLE transfer syntax but the pixel data is not encapsulated");
        auto start = rleStartFragment(seq, options.frame, pm.frames, int(pm.samples) * (pm.bitsAllocated / 8));
        if (!start)
            return Frame::failure(start.error());
        startFragment = start.value();
    }
    OFString decompressedModel;
    const OFCondition cond =
        pixelData->getUncompressedFrame(ds, static_cast<Uint32>(options.frame), startFragment, buffer.data(),
                                        static_cast<Uint32>(buffer.size()), decompressedModel);
    if (cond.bad())
        return Frame::failure(std::string("cannot decode pixel data (") + syntax.name + "): " + cond.text());

    DecodedFrame out;
    out.colorModel = decompressedModel.empty() ? pm.photometric : decompressedModel.c_str();
    out.bitsStored = pm.bitsStored;
    out.highBit = pm.highBit;
    if (pm.bitsAllocated == 1) {
        out.pixels.create(pm.rows, pm.cols, CV_8UC1);
        const std::size_t n = std::size_t(pm.rows) * pm.cols;
        for (std::size_t i = 0; i < n; ++i)
            out.pixels.data[i] = (buffer[i >> 3] >> (i & 7)) & 1;
        out.bitsStored = 1;
        out.highBit = 0;
    } else {
        out.pixels = unpackSamples(buffer, pm, xf.getByteOrder() == EBO_BigEndian);
    }
    return out;
}

} // namespace

Result<DecodedFrame> decodeFrame(DcmDataset* ds, const PixelModule& pm, const TransferSyntax& syntax,
                                 const LoadOptions& options)
{
    if (pm.floatElement)
        return decodeFloat(pm, options.frame);
    if (isJpeg2000(syntax.uid))
        return decodeJpeg2000(pm, syntax.xfer, options);
    return decodeWithDcmtk(ds, pm, syntax, options);
}

Result<bool> applyPhotometric(Image& img, const PixelModule& pm, const DecodedFrame& frame)
{
    img.pixels = frame.pixels;
    img.isSigned = pm.pixelRep == 1 || pm.floatElement;
    img.isFloat = pm.floatElement != nullptr;
    img.bitsStored = frame.bitsStored;
    const std::string& colorModel = frame.colorModel;
    if (pm.palette) {
        img.pixels = applyPalette(frame.pixels, pm.paletteLut);
        img.photometric = Photometric::Rgb;
        img.bitsStored = pm.paletteLut.bits;
        img.isSigned = false;
    } else if (pm.samples == 3) {
        if (colorModel == "YBR_FULL" || colorModel == "YBR_FULL_422") {
            ybrFullToRgb(img.pixels);
        } else if (colorModel != "RGB" && colorModel != "YBR_RCT" && colorModel != "YBR_ICT" &&
                   colorModel != "YBR_PARTIAL_420") {
            return Result<bool>::failure("unsupported colour model " + colorModel);
        }
        img.photometric = Photometric::Rgb;
    } else if (pm.photometric == "MONOCHROME1") {
        img.photometric = Photometric::Monochrome1;
    } else if (pm.photometric == "MONOCHROME2") {
        img.photometric = Photometric::Monochrome2;
    } else {
        return Result<bool>::failure("unsupported Photometric Interpretation " + pm.photometric);
    }
    return true;
}

} // namespace lightbox::imaging::detail::dicom
