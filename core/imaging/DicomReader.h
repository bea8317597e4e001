#pragma once

#include "Image.h"
#include "ImageLoader.h"
#include "Result.h"

#include <string>

namespace lightbox::imaging::detail {

/// Reads a DICOM file (with or without the Part 10 header) through DCMTK. Internal: use
/// loadImage(), which dispatches here by content.
Result<Image> loadDicom(const std::string& path, const LoadOptions& options);

} // namespace lightbox::imaging::detail
