#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lightbox::imaging {

/// How stored sample values map to brightness.
enum class Photometric {
    Monochrome1, ///< low values are bright (many CR/DR archives): rendered inverted
    Monochrome2, ///< low values are dark
    Rgb,         ///< three samples per pixel in R, G, B order (never BGR)
};

const char* toString(Photometric p);

/// A window (VOI) in modality units: values below centre - width/2 render black, above
/// centre + width/2 white (before any MONOCHROME1 inversion).
struct Window {
    double center = 0.0;
    double width = 0.0;
    std::string explanation; ///< "FILE 1: LUNG", "AUTO 1-99%", ...
    bool valid() const { return width > 0.0; }
};

/// A VOI lookup table from the file (0028,3010): modality value -> output value.
struct VoiLut {
    int firstMapped = 0; ///< modality value mapped by entry 0
    int bits = 16;       ///< bits of the output values
    std::vector<uint16_t> data;
    std::string explanation;
    bool valid() const { return !data.empty(); }
};

/// One element of the tag dump shown by the tag browser. Sequences appear as an entry with
/// vr "SQ" followed by their items' elements at depth + 1.
struct TagEntry {
    int depth = 0;
    uint16_t group = 0;
    uint16_t element = 0;
    std::string vr;
    std::string name;
    std::string value;             ///< rendered value, shortened for large binary values
    std::string tagString() const; ///< "(0010,0010)"
};

/// An image as loaded from disk: the stored sample values unchanged, plus everything needed
/// to display them (modality LUT, VOI, photometric) and the metadata to show beside them.
///
/// `pixels` holds one frame of stored values: CV_8U, CV_16U, CV_16S or CV_32S with one
/// channel, or CV_8UC3/CV_16UC3 in RGB order. Deeper samples are kept exactly: unsigned
/// 32-bit ones (grey or RGB) as CV_64F/CV_64FC3, Float Pixel Data as CV_32F and Double
/// Float Pixel Data as CV_64F (isFloat). PALETTE COLOR images hold the colours their
/// lookup tables give (CV_8UC3 or CV_16UC3, by the tables' bits), not the indices. Modality
/// values are `stored * rescaleSlope + rescaleIntercept`. Display goes through render()
/// (Render.h).
/// It does not hold other frames of a multi-frame file: load again with another frame index.
struct Image {
    cv::Mat pixels;
    int bitsStored = 8;
    bool isSigned = false;
    /// IEEE floating-point samples (Float / Double Float Pixel Data): windows apply exactly
    /// (DICOM's LINEAR_EXACT), without the half-unit offsets of integer data.
    bool isFloat = false;
    Photometric photometric = Photometric::Monochrome2;
    double rescaleSlope = 1.0;
    double rescaleIntercept = 0.0;
    std::string rescaleType; ///< "HU", "US", ... when the file says

    std::vector<Window> fileWindows; ///< windows stored in the file, in file order
    VoiLut voiLut;                   ///< VOI LUT from the file, if any
    Window autoWindow;               ///< robust automatic window (0.5-99.5 percentiles)

    double spacingRow = 0.0;   ///< mm between rows (0 when unknown)
    double spacingCol = 0.0;   ///< mm between columns (0 when unknown)
    std::string spacingSource; ///< "PixelSpacing", "ImagerPixelSpacing" or empty

    int frameCount = 1;
    int frameIndex = 0;

    std::string format;             ///< "DICOM", "PNG", "JPEG", "TIFF", "BMP"
    std::string transferSyntaxUid;  ///< DICOM only
    std::string transferSyntaxName; ///< DICOM only
    std::string sourcePath;

    /// Key tags by keyword (PatientName, PatientID, PatientBirthDate, StudyDate,
    /// StudyDescription, SeriesDescription, Modality, BodyPartExamined, ViewPosition,
    /// ImageLaterality, Laterality, Manufacturer, SOPInstanceUID, ...); only present ones.
    std::map<std::string, std::string> keyTags;
    std::vector<TagEntry> tags; ///< full dump, filled when LoadOptions::tags is set

    int width() const { return pixels.cols; }
    int height() const { return pixels.rows; }
    int channels() const { return pixels.channels(); }
    bool empty() const { return pixels.empty(); }
    double toModality(double stored) const { return stored * rescaleSlope + rescaleIntercept; }
    /// The stored value of channel `c` at column x, row y, whatever the sample type.
    double sampleAt(int x, int y, int c = 0) const;
    /// The window to start with: the file's first, else the automatic one.
    Window defaultWindow() const { return fileWindows.empty() ? autoWindow : fileWindows.front(); }
    std::string keyTag(const std::string& keyword) const;
};

} // namespace lightbox::imaging
