#include "FuzzTargets.h"

#include <imaging/ImageLoader.h>
#include <imaging/Jpeg2000Decoder.h>
#include <imaging/Render.h>

#include <algorithm>

namespace lightbox::fuzz {
namespace {

/// Frames are capped well below the product's 1 GiB so that the sanitizers' memory overhead
/// stays inside libFuzzer's RSS limit and each input decodes quickly; the cap itself is tested
/// in tst_dicom. JPEG 2000 decoding is the slowest per pixel: its cap is lower.
constexpr std::size_t kMaxBytes = std::size_t(64) << 20;
constexpr std::size_t kMaxJpeg2000Bytes = std::size_t(4) << 20;

Outcome fromError(const std::string& error)
{
    return Outcome{false, error};
}

/// Everything a viewer does with a freshly loaded image: windows, the VOI LUT, the cursor.
void show(const imaging::Image& img)
{
    imaging::RenderParams p;
    p.window = img.defaultWindow();
    cv::Mat out = imaging::render8(img, p);
    if (img.voiLut.valid()) {
        p.useVoiLut = true;
        p.invert = true;
        out = imaging::render8(img, p);
    }
    for (const auto& w : img.fileWindows) {
        imaging::DisplayLut lut(img, imaging::RenderParams{w, false, false});
        (void)lut.map(w.center);
    }
    if (!img.empty()) {
        (void)img.sampleAt(0, 0);
        (void)img.sampleAt(img.width() - 1, img.height() - 1, img.channels() - 1);
    }
    (void)imaging::modalityValues(img);
}

uint32_t be32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

} // namespace

Outcome dicom(const uint8_t* data, std::size_t size)
{
    imaging::LoadOptions options;
    options.tags = true;
    options.maxBytes = kMaxBytes;
    auto r = imaging::loadImage(data, size, options);
    if (!r)
        return fromError(r.error());
    show(r.value());
    if (r->frameCount > 1) {
        options.frame = r->frameCount - 1;
        options.tags = false;
        auto last = imaging::loadImage(data, size, options);
        if (!last)
            return fromError(last.error());
        show(last.value());
    }
    return Outcome{true, {}};
}

Outcome raster(const uint8_t* data, std::size_t size)
{
    const imaging::FileKind kind = imaging::sniffBytes(data, size);
    if (kind != imaging::FileKind::Png && kind != imaging::FileKind::Jpeg && kind != imaging::FileKind::Tiff &&
        kind != imaging::FileKind::Bmp)
        return fromError("not a raster file");
    imaging::LoadOptions options;
    options.maxBytes = kMaxBytes;
    auto r = imaging::loadImage(data, size, options);
    if (!r)
        return fromError(r.error());
    show(r.value());
    return Outcome{true, {}};
}

Outcome jpeg2000(const uint8_t* data, std::size_t size)
{
    imaging::detail::Jpeg2000Expect expect;
    expect.maxBytes = kMaxJpeg2000Bytes;
    // The SIZ marker segment: FF4F FF51 Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz ... Csiz Ssiz...
    static const uint8_t siz[4] = {0xFF, 0x4F, 0xFF, 0x51};
    const uint8_t* at = std::search(data, data + size, siz, siz + 4);
    if (at + 43 <= data + size) {
        const uint32_t x = be32(at + 8), y = be32(at + 12), x0 = be32(at + 16), y0 = be32(at + 20);
        const int components = at[40] << 8 | at[41];
        const int ssiz = at[42];
        expect.cols = x > x0 ? static_cast<int>(std::min<uint32_t>(x - x0, 1u << 30)) : 0;
        expect.rows = y > y0 ? static_cast<int>(std::min<uint32_t>(y - y0, 1u << 30)) : 0;
        expect.samples = components >= 3 ? 3 : 1;
        expect.bitsStored = std::clamp((ssiz & 0x7F) + 1, 1, 16);
        expect.bitsAllocated = expect.bitsStored > 8 ? 16 : 8;
        expect.isSigned = ((ssiz & 0x80) != 0) != ((size & 1) != 0);
    }
    auto r = imaging::detail::decodeJpeg2000(data, size, expect);
    if (!r)
        return fromError(r.error());
    return Outcome{true, {}};
}

} // namespace lightbox::fuzz
