#include "DataFiles.h"

#include <imaging/ImageLoader.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <mutex>

namespace lightbox::data {

bool naturalLess(const std::string& a, const std::string& b)
{
    size_t i = 0, j = 0;
    const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            size_t ie = i, je = j;
            while (ie < a.size() && digit(a[ie]))
                ++ie;
            while (je < b.size() && digit(b[je]))
                ++je;
            size_t ia = i, jb = j; // skip leading zeros
            while (ie - ia > 1 && a[ia] == '0')
                ++ia;
            while (je - jb > 1 && b[jb] == '0')
                ++jb;
            if (ie - ia != je - jb)
                return ie - ia < je - jb;
            if (const int c = a.compare(ia, ie - ia, b, jb, je - jb); c != 0)
                return c < 0;
            i = ie;
            j = je;
            continue;
        }
        const int ca = std::tolower(static_cast<unsigned char>(a[i]));
        const int cb = std::tolower(static_cast<unsigned char>(b[j]));
        if (ca != cb)
            return ca < cb;
        ++i;
        ++j;
    }
    if (a.size() - i != b.size() - j)
        return a.size() - i < b.size() - j;
    return a < b;
}

namespace {

std::string lowerSuffix(const std::string& path)
{
    const size_t slash = path.find_last_of('/');
    const size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return {};
    std::string s = path.substr(dot + 1);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

void quietDcmtk()
{
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

/// The header of a DICOM file, parsed up to the pixel data.
bool loadDicomHeader(const std::string& path, DcmFileFormat& file)
{
    quietDcmtk();
    return file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_PixelData).good();
}

uint32_t bigEndian32(const unsigned char* p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

bool pngSize(std::ifstream& in, int& w, int& h)
{
    unsigned char buf[24];
    if (!in.read(reinterpret_cast<char*>(buf), sizeof buf) || std::memcmp(buf + 12, "IHDR", 4) != 0)
        return false;
    w = int(bigEndian32(buf + 16));
    h = int(bigEndian32(buf + 20));
    return w > 0 && h > 0;
}

bool jpegSize(std::ifstream& in, int& w, int& h)
{
    in.seekg(2);
    unsigned char m[4];
    while (in.read(reinterpret_cast<char*>(m), 2)) {
        if (m[0] != 0xFF)
            return false;
        const unsigned char marker = m[1];
        if (marker == 0xFF) { // fill byte
            in.seekg(-1, std::ios::cur);
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
            continue;
        if (!in.read(reinterpret_cast<char*>(m), 2))
            return false;
        const int len = (m[0] << 8) | m[1];
        if (len < 2)
            return false;
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            unsigned char s[5];
            if (!in.read(reinterpret_cast<char*>(s), 5))
                return false;
            h = (s[1] << 8) | s[2];
            w = (s[3] << 8) | s[4];
            return w > 0 && h > 0;
        }
        in.seekg(len - 2, std::ios::cur);
    }
    return false;
}

bool bmpSize(std::ifstream& in, int& w, int& h)
{
    unsigned char buf[26];
    if (!in.read(reinterpret_cast<char*>(buf), sizeof buf))
        return false;
    const auto le32 = [&](int o) {
        return int32_t(uint32_t(buf[o]) | (uint32_t(buf[o + 1]) << 8) | (uint32_t(buf[o + 2]) << 16) |
                       (uint32_t(buf[o + 3]) << 24));
    };
    w = le32(18);
    h = std::abs(le32(22));
    return w > 0 && h > 0;
}

} // namespace

bool looksLikeDicom(const std::string& path)
{
    const std::string s = lowerSuffix(path);
    if (s == "dcm" || s == "dicom" || s == "dic")
        return true;
    static const char* const raster[] = {"png", "jpg", "jpeg", "tif", "tiff", "bmp", "jp2", "j2k"};
    if (std::find_if(std::begin(raster), std::end(raster), [&](const char* r) { return s == r; }) != std::end(raster))
        return false;
    return imaging::sniffFile(path) == imaging::FileKind::Dicom;
}

std::string dicomPatientId(const std::string& path)
{
    DcmFileFormat file;
    if (!loadDicomHeader(path, file))
        return {};
    OFString id;
    if (file.getDataset()->findAndGetOFString(DCM_PatientID, id).bad())
        return {};
    std::string out = id.c_str();
    while (!out.empty() && (out.back() == ' ' || out.back() == '\0'))
        out.pop_back();
    return out;
}

bool imageSize(const std::string& path, int& width, int& height)
{
    const imaging::FileKind kind = imaging::sniffFile(path);
    if (kind == imaging::FileKind::Png || kind == imaging::FileKind::Jpeg || kind == imaging::FileKind::Bmp) {
        std::ifstream in(path, std::ios::binary);
        if (in && (kind == imaging::FileKind::Png    ? pngSize(in, width, height)
                   : kind == imaging::FileKind::Jpeg ? jpegSize(in, width, height)
                                                     : bmpSize(in, width, height)))
            return true;
    }
    if (kind == imaging::FileKind::Dicom || kind == imaging::FileKind::Unknown) {
        DcmFileFormat file;
        Uint16 rows = 0, cols = 0;
        if (loadDicomHeader(path, file) && file.getDataset()->findAndGetUint16(DCM_Rows, rows).good() &&
            file.getDataset()->findAndGetUint16(DCM_Columns, cols).good() && rows > 0 && cols > 0) {
            width = cols;
            height = rows;
            return true;
        }
    }
    if (kind == imaging::FileKind::Empty)
        return false;
    auto image = imaging::loadImage(path);
    if (!image)
        return false;
    width = image->width();
    height = image->height();
    return true;
}

} // namespace lightbox::data
