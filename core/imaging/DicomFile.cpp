// Stage 1 of reading a DICOM image (DicomStages.h): the file's bytes parsed by DCMTK, from a
// path or from memory. Deflated data sets are inflated here, files without a usable meta
// header get the common encodings tried in turn, implicit VR behind an explicit VR header is
// tolerated, and HTJ2K data sets (which DCMTK 3.6.7 does not know) are read again as JPEG 2000.
#include "DicomStages.h"

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <shared_mutex>

namespace lightbox::imaging::detail::dicom {
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

/// DcmFileFormat::loadFile for either source: the same steps as DCMTK's loadFileUntilTag.
OFCondition loadFrom(DcmFileFormat& file, const Source& src, E_TransferSyntax xfer, E_FileReadMode mode)
{
    if (!src.inMemory())
        return file.loadFile(src.path.c_str(), xfer, EGL_noChange, DCM_MaxReadLength, mode);
    if (mode == ERM_dataset)
        return readDataSet(file, src.data, src.size, 0, xfer);
    MemoryInputStream stream(src.data, static_cast<offile_off_t>(src.size), 0);
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

/// DCMTK's parser options are process-wide flags: loads share this lock, and a load that
/// changes a flag for itself holds it alone.
std::shared_mutex& parserFlagsMutex()
{
    static std::shared_mutex m;
    return m;
}

} // namespace

bool Source::bytes(std::vector<uint8_t>& holder, const uint8_t*& out, std::size_t& outSize) const
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

Result<bool> parseFile(const Source& src, ParsedFile& out)
{
    registerCodecsOnce();
    DcmFileFormat& file = out.file;
    auto looksLikeDicom = [](DcmFileFormat& f) {
        DcmDataset* d = f.getDataset();
        return d && (d->tagExists(DCM_Rows) || d->tagExists(DCM_SOPClassUID) || d->tagExists(DCM_PixelData));
    };
    const char* const notAnImage =
        "no pixel data: a DICOM data set without image attributes (Rows, SOP Class, Pixel Data)";
    bool deflated = false;
    {
        std::shared_lock<std::shared_mutex> lock(parserFlagsMutex());
        auto d = readDeflated(src, file, out.inflated);
        if (!d)
            return Result<bool>::failure(d.error());
        deflated = d.value();
    }
    if (deflated && !looksLikeDicom(file))
        return Result<bool>::failure(notAnImage);
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
        return Result<bool>::failure(notAnImage);
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
        return Result<bool>::failure(std::string("not a readable DICOM file (") + cond.text() + ")");
    const std::string metaSyntax = getString(file.getMetaInfo(), DCM_TransferSyntaxUID);
    const bool htj2kUnknownToDcmtk =
        htj2kName(metaSyntax) && !DcmXfer(file.getDataset()->getOriginalXfer()).isEncapsulated();
    if (htj2kUnknownToDcmtk) {
        std::shared_lock<std::shared_mutex> lock(parserFlagsMutex());
        if (!rereadAsJpeg2000(src, file, out.reread))
            return Result<bool>::failure("cannot read the HTJ2K data set");
    }
    DcmDataset* ds = file.getDataset();
    if (!ds || ds->card() == 0)
        return Result<bool>::failure("not a DICOM file: no data elements");
    ds->convertToUTF8(); // best effort; names stay as stored when the charset is unknown

    TransferSyntax& ts = out.syntax;
    ts.xfer = ds->getOriginalXfer();
    const DcmXfer xf(ts.xfer);
    ts.uid = xf.getXferID();
    ts.name = xf.getXferName();
    if (htj2kUnknownToDcmtk) {
        ts.uid = metaSyntax;
        ts.name = htj2kName(metaSyntax);
    } else if (deflated) {
        ts.uid = UID_DeflatedExplicitVRLittleEndianTransferSyntax;
        ts.name = DcmXfer(EXS_DeflatedLittleEndianExplicit).getXferName();
    } else if (ts.uid.empty()) {
        ts.uid = metaSyntax;
        ts.name = dcmFindNameOfUID(ts.uid.c_str(), "unknown transfer syntax");
    }
    return true;
}

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

} // namespace lightbox::imaging::detail::dicom
