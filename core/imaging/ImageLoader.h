#pragma once

#include "Image.h"
#include <base/Result.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lightbox::imaging {

/// What a file looks like from its first bytes, whatever its extension says.
enum class FileKind { Unknown, Empty, Dicom, Png, Jpeg, Tiff, Bmp, Jpeg2000 };

const char* toString(FileKind kind);

/// Guesses the format from the content (magic numbers), not the extension. A DICOM file
/// without the 128-byte preamble (a bare data set) sniffs as Unknown and is tried as DICOM.
FileKind sniffFile(const std::string& path);
/// The same for the first bytes of a file (132 are enough).
FileKind sniffBytes(const uint8_t* data, std::size_t size);

struct LoadOptions {
    int frame = 0;     ///< frame of a multi-frame DICOM, 0-based
    bool tags = false; ///< fill Image::tags with the full tag dump
    /// Refuse images whose decoded frame would exceed this many bytes (checked from the
    /// header, before anything is allocated).
    std::size_t maxBytes = std::size_t(1) << 30;
};

/// Loads a radiograph: DICOM (all common transfer syntaxes, JPEG 2000 included) through
/// DCMTK and OpenJPEG, PNG/JPEG/TIFF/BMP through OpenCV. Never throws: a corrupt,
/// truncated, empty or unsupported file gives a failed Result with a one-line reason.
/// Thread-safe.
Result<Image> loadImage(const std::string& path, const LoadOptions& options = {});

/// loadImage() for a file's bytes in memory (a download, an archive member, a fuzzer's
/// input): the same formats, checks and messages; Image::sourcePath stays empty.
Result<Image> loadImage(const uint8_t* data, std::size_t size, const LoadOptions& options = {});

/// The maximum frame size (in bytes) accepted for a width x height x channels image of
/// bytesPerSample, with a message when it is refused. Shared by every decoder.
Result<bool> checkFrameSize(std::size_t width, std::size_t height, std::size_t channels, std::size_t bytesPerSample,
                            std::size_t maxBytes);

} // namespace lightbox::imaging
