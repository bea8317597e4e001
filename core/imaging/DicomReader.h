#pragma once

#include "Image.h"
#include "ImageLoader.h"
#include <base/Result.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lightbox::imaging::detail {

/// Reads a DICOM file (with or without the Part 10 header) through DCMTK. Internal: use
/// loadImage(), which dispatches here by content.
Result<Image> loadDicom(const std::string& path, const LoadOptions& options);

/// The same for a file's bytes in memory (parsed exactly as the file would be; `data` is only
/// read during the call).
Result<Image> loadDicom(const uint8_t* data, std::size_t size, const LoadOptions& options);

} // namespace lightbox::imaging::detail
