#include "DicomWriter.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <unistd.h>

namespace lightbox::imaging {
namespace {

std::string newUid()
{
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    return uid;
}

/// "YYYYMMDD" and "HHMMSS" now, local time.
void now(std::string& date, std::string& time)
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char d[16], h[16];
    std::strftime(d, sizeof d, "%Y%m%d", &tm);
    std::strftime(h, sizeof h, "%H%M%S", &tm);
    date = d;
    time = h;
}

/// The patient and study of a derived object: the source's, or de-identified placeholders
/// (and a new study) when the source is no DICOM. Fills the study UID and the flag of `out`.
void putPatientAndStudy(DcmDataset* ds, const Image& source, WrittenSecondaryCapture& out)
{
    const bool fromDicom = source.format == "DICOM" && !source.keyTag("StudyInstanceUID").empty();
    out.deidentified = !fromDicom;
    out.studyInstanceUid = fromDicom ? source.keyTag("StudyInstanceUID") : newUid();
    out.seriesInstanceUid = newUid();
    out.sopInstanceUid = newUid();
    const auto put = [&](const DcmTagKey& key, const std::string& value) {
        ds->putAndInsertString(key, value.c_str());
    };
    // Patient and study: the source's, or placeholders.
    if (fromDicom) {
        for (const auto& [key, keyword] :
             std::initializer_list<std::pair<DcmTagKey, const char*>>{{DCM_PatientName, "PatientName"},
                                                                      {DCM_PatientID, "PatientID"},
                                                                      {DCM_PatientBirthDate, "PatientBirthDate"},
                                                                      {DCM_PatientSex, "PatientSex"},
                                                                      {DCM_PatientAge, "PatientAge"},
                                                                      {DCM_StudyDate, "StudyDate"},
                                                                      {DCM_StudyTime, "StudyTime"},
                                                                      {DCM_StudyDescription, "StudyDescription"},
                                                                      {DCM_AccessionNumber, "AccessionNumber"},
                                                                      {DCM_InstitutionName, "InstitutionName"},
                                                                      {DCM_BodyPartExamined, "BodyPartExamined"},
                                                                      {DCM_Laterality, "Laterality"}})
            put(key, source.keyTag(keyword));
    } else {
        const std::size_t h = std::hash<std::string>{}(source.sourcePath);
        char id[32];
        std::snprintf(id, sizeof id, "LB-%08zX", h & 0xFFFFFFFFu);
        put(DCM_PatientName, "ANONYMOUS");
        put(DCM_PatientID, id);
        put(DCM_PatientBirthDate, "");
        put(DCM_PatientSex, "");
        put(DCM_StudyDate, "");
        put(DCM_StudyTime, "");
        put(DCM_AccessionNumber, "");
        put(DCM_PatientIdentityRemoved, "YES");
    }
    put(DCM_ReferringPhysicianName, "");
    put(DCM_StudyID, "");
    put(DCM_StudyInstanceUID, out.studyInstanceUid);
}

/// The new series and instance of a derived object: UIDs from `out`, today's dates, the
/// workstation as its source.
void putNewInstance(DcmDataset* ds, const WrittenSecondaryCapture& out, const char* seriesNumber,
                    const std::string& seriesDescription, const char* modality, const char* sopClass)
{
    const auto put = [&](const DcmTagKey& key, const std::string& value) {
        ds->putAndInsertString(key, value.c_str());
    };
    std::string date, time;
    now(date, time);
    put(DCM_SeriesInstanceUID, out.seriesInstanceUid);
    put(DCM_SeriesNumber, seriesNumber);
    put(DCM_SeriesDescription, seriesDescription);
    put(DCM_Modality, modality);
    put(DCM_ConversionType, "WSD"); // workstation
    put(DCM_SOPClassUID, sopClass);
    put(DCM_SOPInstanceUID, out.sopInstanceUid);
    put(DCM_InstanceNumber, "1");
    put(DCM_ContentDate, date);
    put(DCM_ContentTime, time);
    put(DCM_InstanceCreationDate, date);
    put(DCM_InstanceCreationTime, time);
    put(DCM_Manufacturer, "Lightbox");
    put(DCM_SpecificCharacterSet, "ISO_IR 192"); // UTF-8: names and labels as they are
}

/// Saves to a temporary file and renames it, so `path` is never left half-written.
Result<bool> saveAtomically(DcmFileFormat& file, const std::string& path)
{
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const OFCondition saved = file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
    if (saved.bad()) {
        std::remove(tmp.c_str());
        return Result<bool>::failure("cannot write " + path + ": " + saved.text());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        return Result<bool>::failure("cannot write " + path + ": " + std::strerror(err));
    }
    return true;
}

} // namespace

Result<WrittenSecondaryCapture> writeSecondaryCapture(const cv::Mat& rgb, const Image& source,
                                                      const SecondaryCaptureInfo& info, const std::string& path)
{
    using R = Result<WrittenSecondaryCapture>;
    if (rgb.empty() || rgb.type() != CV_8UC3)
        return R::failure("a Secondary Capture needs an 8-bit RGB image");
    if (rgb.rows > 65535 || rgb.cols > 65535)
        return R::failure("the image is too large for DICOM (rows and columns must be below 65536)");

    WrittenSecondaryCapture out;
    const bool fromDicom = source.format == "DICOM" && !source.keyTag("StudyInstanceUID").empty();
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    const auto put = [&](const DcmTagKey& key, const std::string& value) {
        ds->putAndInsertString(key, value.c_str());
    };
    putPatientAndStudy(ds, source, out);

    // Series and instance: new.
    putNewInstance(ds, out, "9901", info.seriesDescription.empty() ? "Lightbox view" : info.seriesDescription, "OT",
                   UID_SecondaryCaptureImageStorage);
    put(DCM_ImageType, "DERIVED\\SECONDARY");
    put(DCM_DerivationDescription, info.derivation.substr(0, 1024));
    put(DCM_BurnedInAnnotation, "YES");
    if (fromDicom && !source.keyTag("SOPInstanceUID").empty()) {
        // The image it was derived from.
        DcmItem* item = nullptr;
        if (ds->findOrCreateSequenceItem(DCM_SourceImageSequence, item, -2).good() && item) {
            item->putAndInsertString(DCM_ReferencedSOPClassUID, source.keyTag("SOPClassUID").c_str());
            item->putAndInsertString(DCM_ReferencedSOPInstanceUID, source.keyTag("SOPInstanceUID").c_str());
        }
    }

    // Pixels: 8-bit RGB, interleaved.
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 3);
    put(DCM_PhotometricInterpretation, "RGB");
    ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
    ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rgb.rows));
    ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(rgb.cols));
    ds->putAndInsertUint16(DCM_BitsAllocated, 8);
    ds->putAndInsertUint16(DCM_BitsStored, 8);
    ds->putAndInsertUint16(DCM_HighBit, 7);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    const cv::Mat packed = rgb.isContinuous() ? rgb : rgb.clone();
    ds->putAndInsertUint8Array(DCM_PixelData, packed.ptr<Uint8>(), static_cast<unsigned long>(packed.total() * 3));

    if (auto saved = saveAtomically(file, path); !saved)
        return R::failure(saved.error());
    return out;
}

Result<WrittenSecondaryCapture> writeEncapsulatedPdf(const std::string& pdf, const Image& source,
                                                     const std::string& title, const std::string& path)
{
    using R = Result<WrittenSecondaryCapture>;
    if (pdf.size() < 5 || pdf.compare(0, 5, "%PDF-") != 0)
        return R::failure("not a PDF document");
    if (pdf.size() > 0xFFFFFFF0u)
        return R::failure("the PDF is too large for DICOM");
    WrittenSecondaryCapture out;
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    const auto put = [&](const DcmTagKey& key, const std::string& value) {
        ds->putAndInsertString(key, value.c_str());
    };
    putPatientAndStudy(ds, source, out);
    putNewInstance(ds, out, "9902", "Lightbox report", "DOC", UID_EncapsulatedPDFStorage);
    std::string date, time;
    now(date, time);
    put(DCM_AcquisitionDateTime, date + time);
    put(DCM_BurnedInAnnotation, "YES");
    put(DCM_DocumentTitle, title.substr(0, 64));
    ds->insertEmptyElement(DCM_ConceptNameCodeSequence);
    put(DCM_MIMETypeOfEncapsulatedDocument, "application/pdf");
    // OB values have an even length: a PDF of odd length gets one padding byte (PS3.3 C.24.2).
    std::string value = pdf;
    if (value.size() % 2)
        value.push_back('\0');
    ds->putAndInsertUint8Array(DCM_EncapsulatedDocument, reinterpret_cast<const Uint8*>(value.data()),
                               static_cast<unsigned long>(value.size()));
    ds->putAndInsertUint32(DCM_EncapsulatedDocumentLength, static_cast<Uint32>(pdf.size()));
    if (auto saved = saveAtomically(file, path); !saved)
        return R::failure(saved.error());
    return out;
}

} // namespace lightbox::imaging
