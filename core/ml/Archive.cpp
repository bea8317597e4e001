#include "Archive.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#ifdef LIGHTBOX_HAVE_ZLIB
#include <zlib.h>
#endif

namespace lightbox::ml {
namespace {

uint16_t le16(const uint8_t* p)
{
    return uint16_t(p[0] | p[1] << 8);
}
uint32_t le32(const uint8_t* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p)
{
    return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32;
}

uint32_t crc32Of(const uint8_t* data, std::size_t size)
{
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i)
        c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

/// Checks one entry's data: its size, and its CRC-32 after inflating a deflated one.
Status checkEntryData(const std::string& name, const uint8_t* data, uint64_t compressed, uint64_t uncompressed,
                      uint16_t method, uint32_t crc)
{
    const std::string where = "the data of " + name;
    if (method == 0) {
        if (compressed != uncompressed)
            return Status::failure(where + " has two sizes");
        if (crc32Of(data, compressed) != crc)
            return Status::failure("the checksum of " + name + " does not match");
        return success();
    }
    if (method != 8)
        return Status::failure(name + " uses compression method " + std::to_string(method));
    // DEFLATE expands at most about 1032-fold.
    if (uncompressed / 1032 > compressed + 1)
        return Status::failure(where + " claims " + std::to_string(uncompressed) + " bytes from " +
                               std::to_string(compressed));
#ifdef LIGHTBOX_HAVE_ZLIB
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return Status::failure("cannot set up the inflater");
    std::vector<uint8_t> out(std::size_t(1) << 16);
    uLong sum = crc32(0L, Z_NULL, 0);
    uint64_t produced = 0;
    uint64_t left = compressed;
    const uint8_t* in = data;
    int status = Z_OK;
    while (status == Z_OK) {
        if (z.avail_in == 0 && left > 0) {
            const uInt chunk = uInt(left < (1u << 30) ? left : (1u << 30));
            z.next_in = const_cast<Bytef*>(in);
            z.avail_in = chunk;
            in += chunk;
            left -= chunk;
        }
        z.next_out = out.data();
        z.avail_out = uInt(out.size());
        status = inflate(&z, Z_NO_FLUSH);
        const std::size_t n = out.size() - z.avail_out;
        produced += n;
        sum = crc32(sum, out.data(), uInt(n));
        if (produced > uncompressed || (status == Z_BUF_ERROR && z.avail_in == 0 && left == 0))
            break;
    }
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != uncompressed)
        return Status::failure(where + " is corrupt");
    if (uint32_t(sum) != crc)
        return Status::failure("the checksum of " + name + " does not match");
#endif
    return success();
}

} // namespace

Status checkZipArchive(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status::failure("cannot open " + path);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const uint8_t* b = bytes.data();
    const uint64_t size = bytes.size();
    if (size < 22)
        return Status::failure("not a zip archive (too short)");

    // The end of central directory record: within the last 64 KiB (its comment) of the file.
    uint64_t eocd = size;
    for (uint64_t i = size - 22;; --i) {
        if (le32(b + i) == kEndOfCentralDirectory) {
            eocd = i;
            break;
        }
        if (i == 0 || size - i >= 22 + 65535)
            break;
    }
    if (eocd == size)
        return Status::failure("not a zip archive (no end of central directory)");
    uint64_t entries = le16(b + eocd + 10);
    uint64_t directorySize = le32(b + eocd + 12);
    uint64_t directoryOffset = le32(b + eocd + 16);
    // ZIP64: the locator just before the record points at the 64-bit end record.
    if (eocd >= 20 && le32(b + eocd - 20) == kZip64EndLocator) {
        const uint64_t end64 = le64(b + eocd - 20 + 8);
        if (end64 > eocd - 20 || eocd - 20 - end64 < 56 || le32(b + end64) != kZip64End)
            return Status::failure("corrupt zip archive (its 64-bit end record)");
        entries = le64(b + end64 + 32);
        directorySize = le64(b + end64 + 40);
        directoryOffset = le64(b + end64 + 48);
    }
    if (directoryOffset > eocd || directorySize > eocd - directoryOffset)
        return Status::failure("corrupt zip archive (its directory lies outside the file)");
    if (entries == 0 || entries > directorySize / 46)
        return Status::failure("corrupt zip archive (" + std::to_string(entries) + " entries)");

    uint64_t pos = directoryOffset;
    const uint64_t directoryEnd = directoryOffset + directorySize;
    // LibTorch's archives keep every record under one folder, its "version" record included.
    std::string prefix;
    bool hasVersion = false;
    for (uint64_t e = 0; e < entries; ++e) {
        if (directoryEnd - pos < 46 || le32(b + pos) != kCentralHeader)
            return Status::failure("corrupt zip archive (directory entry " + std::to_string(e + 1) + ")");
        const uint8_t* h = b + pos;
        const uint16_t method = le16(h + 10);
        const uint32_t crc = le32(h + 16);
        uint64_t compressed = le32(h + 20), uncompressed = le32(h + 24);
        const uint16_t nameLength = le16(h + 28), extraLength = le16(h + 30), commentLength = le16(h + 32);
        uint64_t local = le32(h + 42);
        if (directoryEnd - pos - 46 < uint64_t(nameLength) + extraLength + commentLength)
            return Status::failure("corrupt zip archive (directory entry " + std::to_string(e + 1) + ")");
        // The name as printable text, for messages.
        std::string name(reinterpret_cast<const char*>(h + 46), std::min<std::size_t>(nameLength, 80));
        for (char& c : name)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
                c = '?';
        // ZIP64 extra field: the 64-bit values of those 32-bit fields that are all ones, in order.
        for (uint64_t x = 0; x + 4 <= extraLength;) {
            const uint8_t* f = h + 46 + nameLength + x;
            const uint16_t id = le16(f), len = le16(f + 2);
            if (x + 4 + len > extraLength)
                return Status::failure("corrupt zip archive (extra field of " + name + ")");
            if (id == 0x0001) {
                uint64_t at = 4;
                for (uint64_t* v : {&uncompressed, &compressed, &local}) {
                    if (*v != 0xFFFFFFFFu)
                        continue;
                    if (at + 8 > 4u + len)
                        return Status::failure("corrupt zip archive (64-bit sizes of " + name + ")");
                    *v = le64(f + at);
                    at += 8;
                }
            }
            x += 4 + len;
        }
        {
            const std::string full(reinterpret_cast<const char*>(h + 46), nameLength);
            if (e == 0)
                prefix = full.substr(0, full.find('/'));
            hasVersion = hasVersion || full == prefix + "/version" || full == prefix + "/.data/version";
        }
        pos += 46 + uint64_t(nameLength) + extraLength + commentLength;

        if (local > directoryOffset || directoryOffset - local < 30 || le32(b + local) != kLocalHeader)
            return Status::failure("corrupt zip archive (the header of " + name + ")");
        const uint64_t dataStart = local + 30 + le16(b + local + 26) + le16(b + local + 28);
        if (dataStart > directoryOffset || compressed > directoryOffset - dataStart)
            return Status::failure("the data of " + name + " runs past the end of the archive (truncated?)");
        if (auto ok = checkEntryData(name, b + dataStart, compressed, uncompressed, method, crc); !ok)
            return ok;
    }
    if (!hasVersion)
        return Status::failure("a zip archive, but not one LibTorch wrote: it has no " + prefix + "/version record");
    return success();
}

} // namespace lightbox::ml
