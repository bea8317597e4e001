#pragma once

#include "Image.h"
#include <base/Result.h>

#include <opencv2/core/mat.hpp>

#include <string>

namespace lightbox::imaging {

/// What a Secondary Capture says about itself.
struct SecondaryCaptureInfo {
    std::string derivation;        ///< Derivation Description: what was rendered ("view with ...")
    std::string seriesDescription; ///< e.g. "Lightbox view"
};

/// The identifiers a written Secondary Capture got.
struct WrittenSecondaryCapture {
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::string sopInstanceUid;
    bool deidentified = false; ///< the source was no DICOM: placeholders stand for the patient
};

/// Writes `rgb` (8-bit, 3 channels, RGB order: a rendered view with its overlays) as a DICOM
/// Secondary Capture Image (explicit VR little endian) in the study of `source`: the
/// patient and study attributes and the Study Instance UID are the source's, the Series and
/// SOP Instance UIDs are new, Image Type DERIVED\SECONDARY, Burned In Annotation YES, and
/// `info` names the derivation. A source that is no DICOM gets de-identified placeholders
/// (patient "ANONYMOUS", an ID from the file's key, a new study). Written to a temporary file
/// and renamed, so `path` is never left half-written.
Result<WrittenSecondaryCapture> writeSecondaryCapture(const cv::Mat& rgb, const Image& source,
                                                      const SecondaryCaptureInfo& info, const std::string& path);

/// Writes a PDF document (the report) as a DICOM Encapsulated PDF in the study of `source`,
/// with the same patient and study attributes as writeSecondaryCapture() and a new series
/// (Modality DOC). Written to a temporary file and renamed.
Result<WrittenSecondaryCapture> writeEncapsulatedPdf(const std::string& pdf, const Image& source,
                                                     const std::string& title, const std::string& path);

} // namespace lightbox::imaging
