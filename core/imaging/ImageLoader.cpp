#include "ImageLoader.h"

#include "DicomReader.h"
#include "Render.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <new>
#include <sys/stat.h>

namespace lightbox::imaging {
namespace {

void initOpenCvOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
}

uint32_t be32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint16_t be16(const uint8_t* p)
{
    return uint16_t(p[0] << 8 | p[1]);
}
uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

/// Width, height, channels and bytes per sample from a PNG, JPEG or BMP header, so that
/// absurd dimensions are refused before OpenCV allocates anything. Returns false when the
/// header cannot be read (the decoder will then report the corruption).
bool headerDimensions(FileKind kind, const uint8_t* b, std::size_t size, std::size_t& w, std::size_t& h,
                      std::size_t& channels, std::size_t& bytes)
{
    channels = 4;
    bytes = 1;
    if (kind == FileKind::Png && size >= 26) {
        w = be32(&b[16]);
        h = be32(&b[20]);
        bytes = b[24] > 8 ? 2 : 1;
        return true;
    }
    if (kind == FileKind::Bmp && size >= 26) {
        w = le32(&b[18]);
        const int32_t hs = static_cast<int32_t>(le32(&b[22]));
        h = static_cast<std::size_t>(hs < 0 ? -static_cast<int64_t>(hs) : hs);
        return true;
    }
    if (kind == FileKind::Jpeg) {
        std::size_t i = 2;
        while (i + 9 < size) {
            if (b[i] != 0xFF) {
                ++i;
                continue;
            }
            const uint8_t m = b[i + 1];
            if (m == 0xFF) {
                ++i;
                continue;
            }
            if ((m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                bytes = b[i + 4] > 8 ? 2 : 1;
                h = be16(&b[i + 5]);
                w = be16(&b[i + 7]);
                channels = b[i + 9];
                return true;
            }
            if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
                i += 2;
                continue;
            }
            i += 2 + be16(&b[i + 2]);
        }
    }
    return false;
}

Result<Image> fail(const std::string& msg)
{
    return Result<Image>::failure(msg);
}

/// Decodes a PNG, JPEG, TIFF or BMP file's bytes.
Result<Image> decodeRaster(const uint8_t* data, std::size_t size, FileKind kind, const LoadOptions& options)
{
    initOpenCvOnce();
    if (size == 0)
        return fail("empty file (0 bytes)");
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return fail("file too large to decode (" + std::to_string(size >> 20) + " MiB)");
    std::size_t w = 0, h = 0, c = 0, b = 0;
    if (headerDimensions(kind, data, size, w, h, c, b)) {
        if (w == 0 || h == 0)
            return fail("image header says it has zero width or height");
        if (auto ok = checkFrameSize(w, h, std::min<std::size_t>(c, 3), b, options.maxBytes); !ok)
            return fail(ok.error());
    }
    const cv::Mat bytes(1, static_cast<int>(size), CV_8U, const_cast<uint8_t*>(data)); // read only
    cv::Mat decoded;
    try {
        // ANYCOLOR keeps grayscale as one channel; without IMREAD_UNCHANGED OpenCV applies
        // the EXIF orientation, as a viewer must.
        decoded = cv::imdecode(bytes, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
    } catch (const cv::Exception& e) {
        return fail(std::string("cannot decode image: ") + e.what());
    } catch (const std::bad_alloc&) {
        return fail("not enough memory to decode the image");
    }
    if (decoded.empty())
        return fail(std::string("corrupt or truncated ") + toString(kind) + " file");

    Image img;
    img.format = toString(kind);
    if (decoded.depth() != CV_8U && decoded.depth() != CV_16U) {
        if (decoded.depth() == CV_32F || decoded.depth() == CV_64F)
            return fail("floating-point images are not supported");
        decoded.convertTo(decoded, CV_16U);
    }
    if (decoded.channels() == 4)
        cv::cvtColor(decoded, decoded, cv::COLOR_BGRA2BGR);
    if (decoded.channels() == 3) {
        cv::cvtColor(decoded, decoded, cv::COLOR_BGR2RGB);
        // An X-ray saved as colour has three equal channels: keep one, it is grayscale.
        std::vector<cv::Mat> ch;
        cv::split(decoded, ch);
        if (cv::countNonZero(ch[0] != ch[1]) == 0 && cv::countNonZero(ch[0] != ch[2]) == 0)
            decoded = ch[0];
    }
    img.pixels = decoded;
    img.photometric = decoded.channels() == 3 ? Photometric::Rgb : Photometric::Monochrome2;
    img.bitsStored = decoded.depth() == CV_16U ? 16 : 8;
    img.autoWindow = computeAutoWindow(img);
    if (img.bitsStored == 8) // an 8-bit picture is already windowed: show it as it is
        img.fileWindows.push_back(Window{127.5, 256.0, "FULL RANGE"});
    return img;
}

Result<Image> loadRaster(const std::string& path, FileKind kind, const LoadOptions& options)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail("cannot open file");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto img = decodeRaster(bytes.data(), bytes.size(), kind, options);
    if (img)
        img->sourcePath = path;
    return img;
}

/// Loads by content: DICOM (also a bare data set, which sniffs as Unknown) or a raster format.
template <typename Dicom, typename Raster>
Result<Image> loadByKind(FileKind kind, const Dicom& loadDicom, const Raster& loadRasterKind)
{
    try {
        switch (kind) {
        case FileKind::Dicom: return loadDicom();
        case FileKind::Png:
        case FileKind::Jpeg:
        case FileKind::Tiff:
        case FileKind::Bmp: return loadRasterKind(kind);
        case FileKind::Jpeg2000: return fail("bare JPEG 2000 files are not supported; DICOM-wrapped JPEG 2000 is");
        case FileKind::Empty: return fail("empty file (0 bytes)");
        case FileKind::Unknown: {
            // Possibly a DICOM data set without the Part 10 preamble.
            auto r = loadDicom();
            if (r.ok())
                return r;
            if (r.error().rfind("not a readable DICOM", 0) == 0 || r.error().rfind("not a DICOM", 0) == 0 ||
                r.error().rfind("missing Rows", 0) == 0)
                return fail("unrecognised file format (not DICOM, PNG, JPEG, TIFF or BMP)");
            return r;
        }
        }
    } catch (const std::bad_alloc&) {
        return fail("not enough memory to load the image");
    } catch (const std::exception& e) {
        return fail(std::string("cannot load image: ") + e.what());
    }
    return fail("unrecognised file format");
}

} // namespace

const char* toString(FileKind kind)
{
    switch (kind) {
    case FileKind::Unknown: return "unknown";
    case FileKind::Empty: return "empty";
    case FileKind::Dicom: return "DICOM";
    case FileKind::Png: return "PNG";
    case FileKind::Jpeg: return "JPEG";
    case FileKind::Tiff: return "TIFF";
    case FileKind::Bmp: return "BMP";
    case FileKind::Jpeg2000: return "JPEG 2000";
    }
    return "?";
}

FileKind sniffFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return FileKind::Unknown;
    std::array<uint8_t, 132> h{};
    in.read(reinterpret_cast<char*>(h.data()), h.size());
    return sniffBytes(h.data(), static_cast<std::size_t>(in.gcount()));
}

FileKind sniffBytes(const uint8_t* h, std::size_t n)
{
    if (n == 0 || !h)
        return FileKind::Empty;
    if (n >= 132 && std::memcmp(&h[128], "DICM", 4) == 0)
        return FileKind::Dicom;
    if (n >= 8 && std::memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return FileKind::Png;
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        return FileKind::Jpeg;
    if (n >= 4 && (std::memcmp(h, "II*\0", 4) == 0 || std::memcmp(h, "MM\0*", 4) == 0))
        return FileKind::Tiff;
    if (n >= 2 && h[0] == 'B' && h[1] == 'M')
        return FileKind::Bmp;
    if (n >= 12 && (std::memcmp(h, "\0\0\0\x0CjP  ", 8) == 0 || (h[0] == 0xFF && h[1] == 0x4F && h[2] == 0xFF)))
        return FileKind::Jpeg2000;
    return FileKind::Unknown;
}

Result<bool> checkFrameSize(std::size_t width, std::size_t height, std::size_t channels, std::size_t bytesPerSample,
                            std::size_t maxBytes)
{
    const long double bytes = static_cast<long double>(width) * height * channels * bytesPerSample;
    if (bytes > static_cast<long double>(maxBytes))
        return Result<bool>::failure("image of " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                                     std::to_string(channels) + " would need " +
                                     std::to_string(static_cast<unsigned long long>(bytes / (1024.0L * 1024.0L))) +
                                     " MiB, over the limit of " + std::to_string(maxBytes / (1024 * 1024)) + " MiB");
    return true;
}

Result<Image> loadImage(const std::string& path, const LoadOptions& options)
{
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return fail("file not found: " + path);
    if (S_ISDIR(st.st_mode))
        return fail("is a folder, not a file: " + path);
    if (st.st_size == 0)
        return fail("empty file (0 bytes)");
    FileKind kind = FileKind::Unknown;
    try {
        kind = sniffFile(path);
    } catch (const std::exception& e) {
        return fail(std::string("cannot load image: ") + e.what());
    }
    return loadByKind(
        kind, [&] { return detail::loadDicom(path, options); },
        [&](FileKind k) { return loadRaster(path, k, options); });
}

Result<Image> loadImage(const uint8_t* data, std::size_t size, const LoadOptions& options)
{
    if (!data || size == 0)
        return fail("empty file (0 bytes)");
    return loadByKind(
        sniffBytes(data, size), [&] { return detail::loadDicom(data, size, options); },
        [&](FileKind k) { return decodeRaster(data, size, k, options); });
}

} // namespace lightbox::imaging
