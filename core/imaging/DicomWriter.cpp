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
    out.deidentified = !fromDicom;
    out.studyInstanceUid = fromDicom ? source.keyTag("StudyInstanceUID") : newUid();
    out.seriesInstanceUid = newUid();
    out.sopInstanceUid = newUid();

    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
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

    // Series and instance: new.
    std::string date, time;
    now(date, time);
    put(DCM_SeriesInstanceUID, out.seriesInstanceUid);
    put(DCM_SeriesNumber, "9901");
    put(DCM_SeriesDescription, info.seriesDescription.empty() ? "Lightbox view" : info.seriesDescription);
    put(DCM_Modality, "OT");
    put(DCM_ConversionType, "WSD"); // workstation
    put(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    put(DCM_SOPInstanceUID, out.sopInstanceUid);
    put(DCM_InstanceNumber, "1");
    put(DCM_ContentDate, date);
    put(DCM_ContentTime, time);
    put(DCM_InstanceCreationDate, date);
    put(DCM_InstanceCreationTime, time);
    put(DCM_ImageType, "DERIVED\\SECONDARY");
    put(DCM_DerivationDescription, info.derivation.substr(0, 1024));
    put(DCM_BurnedInAnnotation, "YES");
    put(DCM_Manufacturer, "Lightbox");
    put(DCM_SpecificCharacterSet, "ISO_IR 192"); // UTF-8: names and labels as they are
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

    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const OFCondition saved = file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
    if (saved.bad()) {
        std::remove(tmp.c_str());
        return R::failure("cannot write " + path + ": " + saved.text());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        return R::failure("cannot write " + path + ": " + std::strerror(err));
    }
    return out;
}

} // namespace lightbox::imaging
