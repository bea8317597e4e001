#pragma once
// Synthetic DICOM studies for the PACS tests: known patient, date, modality and accession,
// `series` x `images` instances of size x size 16-bit pixels, written as files.

#include <QString>

#include <string>
#include <vector>

namespace lightbox::test {

struct Synthetic {
    std::string patientName, patientId, studyDate, modality, accession;
    int series = 1, images = 1, size = 32;
};

struct MadeStudy {
    std::string studyUid;
    std::vector<std::string> seriesUids, files, sopUids;
};

/// Writes the study's files into `dir` (new UIDs each time).
MadeStudy makeStudy(const QString& dir, const Synthetic& s);

} // namespace lightbox::test
