#pragma once

// Small file helpers shared by core/data's data-set, leakage and loader code. Internal to
// core/data (not installed, not used above it).

#include <cstdint>
#include <string>

namespace lightbox::data {

/// Natural order, case-insensitive: digit runs compare by value ("img2" < "img10").
bool naturalLess(const std::string& a, const std::string& b);

/// True for a .dcm/.dicom/.dic file, or one without a raster extension whose content is DICOM.
bool looksLikeDicom(const std::string& path);

/// PatientID (0010,0020) of a DICOM file, read from the header only (the pixel data is not
/// loaded); empty when the file has none or cannot be parsed.
std::string dicomPatientId(const std::string& path);

/// Width and height from the file header (PNG, JPEG, BMP, DICOM) without decoding pixels;
/// other formats are decoded. False when the size cannot be read.
bool imageSize(const std::string& path, int& width, int& height);

} // namespace lightbox::data
