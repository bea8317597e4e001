#include "DicomReader.h"

#include "Jpeg2000Decoder.h"
#include "PaletteColor.h"
#include "Render.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <zlib.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <vector>

namespace lightbox::imaging::detail {
namespace {

void registerCodecsOnce()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation);
        DJLSDecoderRegistration::registerCodecs();
    });
}

std::string getString(DcmItem* item, const DcmTagKey& key, long pos = 0, bool deep = false);

/// DCMTK's producer for a buffer in memory, with the semantics of its file producer
/// (DcmFileProducer): a large element value can be skipped and read later through a factory,
/// so a buffer is parsed exactly as the same bytes in a file.
class MemoryProducer : public DcmProducer {
public:
    MemoryProducer(const uint8_t* data, offile_off_t size, offile_off_t offset)
        : m_data(data), m_size(size), m_pos(std::min(offset, size))
    {
    }
    OFBool good() const override { return m_status.good(); }
    OFCondition status() const override { return m_status; }
    OFBool eos() override { return m_pos >= m_size; }
    offile_off_t avail() override { return m_size - m_pos; }
    offile_off_t read(void* buf, offile_off_t buflen) override
    {
        if (m_status.bad() || !buf || buflen <= 0)
            return 0;
        const offile_off_t n = std::min(buflen, m_size - m_pos);
        std::memcpy(buf, m_data + m_pos, static_cast<std::size_t>(n));
        m_pos += n;
        return n;
    }
    offile_off_t skip(offile_off_t skiplen) override
    {
        if (m_status.bad() || skiplen <= 0)
            return 0;
        const offile_off_t n = std::min(skiplen, m_size - m_pos);
        m_pos += n;
        return n;
    }
    void putback(offile_off_t num) override
    {
        if (m_status.bad() || num == 0)
            return;
        if (num <= m_pos)
            m_pos -= num;
        else
            m_status = EC_PutbackFailed;
    }

private:
    const uint8_t* m_data;
    offile_off_t m_size;
    offile_off_t m_pos;
    OFCondition m_status = EC_Normal;
};

/// A stream over a buffer from position `start` on; its factories reopen it where a skipped
/// value lies, as DcmInputFileStream's do for a file.
class MemoryInputStream : public DcmInputStream {
public:
    MemoryInputStream(const uint8_t* data, offile_off_t size, offile_off_t start)
        : DcmInputStream(&m_producer), m_producer(data, size, start), m_data(data), m_size(size), m_start(start)
    {
    }
    DcmInputStreamFactory* newFactory() const override;

private:
    MemoryProducer m_producer; // DcmInputStream only stores the pointer, as DcmInputFileStream does
    const uint8_t* m_data;
    offile_off_t m_size;
    offile_off_t m_start;
};

class MemoryStreamFactory : public DcmInputStreamFactory {
public:
    MemoryStreamFactory(const uint8_t* data, offile_off_t size, offile_off_t offset)
        : m_data(data), m_size(size), m_offset(offset)
    {
    }
    DcmInputStream* create() const override { return new MemoryInputStream(m_data, m_size, m_offset); }
    DcmInputStreamFactory* clone() const override { return new MemoryStreamFactory(*this); }
    DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }

private:
    const uint8_t* m_data;
    offile_off_t m_size;
    offile_off_t m_offset;
};

DcmInputStreamFactory* MemoryInputStream::newFactory() const
{
    // As DcmInputFileStream: no factory behind a decompression filter (deflated data sets).
    if (currentProducer() != &m_producer)
        return nullptr;
    return new MemoryStreamFactory(m_data, m_size, m_start + tell());
}

/// Where the bytes of a DICOM file come from: a path, or a buffer in memory that outlives
/// every DcmFileFormat read from it.
struct Source {
    std::string path;
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    bool inMemory() const { return data != nullptr; }

    /// The whole file in memory: `data` itself, or the file read into `holder`.
    bool bytes(std::vector<uint8_t>& holder, const uint8_t*& out, std::size_t& outSize) const
    {
        if (inMemory()) {
            out = data;
            outSize = size;
            return true;
        }
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return false;
        holder.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        out = holder.data();
        outSize = holder.size();
        return true;
    }
};

/// DcmFileFormat::loadFile for either source: the same steps as DCMTK's loadFileUntilTag.
OFCondition loadFrom(DcmFileFormat& file, const Source& src, E_TransferSyntax xfer, E_FileReadMode mode)
{
    if (!src.inMemory())
        return file.loadFile(src.path.c_str(), xfer, EGL_noChange, DCM_MaxReadLength, mode);
    MemoryInputStream stream(src.data, static_cast<offile_off_t>(src.size), 0);
    if (mode == ERM_dataset) {
        DcmDataset* ds = file.getDataset();
        OFCondition cond = ds->clear();
        if (cond.good()) {
            ds->transferInit();
            cond = ds->read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
            ds->transferEnd();
        }
        return cond;
    }
    OFCondition cond = file.clear();
    if (cond.good()) {
        const E_FileReadMode oldMode = file.getReadMode();
        file.setReadMode(mode);
        file.transferInit();
        cond = file.read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
        file.transferEnd();
        file.setReadMode(oldMode);
    }
    return cond;
}

/// Where the data set starts in a file whose meta header `file` holds: after the preamble
/// (if any), the group length element (12 bytes) and the elements it counts. -1 when the meta
/// header has no group length or the data set would start past the end.
offile_off_t dataSetOffset(DcmFileFormat& file, const uint8_t* bytes, std::size_t size)
{
    const bool preamble = size >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0;
    Uint32 groupLength = 0;
    if (file.getMetaInfo()->findAndGetUint32(DCM_FileMetaInformationGroupLength, groupLength).bad())
        return -1;
    const offile_off_t offset = (preamble ? 132 : 0) + 12 + offile_off_t(groupLength);
    return offset < static_cast<offile_off_t>(size) ? offset : -1;
}

/// Reads the data set of `file` (whose meta header is read) from bytes[offset...) in `xfer`,
/// values loaded when first used.
OFCondition readDataSet(DcmFileFormat& file, const uint8_t* bytes, std::size_t size, offile_off_t offset,
                        E_TransferSyntax xfer)
{
    MemoryInputStream stream(bytes, static_cast<offile_off_t>(size), offset);
    DcmDataset* ds = file.getDataset();
    OFCondition cond = ds->clear();
    if (cond.good()) {
        ds->transferInit();
        cond = ds->read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
        ds->transferEnd();
    }
    return cond;
}

/// Deflated Explicit VR Little Endian data sets are inflated here rather than by DCMTK's
/// stream filter: behind that filter DCMTK allocates every value at the length the data claims
/// before reading it, so a few corrupt bytes asked for gigabytes. Inflated in memory (DEFLATE
/// expands at most about 1000-fold, so the size stays bounded by the file's), values too long
/// for the data are refused like a truncated file's. Returns false when the file is not
/// deflated, else reads it into `file` (keeping the inflated bytes in `inflated`).
Result<bool> readDeflated(const Source& src, DcmFileFormat& file, std::vector<uint8_t>& inflated)
{
    using R = Result<bool>;
    DcmFileFormat meta;
    if (loadFrom(meta, src, EXS_Unknown, ERM_metaOnly).bad() ||
        getString(meta.getMetaInfo(), DCM_TransferSyntaxUID) != UID_DeflatedExplicitVRLittleEndianTransferSyntax)
        return false;
    std::vector<uint8_t> raw;
    const uint8_t* bytes = nullptr;
    std::size_t size = 0;
    if (!src.bytes(raw, bytes, size))
        return R::failure("cannot read the file");
    const offile_off_t offset = dataSetOffset(meta, bytes, size);
    if (offset < 0)
        return R::failure("deflated DICOM file without a data set after its meta header");

    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) // raw DEFLATE (RFC 1951), as PS3.5 A.5 says
        return R::failure("cannot set up the inflater for a deflated data set");
    z.next_in = const_cast<Bytef*>(bytes + offset);
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(size - std::size_t(offset), 0xFFFFFFFFu));
    inflated.clear();
    int status = Z_OK;
    while (status == Z_OK) {
        const std::size_t have = inflated.size();
        inflated.resize(have + (std::size_t(1) << 16));
        z.next_out = inflated.data() + have;
        z.avail_out = 1u << 16;
        status = inflate(&z, Z_NO_FLUSH);
        inflated.resize(inflated.size() - z.avail_out);
        if (status == Z_BUF_ERROR && z.avail_in == 0)
            break; // the input ended before the stream did
    }
    const std::string zmsg = z.msg ? z.msg : "";
    inflateEnd(&z);
    if (status != Z_STREAM_END)
        return R::failure(status == Z_BUF_ERROR
                              ? "truncated deflated data set"
                              : "corrupt deflated data set" + (zmsg.empty() ? "" : " (" + zmsg + ")"));
    file = meta;
    const OFCondition cond = readDataSet(file, inflated.data(), inflated.size(), 0, EXS_LittleEndianExplicit);
    if (cond == EC_StreamNotifyClient)
        return R::failure("corrupt deflated data set: it ends inside an element (one claims more bytes than it holds)");
    if (cond.bad())
        return R::failure(std::string("corrupt deflated data set (") + cond.text() + ")");
    return true;
}

std::string getString(DcmItem* item, const DcmTagKey& key, long pos, bool deep)
{
    OFString value;
    if (item->findAndGetOFString(key, value, pos, deep).good())
        return std::string(value.c_str());
    return {};
}

bool getUint16(DcmItem* item, const DcmTagKey& key, Uint16& out)
{
    return item->findAndGetUint16(key, out).good();
}

/// Reads a multi-valued DS/IS attribute as doubles.
std::vector<double> getDoubles(DcmItem* item, const DcmTagKey& key, bool deep = false)
{
    std::vector<double> out;
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el, deep).bad() || !el)
        return out;
    const unsigned long n = el->getVM();
    for (unsigned long i = 0; i < n; ++i) {
        Float64 v = 0;
        OFString s;
        if (el->getOFString(s, i).good()) {
            try {
                out.push_back(std::stod(s.c_str()));
            } catch (...) {
            }
        } else if (el->getFloat64(v, i).good()) {
            out.push_back(v);
        }
    }
    return out;
}

const struct KeyTag {
    const char* keyword;
    DcmTagKey key;
} kKeyTags[] = {
    {"PatientName", DCM_PatientName},
    {"PatientID", DCM_PatientID},
    {"PatientBirthDate", DCM_PatientBirthDate},
    {"PatientSex", DCM_PatientSex},
    {"PatientAge", DCM_PatientAge},
    {"StudyDate", DCM_StudyDate},
    {"StudyTime", DCM_StudyTime},
    {"StudyDescription", DCM_StudyDescription},
    {"StudyInstanceUID", DCM_StudyInstanceUID},
    {"AccessionNumber", DCM_AccessionNumber},
    {"SeriesDescription", DCM_SeriesDescription},
    {"SeriesNumber", DCM_SeriesNumber},
    {"SeriesInstanceUID", DCM_SeriesInstanceUID},
    {"InstanceNumber", DCM_InstanceNumber},
    {"SOPClassUID", DCM_SOPClassUID},
    {"SOPInstanceUID", DCM_SOPInstanceUID},
    {"Modality", DCM_Modality},
    {"BodyPartExamined", DCM_BodyPartExamined},
    {"ViewPosition", DCM_ViewPosition},
    {"ImageLaterality", DCM_ImageLaterality},
    {"Laterality", DCM_Laterality},
    {"ContentDate", DCM_ContentDate},
    {"AcquisitionDate", DCM_AcquisitionDate},
    {"InstitutionName", DCM_InstitutionName},
    {"Manufacturer", DCM_Manufacturer},
    {"ManufacturerModelName", DCM_ManufacturerModelName},
    {"PhotometricInterpretation", DCM_PhotometricInterpretation},
};

std::string renderValue(DcmElement* el)
{
    const DcmEVR vr = el->ident();
    const Uint32 len = el->getLength();
    switch (vr) {
    case EVR_OB:
    case EVR_OW:
    case EVR_OF:
    case EVR_OD:
    case EVR_OL:
    case EVR_OV:
    case EVR_UN:
    case EVR_ox:
    case EVR_px:
    case EVR_pixelSQ: return "<binary, " + std::to_string(len) + " bytes>";
    default: break;
    }
    if (len > 4096)
        return "<" + std::to_string(len) + " bytes>";
    OFString s;
    if (el->getOFStringArray(s).bad())
        return {};
    std::string out(s.c_str());
    if (out.size() > 256)
        out = out.substr(0, 253) + "...";
    for (char& c : out)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return out;
}

void dumpItem(DcmItem* item, int depth, std::vector<TagEntry>& out)
{
    if (depth > 32 || out.size() > 200000)
        return;
    const unsigned long n = item->card();
    for (unsigned long i = 0; i < n; ++i) {
        DcmElement* el = item->getElement(i);
        if (!el)
            continue;
        DcmTag tag = el->getTag();
        TagEntry e;
        e.depth = depth;
        e.group = tag.getGTag();
        e.element = tag.getETag();
        e.vr = DcmVR(el->getVR()).getVRName();
        e.name = tag.getTagName();
        if (el->ident() == EVR_SQ) {
            auto* sq = static_cast<DcmSequenceOfItems*>(el);
            e.value = std::to_string(sq->card()) + " item(s)";
            out.push_back(e);
            for (unsigned long k = 0; k < sq->card(); ++k) {
                TagEntry itemEntry;
                itemEntry.depth = depth + 1;
                itemEntry.group = 0xFFFE;
                itemEntry.element = 0xE000;
                itemEntry.name = "Item #" + std::to_string(k + 1);
                out.push_back(itemEntry);
                dumpItem(sq->getItem(k), depth + 2, out);
            }
        } else {
            e.value = renderValue(el);
            out.push_back(e);
        }
    }
}

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

/// The High-Throughput JPEG 2000 transfer syntaxes (PS3.5 A.4.11, 2023) by name, or null.
const char* htj2kName(const std::string& uid)
{
    if (uid == "1.2.840.10008.1.2.4.201")
        return "High-Throughput JPEG 2000 Image Compression (Lossless Only)";
    if (uid == "1.2.840.10008.1.2.4.202")
        return "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)";
    if (uid == "1.2.840.10008.1.2.4.203")
        return "High-Throughput JPEG 2000 Image Compression";
    return nullptr;
}

bool isJpeg2000(const std::string& uid)
{
    return uid == "1.2.840.10008.1.2.4.90" || uid == "1.2.840.10008.1.2.4.91" || htj2kName(uid);
}

/// DCMTK 3.6.7 predates the HTJ2K transfer syntaxes: it reads such a data set as plain
/// explicit VR little endian and keeps its pixel sequence out of reach of the public calls.
/// They encode the data set exactly as JPEG 2000 does, so read it again from the end of the
/// meta header as JPEG 2000 (from the file's bytes, kept in `holder`); the caller keeps the
/// meta header's UID.
bool rereadAsJpeg2000(const Source& src, DcmFileFormat& file, std::vector<uint8_t>& holder)
{
    const uint8_t* bytes = nullptr;
    std::size_t size = 0;
    if (!src.bytes(holder, bytes, size))
        return false;
    const offile_off_t offset = dataSetOffset(file, bytes, size);
    return offset >= 0 && readDataSet(file, bytes, size, offset, EXS_JPEG2000LosslessOnly).good();
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

/// A LUT descriptor (entries, first mapped value, bits). The first mapped value is signed when
/// the element is SS or the pixels are signed (PS3.3 C.7.6.3.1.5).
bool lutDescriptor(DcmItem* item, const DcmTagKey& key, bool signedPixels, long out[3])
{
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el).bad() || !el || el->getVM() < 3)
        return false;
    Uint16 v[3];
    for (unsigned long i = 0; i < 3; ++i) {
        Sint16 s = 0;
        if (el->getUint16(v[i], i).bad()) {
            if (el->getSint16(s, i).bad())
                return false;
            v[i] = static_cast<Uint16>(s);
        }
    }
    out[0] = v[0] == 0 ? 65536 : v[0];
    out[1] = (signedPixels || el->ident() == EVR_SS) ? long(static_cast<Sint16>(v[1])) : long(v[1]);
    out[2] = v[2];
    return true;
}

/// The value of an OW (or US, OB) element as 16-bit words in host order and as its bytes in
/// file order.
bool wordsAndBytes(DcmItem* item, const DcmTagKey& key, bool bigEndian, std::vector<uint16_t>& words,
                   std::vector<uint16_t>& bytes)
{
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el).bad() || !el)
        return false;
    const Uint32 length = el->getLength();
    Uint16* w = nullptr;
    Uint8* b = nullptr;
    words.clear();
    bytes.clear();
    if (el->getUint16Array(w).good() && (w || length == 0)) {
        // DCMTK holds OW in host order: serialise each word back in the data set's order.
        for (Uint32 i = 0; i < length / 2; ++i) {
            words.push_back(w[i]);
            const uint16_t hi = w[i] >> 8, lo = w[i] & 0xFF;
            bytes.push_back(bigEndian ? hi : lo);
            bytes.push_back(bigEndian ? lo : hi);
        }
    } else if (el->getUint8Array(b).good() && (b || length == 0)) {
        bytes.assign(b, b + length);
        for (Uint32 i = 0; i + 1 < length; i += 2)
            words.push_back(bigEndian ? uint16_t(b[i] << 8 | b[i + 1]) : uint16_t(b[i + 1] << 8 | b[i]));
    } else {
        return false;
    }
    return true;
}

/// The palette of a PALETTE COLOR image: plain or segmented LUT data, 8 or 16 bits.
Result<PaletteLut> readPalette(DcmItem* ds, bool signedPixels, bool bigEndian)
{
    using R = Result<PaletteLut>;
    long desc[3];
    if (!lutDescriptor(ds, DCM_RedPaletteColorLookupTableDescriptor, signedPixels, desc))
        return R::failure("PALETTE COLOR image without a Red Palette Color Lookup Table Descriptor");
    const std::size_t entries = static_cast<std::size_t>(desc[0]);
    if (desc[2] != 8 && desc[2] != 16)
        return R::failure("palette lookup table with " + std::to_string(desc[2]) + " bits per entry");
    const DcmTagKey plain[3] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                                DCM_BluePaletteColorLookupTableData};
    const DcmTagKey segmented[3] = {DCM_SegmentedRedPaletteColorLookupTableData,
                                    DCM_SegmentedGreenPaletteColorLookupTableData,
                                    DCM_SegmentedBluePaletteColorLookupTableData};
    static const char* const names[3] = {"red", "green", "blue"};
    PaletteLut lut;
    lut.firstMapped = static_cast<int>(desc[1]);
    bool byteEntries = false;
    std::vector<uint16_t> words, bytes;
    for (int c = 0; c < 3; ++c) {
        std::vector<uint16_t>& out = lut.rgb[c];
        if (wordsAndBytes(ds, plain[c], bigEndian, words, bytes)) {
            // 8-bit entries are packed two to a word; 16-bit entries (or 8-bit ones padded to
            // 16 bits, whose low byte counts) fill a word each.
            if (bytes.size() == entries || bytes.size() == entries + 1) {
                out.assign(bytes.begin(), bytes.begin() + long(entries));
                byteEntries = true;
            } else if (bytes.size() == 2 * entries) {
                out = words;
                if (desc[2] == 8)
                    for (uint16_t& v : out)
                        v &= 0xFF;
            } else {
                return R::failure(std::string("the ") + names[c] + " palette lookup table holds " +
                                  std::to_string(bytes.size()) + " bytes for " + std::to_string(entries) + " entries");
            }
        } else if (wordsAndBytes(ds, segmented[c], bigEndian, words, bytes)) {
            auto expanded = expandSegmentedLut(desc[2] == 8 ? bytes : words, int(desc[2]), bigEndian, entries);
            if (!expanded)
                return R::failure(expanded.error());
            if (expanded->empty())
                return R::failure(std::string("the segmented ") + names[c] + " palette lookup table is empty");
            out = expanded.value();
            out.resize(entries, out.back()); // a short table repeats its last entry
        } else {
            return R::failure(std::string("PALETTE COLOR image without ") + names[c] + " palette lookup table data");
        }
    }
    lut.bits = desc[2] == 8 || byteEntries ? 8 : 16;
    return lut;
}

/// DCMTK's parser options are process-wide flags: loads share this lock, and a load that
/// changes a flag for itself holds it alone.
std::shared_mutex& parserFlagsMutex()
{
    static std::shared_mutex m;
    return m;
}

Result<Image> fail(const std::string& msg)
{
    return Result<Image>::failure(msg);
}

Result<Image> load(const Source& src, const LoadOptions& options)
{
    registerCodecsOnce();
    DcmFileFormat file;
    auto looksLikeDicom = [](DcmFileFormat& f) {
        DcmDataset* d = f.getDataset();
        return d && (d->tagExists(DCM_Rows) || d->tagExists(DCM_SOPClassUID) || d->tagExists(DCM_PixelData));
    };
    // The bytes that values not yet loaded are read from, when not the source itself.
    std::vector<uint8_t> inflated, rereadBytes;
    bool deflated = false;
    {
        std::shared_lock<std::shared_mutex> lock(parserFlagsMutex());
        auto d = readDeflated(src, file, inflated);
        if (!d)
            return fail(d.error());
        deflated = d.value();
    }
    if (deflated && !looksLikeDicom(file))
        return fail("no pixel data: a DICOM data set without image attributes (Rows, SOP Class, Pixel Data)");
    // Auto-detection first; files without a usable meta header (no preamble, or no
    // Transfer Syntax UID) get the common encodings tried in turn, as other toolkits do.
    OFCondition cond;
    OFCondition first;
    if (!deflated) {
        std::shared_lock<std::shared_mutex> lock(parserFlagsMutex());
        cond = loadFrom(file, src, EXS_Unknown, ERM_autoDetect);
        first = cond;
        if (cond.bad() || !looksLikeDicom(file)) {
            for (E_TransferSyntax ts : {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit, EXS_BigEndianExplicit}) {
                DcmFileFormat retry;
                if (loadFrom(retry, src, ts, ERM_dataset).good()) {
                    file = retry;
                    if (looksLikeDicom(file)) {
                        cond = EC_Normal;
                        break;
                    }
                }
                cond = first.bad() ? first : makeOFCondition(0, 1, OF_error, "no DICOM image attributes");
            }
        }
    }
    // It parsed as DICOM but holds no image (a report, a plan, a bare sequence).
    if (cond.bad() && first.good())
        return fail("no pixel data: a DICOM data set without image attributes (Rows, SOP Class, Pixel Data)");
    if (cond.bad()) {
        // A data set written in implicit VR behind a meta header that says explicit VR (as
        // some writers did): pydicom reads it, and so does DCMTK when told to read elements
        // whose VR field is not a VR as implicit VR. The transfer syntax (e.g. JPEG) still
        // comes from the meta header. DCMTK keeps that option in a process-wide flag.
        DcmFileFormat tolerant;
        std::unique_lock<std::shared_mutex> lock(parserFlagsMutex());
        dcmAcceptUnexpectedImplicitEncoding.set(OFTrue);
        const OFCondition c = loadFrom(tolerant, src, EXS_Unknown, ERM_fileOnly);
        dcmAcceptUnexpectedImplicitEncoding.set(OFFalse);
        if (c.good() && looksLikeDicom(tolerant)) {
            file = tolerant;
            cond = EC_Normal;
        }
    }
    if (cond.bad())
        return fail(std::string("not a readable DICOM file (") + cond.text() + ")");
    const std::string metaSyntax = getString(file.getMetaInfo(), DCM_TransferSyntaxUID);
    const bool htj2kUnknownToDcmtk =
        htj2kName(metaSyntax) && !DcmXfer(file.getDataset()->getOriginalXfer()).isEncapsulated();
    if (htj2kUnknownToDcmtk) {
        std::shared_lock<std::shared_mutex> lock(parserFlagsMutex());
        if (!rereadAsJpeg2000(src, file, rereadBytes))
            return fail("cannot read the HTJ2K data set");
    }
    DcmDataset* ds = file.getDataset();
    if (!ds || ds->card() == 0)
        return fail("not a DICOM file: no data elements");
    ds->convertToUTF8(); // best effort; names stay as stored when the charset is unknown

    Image img;
    img.format = "DICOM";
    img.sourcePath = src.path;
    const E_TransferSyntax xfer = ds->getOriginalXfer();
    DcmXfer xf(xfer);
    img.transferSyntaxUid = xf.getXferID();
    img.transferSyntaxName = xf.getXferName();
    if (htj2kUnknownToDcmtk) {
        img.transferSyntaxUid = metaSyntax;
        img.transferSyntaxName = htj2kName(metaSyntax);
    } else if (deflated) {
        img.transferSyntaxUid = UID_DeflatedExplicitVRLittleEndianTransferSyntax;
        img.transferSyntaxName = DcmXfer(EXS_DeflatedLittleEndianExplicit).getXferName();
    } else if (img.transferSyntaxUid.empty()) {
        img.transferSyntaxUid = getString(file.getMetaInfo(), DCM_TransferSyntaxUID);
        img.transferSyntaxName = dcmFindNameOfUID(img.transferSyntaxUid.c_str(), "unknown transfer syntax");
    }

    for (const auto& k : kKeyTags) {
        std::string v = getString(ds, k.key);
        if (!v.empty())
            img.keyTags[k.keyword] = v;
    }
    if (options.tags) {
        dumpItem(file.getMetaInfo(), 0, img.tags);
        dumpItem(ds, 0, img.tags);
    }

    DcmElement* pixelElement = nullptr;
    DcmElement* floatElement = nullptr; // Float or Double Float Pixel Data (parametric maps)
    if (ds->findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement) {
        pixelElement = nullptr;
        if ((ds->findAndGetElement(DCM_FloatPixelData, floatElement).bad() &&
             ds->findAndGetElement(DCM_DoubleFloatPixelData, floatElement).bad()) ||
            !floatElement)
            floatElement = nullptr;
    }
    const bool isDouble = floatElement && floatElement->getTag() == DCM_DoubleFloatPixelData;
    if (!pixelElement && !floatElement) {
        const std::string sop = getString(ds, DCM_SOPClassUID);
        const char* name = sop.empty() ? nullptr : dcmFindNameOfUID(sop.c_str(), nullptr);
        return fail(std::string("no pixel data: this DICOM object is not an image") +
                    (name          ? std::string(" (") + name + ")"
                     : sop.empty() ? ""
                                   : " (SOP class " + sop + ")"));
    }
    // DCMTK makes Pixel Data a DcmPixelData only when its VR is OB or OW (or implied); a
    // corrupt VR leaves a plain element that the pixel calls below must not be made on.
    auto* pixelData = dynamic_cast<DcmPixelData*>(pixelElement);
    if (pixelElement && !pixelData)
        return fail("corrupt Pixel Data element: its value representation is not OB or OW");

    Uint16 rows = 0, cols = 0, samples = 1, bitsAllocated = 0, bitsStored = 0, highBit = 0, pixelRep = 0, planar = 0;
    if (!getUint16(ds, DCM_Rows, rows) || !getUint16(ds, DCM_Columns, cols))
        return fail("missing Rows or Columns");
    if (!getUint16(ds, DCM_BitsAllocated, bitsAllocated)) {
        if (!floatElement)
            return fail("missing Bits Allocated");
        bitsAllocated = isDouble ? 64 : 32;
    }
    if (!getUint16(ds, DCM_SamplesPerPixel, samples))
        samples = 1;
    if (!getUint16(ds, DCM_BitsStored, bitsStored))
        bitsStored = bitsAllocated;
    if (!getUint16(ds, DCM_HighBit, highBit))
        highBit = bitsStored - 1;
    getUint16(ds, DCM_PixelRepresentation, pixelRep);
    getUint16(ds, DCM_PlanarConfiguration, planar);
    if (rows == 0 || cols == 0)
        return fail("image has zero rows or columns");
    if (samples != 1 && samples != 3)
        return fail("unsupported Samples per Pixel " + std::to_string(samples));
    if (floatElement) {
        if (bitsAllocated != (isDouble ? 64 : 32))
            return fail(std::string(isDouble ? "Double Float" : "Float") + " Pixel Data with Bits Allocated " +
                        std::to_string(bitsAllocated));
        if (samples != 1)
            return fail("float pixel data with " + std::to_string(samples) + " samples per pixel is not supported");
    } else if (bitsAllocated != 1 && bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32) {
        return fail("unsupported Bits Allocated " + std::to_string(bitsAllocated));
    }
    if (bitsStored == 0 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored)
        return fail("inconsistent Bits Stored / High Bit (" + std::to_string(bitsStored) + "/" +
                    std::to_string(highBit) + ")");
    std::string photometric = getString(ds, DCM_PhotometricInterpretation);
    if (photometric.empty())
        photometric = samples == 3 ? "RGB" : "MONOCHROME2";
    // PALETTE COLOR: the indices decode like grey samples, then the palette gives RGB.
    const bool palette = photometric == "PALETTE COLOR";
    PaletteLut paletteLut;
    if (palette) {
        if (floatElement || samples != 1 || (bitsAllocated != 8 && bitsAllocated != 16))
            return fail("unsupported PALETTE COLOR layout (" + std::to_string(samples) + " samples of " +
                        std::to_string(bitsAllocated) + " bits)");
        auto lut = readPalette(ds, pixelRep == 1, DcmXfer(xfer).getByteOrder() == EBO_BigEndian);
        if (!lut)
            return fail(lut.error());
        paletteLut = lut.value();
    }

    long frames = 1;
    {
        Sint32 nf = 1;
        if (ds->findAndGetSint32(DCM_NumberOfFrames, nf).good() && nf > 0)
            frames = nf;
    }
    img.frameCount = static_cast<int>(frames);
    if (options.frame < 0 || options.frame >= frames)
        return fail("frame " + std::to_string(options.frame + 1) + " requested, file has " + std::to_string(frames));
    img.frameIndex = options.frame;

    // Unsigned 32-bit samples become doubles (8 bytes), other 32-bit ones int32 or float.
    const std::size_t outBytes = floatElement          ? bitsAllocated / 8
                                 : bitsAllocated == 32 ? (pixelRep == 0 && bitsStored == 32 ? 8 : 4)
                                 : bitsAllocated > 8   ? 2
                                                       : 1;
    if (auto ok = palette ? checkFrameSize(cols, rows, 3, paletteLut.bits / 8, options.maxBytes)
                          : checkFrameSize(cols, rows, samples, outBytes, options.maxBytes);
        !ok)
        return fail(ok.error());

    // --- pixel values of the requested frame ---
    cv::Mat pixels;
    std::string colorModel = photometric;
    if (floatElement) {
        // Native only (PS3.5 8.2): DCMTK has swapped the values to host order.
        const std::size_t perFrame = std::size_t(rows) * cols;
        const std::size_t have = floatElement->getLength() / (bitsAllocated / 8);
        if (have < perFrame * (options.frame + 1))
            return fail("truncated float pixel data: " + std::to_string(have) + " of " +
                        std::to_string(perFrame * (options.frame + 1)) + " values");
        if (isDouble) {
            Float64* values = nullptr;
            if (floatElement->getFloat64Array(values).bad() || !values)
                return fail("cannot read Double Float Pixel Data");
            pixels = cv::Mat(rows, cols, CV_64F, values + perFrame * options.frame).clone();
        } else {
            Float32* values = nullptr;
            if (floatElement->getFloat32Array(values).bad() || !values)
                return fail("cannot read Float Pixel Data");
            pixels = cv::Mat(rows, cols, CV_32F, values + perFrame * options.frame).clone();
        }
    } else if (isJpeg2000(img.transferSyntaxUid)) {
        DcmPixelSequence* seq = nullptr;
        if (pixelData->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq)
            return fail("JPEG 2000 transfer syntax but the pixel data is not encapsulated");
        auto frame = encapsulatedFrame(seq, options.frame, static_cast<int>(frames));
        if (!frame)
            return fail(frame.error());
        Jpeg2000Expect expect;
        expect.rows = rows;
        expect.cols = cols;
        expect.samples = samples;
        expect.bitsAllocated = bitsAllocated;
        expect.bitsStored = bitsStored;
        expect.isSigned = pixelRep == 1;
        expect.maxBytes = options.maxBytes;
        auto decoded = decodeJpeg2000(frame->data(), frame->size(), expect);
        if (!decoded)
            return fail(decoded.error());
        pixels = decoded.value();
        if (samples == 3)
            colorModel = "RGB"; // the codestream's inverse colour transform yields RGB
    } else {
        if (xf.isEncapsulated() && !pixelData->hasRepresentation(xfer, nullptr))
            return fail("encapsulated pixel data is missing");
        if (!xf.isEncapsulated()) {
            const std::size_t bitsPerFrame = std::size_t(rows) * cols * samples * bitsAllocated;
            const std::size_t needed = (bitsPerFrame * (options.frame + 1) + 7) / 8;
            const Uint32 have = pixelData->getLength(xfer);
            if (photometric == "YBR_FULL_422") {
                // Horizontally subsampled: Y1 Y2 Cb Cr for each pair of pixels (PS3.3 C.7.6.3.1.2).
                if (bitsAllocated != 8 || samples != 3 || (cols % 2) != 0)
                    return fail("unsupported uncompressed YBR_FULL_422 layout");
                const std::size_t frameBytes = std::size_t(rows) * cols * 2;
                Uint8* raw = nullptr;
                if (pixelData->getUint8Array(raw).bad() || !raw || have < frameBytes * (options.frame + 1))
                    return fail("truncated YBR_FULL_422 pixel data");
                const Uint8* src = raw + frameBytes * options.frame;
                pixels.create(rows, cols, CV_8UC3);
                for (int y = 0; y < rows; ++y) {
                    auto* d = pixels.ptr<cv::Vec3b>(y);
                    const Uint8* s = src + std::size_t(y) * cols * 2;
                    for (int x = 0; x < cols; x += 2, s += 4) {
                        d[x] = cv::Vec3b(s[0], s[2], s[3]);
                        d[x + 1] = cv::Vec3b(s[1], s[2], s[3]);
                    }
                }
                colorModel = "YBR_FULL";
            } else if (have < needed)
                return fail("truncated pixel data: " + std::to_string(have) + " of " + std::to_string(needed) +
                            " bytes");
        } else if (bitsAllocated == 1) {
            return fail("compressed 1-bit pixel data is not supported");
        }
    }
    if (pixels.empty() && !floatElement && !isJpeg2000(img.transferSyntaxUid)) {
        Uint32 frameSize = 0;
        if (pixelData->getUncompressedFrameSize(ds, frameSize).bad() || frameSize == 0)
            return fail("cannot determine the frame size");
        std::vector<uint8_t> buffer(frameSize + (frameSize & 1));
        Uint32 startFragment = 0;
        if (xfer == EXS_RLELossless) {
            DcmPixelSequence* seq = nullptr;
            if (pixelData->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq)
                return fail("RLE transfer syntax but the pixel data is not encapsulated");
            auto start = rleStartFragment(seq, options.frame, frames, int(samples) * (bitsAllocated / 8));
            if (!start)
                return fail(start.error());
            startFragment = start.value();
        }
        OFString decompressedModel;
        cond = pixelData->getUncompressedFrame(ds, static_cast<Uint32>(options.frame), startFragment, buffer.data(),
                                               static_cast<Uint32>(buffer.size()), decompressedModel);
        if (cond.bad())
            return fail(std::string("cannot decode pixel data (") + img.transferSyntaxName + "): " + cond.text());
        if (!decompressedModel.empty())
            colorModel = decompressedModel.c_str();

        if (bitsAllocated == 1) {
            pixels.create(rows, cols, CV_8UC1);
            const std::size_t n = std::size_t(rows) * cols;
            for (std::size_t i = 0; i < n; ++i)
                pixels.data[i] = (buffer[i >> 3] >> (i & 7)) & 1;
            bitsStored = 1;
            highBit = 0;
        } else {
            if (bitsAllocated == 32 && xf.getByteOrder() == EBO_BigEndian) {
                // DCMTK swaps OW pixel data to host order in 16-bit words; 32-bit samples
                // then need their halves exchanged.
                auto* w = reinterpret_cast<uint32_t*>(buffer.data());
                for (std::size_t i = 0; i < buffer.size() / 4; ++i)
                    w[i] = (w[i] << 16) | (w[i] >> 16);
            }
            int depth = bitsAllocated == 8 ? CV_8U : bitsAllocated == 16 ? CV_16U : CV_32S;
            cv::Mat raw;
            if (samples == 3 && planar == 1) {
                const std::size_t plane = std::size_t(rows) * cols * (bitsAllocated / 8);
                std::vector<cv::Mat> planes;
                for (int c = 0; c < 3; ++c)
                    planes.emplace_back(rows, cols, depth, buffer.data() + c * plane);
                cv::merge(planes, raw);
            } else {
                raw = cv::Mat(rows, cols, CV_MAKETYPE(depth, samples), buffer.data()).clone();
            }
            if (pixelRep == 1) {
                if (depth == CV_8U) {
                    raw.convertTo(raw, CV_16S); // temporarily unsigned copy, sign fixed below
                    raw.forEach<int16_t>([](int16_t& v, const int*) { v = static_cast<int8_t>(v & 0xFF); });
                    if (bitsStored < 8) {
                        maskAndExtend<int16_t>(raw, bitsStored, highBit, true);
                    }
                } else if (depth == CV_16U) {
                    raw = cv::Mat(raw.rows, raw.cols, CV_MAKETYPE(CV_16S, raw.channels()), raw.data).clone();
                    maskAndExtend<int16_t>(raw, bitsStored, highBit, true);
                } else {
                    maskAndExtend<int32_t>(raw, bitsStored, highBit, true);
                }
            } else {
                if (depth == CV_8U)
                    maskAndExtend<uint8_t>(raw, bitsStored, highBit, false);
                else if (depth == CV_16U)
                    maskAndExtend<uint16_t>(raw, bitsStored, highBit, false);
                else if (bitsStored == 32) {
                    // Unsigned 32-bit samples reach 2^32 - 1: kept exactly as doubles.
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
            }
            pixels = raw;
        }
    }

    img.pixels = pixels;
    img.isSigned = pixelRep == 1 || floatElement;
    img.isFloat = floatElement != nullptr;
    img.bitsStored = floatElement ? bitsAllocated : bitsStored;

    if (palette) {
        img.pixels = applyPalette(pixels, paletteLut);
        img.photometric = Photometric::Rgb;
        img.bitsStored = paletteLut.bits;
        img.isSigned = false;
    } else if (samples == 3) {
        if (colorModel == "YBR_FULL" || colorModel == "YBR_FULL_422") {
            ybrFullToRgb(img.pixels);
        } else if (colorModel != "RGB" && colorModel != "YBR_RCT" && colorModel != "YBR_ICT" &&
                   colorModel != "YBR_PARTIAL_420") {
            return fail("unsupported colour model " + colorModel);
        }
        img.photometric = Photometric::Rgb;
    } else if (photometric == "MONOCHROME1") {
        img.photometric = Photometric::Monochrome1;
    } else if (photometric == "MONOCHROME2") {
        img.photometric = Photometric::Monochrome2;
    } else {
        return fail("unsupported Photometric Interpretation " + photometric);
    }

    // --- modality LUT (top level, else the functional groups of enhanced objects) ---
    if (samples == 1 && !palette) {
        auto slope = getDoubles(ds, DCM_RescaleSlope);
        auto intercept = getDoubles(ds, DCM_RescaleIntercept);
        if (slope.empty())
            slope = getDoubles(ds, DCM_RescaleSlope, true);
        if (intercept.empty())
            intercept = getDoubles(ds, DCM_RescaleIntercept, true);
        if (!slope.empty() && std::isfinite(slope[0]) && slope[0] != 0.0)
            img.rescaleSlope = slope[0];
        if (!intercept.empty() && std::isfinite(intercept[0]))
            img.rescaleIntercept = intercept[0];
        img.rescaleType = getString(ds, DCM_RescaleType);

        // --- VOI: windows, then the VOI LUT sequence ---
        auto centers = getDoubles(ds, DCM_WindowCenter);
        auto widths = getDoubles(ds, DCM_WindowWidth);
        if (centers.empty()) {
            centers = getDoubles(ds, DCM_WindowCenter, true);
            widths = getDoubles(ds, DCM_WindowWidth, true);
        }
        for (std::size_t i = 0; i < std::min(centers.size(), widths.size()); ++i) {
            if (!std::isfinite(centers[i]) || !std::isfinite(widths[i]) || widths[i] <= 0)
                continue;
            Window w{centers[i], widths[i], {}};
            std::string expl = getString(ds, DCM_WindowCenterWidthExplanation, static_cast<long>(i));
            w.explanation = "FILE " + std::to_string(i + 1) + (expl.empty() ? "" : ": " + expl);
            img.fileWindows.push_back(w);
        }
        DcmItem* voiItem = nullptr;
        if (ds->findAndGetSequenceItem(DCM_VOILUTSequence, voiItem, 0).good() && voiItem) {
            DcmElement* desc = nullptr;
            const Uint16* lut = nullptr;
            unsigned long count = 0;
            if (voiItem->findAndGetElement(DCM_LUTDescriptor, desc).good() && desc && desc->getVM() >= 3 &&
                voiItem->findAndGetUint16Array(DCM_LUTData, lut, &count).good() && lut) {
                Uint16 d0 = 0, d1 = 0, d2 = 0;
                desc->getUint16(d0, 0);
                desc->getUint16(d1, 1);
                desc->getUint16(d2, 2);
                const unsigned long entries = d0 == 0 ? 65536 : d0;
                if (count >= entries && d2 >= 8 && d2 <= 16) {
                    img.voiLut.data.assign(lut, lut + entries);
                    // The first mapped value is signed when the pixel data is.
                    img.voiLut.firstMapped = pixelRep == 1 ? static_cast<Sint16>(d1) : d1;
                    img.voiLut.bits = d2;
                    img.voiLut.explanation = getString(voiItem, DCM_LUTExplanation);
                }
            }
        }
    }

    // --- spacing ---
    auto spacing = getDoubles(ds, DCM_PixelSpacing);
    img.spacingSource = "PixelSpacing";
    if (spacing.size() < 2) {
        spacing = getDoubles(ds, DCM_ImagerPixelSpacing);
        img.spacingSource = "ImagerPixelSpacing";
    }
    if (spacing.size() < 2) {
        spacing = getDoubles(ds, DCM_PixelSpacing, true);
        img.spacingSource = "PixelSpacing";
    }
    if (spacing.size() >= 2 && spacing[0] > 0 && spacing[1] > 0 && std::isfinite(spacing[0]) &&
        std::isfinite(spacing[1])) {
        img.spacingRow = spacing[0];
        img.spacingCol = spacing[1];
    } else {
        img.spacingSource.clear();
    }

    img.autoWindow = computeAutoWindow(img);
    return img;
}

} // namespace

Result<Image> loadDicom(const std::string& path, const LoadOptions& options)
{
    Source src;
    src.path = path;
    return load(src, options);
}

Result<Image> loadDicom(const uint8_t* data, std::size_t size, const LoadOptions& options)
{
    if (!data || size == 0)
        return fail("empty file (0 bytes)");
    Source src;
    src.data = data;
    src.size = size;
    return load(src, options);
}

} // namespace lightbox::imaging::detail
