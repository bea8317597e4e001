#include "SyntheticStudy.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <QDir>

namespace lightbox::test {

MadeStudy makeStudy(const QString& dir, const Synthetic& s)
{
    MadeStudy made;
    char uid[100];
    made.studyUid = dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT);
    QDir().mkpath(dir);
    for (int se = 0; se < s.series; ++se) {
        const std::string seriesUid = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
        made.seriesUids.push_back(seriesUid);
        for (int im = 0; im < s.images; ++im) {
            DcmFileFormat ff;
            DcmDataset* ds = ff.getDataset();
            const std::string sop = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
            ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
            ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
            ds->putAndInsertString(DCM_PatientName, s.patientName.c_str());
            ds->putAndInsertString(DCM_PatientID, s.patientId.c_str());
            ds->putAndInsertString(DCM_StudyInstanceUID, made.studyUid.c_str());
            ds->putAndInsertString(DCM_SeriesInstanceUID, seriesUid.c_str());
            ds->putAndInsertString(DCM_StudyDate, s.studyDate.c_str());
            ds->putAndInsertString(DCM_StudyTime, "101500");
            ds->putAndInsertString(DCM_StudyDescription, "Synthetic study");
            ds->putAndInsertString(DCM_AccessionNumber, s.accession.c_str());
            ds->putAndInsertString(DCM_Modality, s.modality.c_str());
            ds->putAndInsertString(DCM_SeriesNumber, std::to_string(se + 1).c_str());
            ds->putAndInsertString(DCM_SeriesDescription, ("Series " + std::to_string(se + 1)).c_str());
            ds->putAndInsertString(DCM_InstanceNumber, std::to_string(im + 1).c_str());
            ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
            ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
            ds->putAndInsertUint16(DCM_Rows, Uint16(s.size));
            ds->putAndInsertUint16(DCM_Columns, Uint16(s.size));
            ds->putAndInsertUint16(DCM_BitsAllocated, 16);
            ds->putAndInsertUint16(DCM_BitsStored, 12);
            ds->putAndInsertUint16(DCM_HighBit, 11);
            ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
            std::vector<Uint16> pixels(size_t(s.size) * s.size);
            for (size_t i = 0; i < pixels.size(); ++i)
                pixels[i] = Uint16((i * 7 + size_t(se) * 131 + size_t(im) * 17) % 4096);
            ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), unsigned(pixels.size()));
            const std::string path = (dir + "/" + QString::fromStdString(sop) + ".dcm").toStdString();
            if (ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good()) {
                made.files.push_back(path);
                made.sopUids.push_back(sop);
            }
        }
    }
    return made;
}

} // namespace lightbox::test
