#pragma once

// What each libFuzzer harness does with one input, shared by the harnesses (fuzz/*.cpp, built
// with clang and libFuzzer) and the regression suite (tests/tst_fuzz_regressions.cpp, built
// with the normal compiler), so a crash found by a harness is replayed exactly by ctest.
// Every input is a whole file as a user could open it: a DICOM file, a PNG/JPEG/TIFF/BMP, a
// JPEG 2000 codestream or JP2 file, a model card (JSON) or bundle, a data-set CSV or manifest.

#include <cstddef>
#include <cstdint>
#include <string>

namespace lightbox::fuzz {

/// What an input came to: read (and, for images, rendered), or refused with a message.
struct Outcome {
    bool ok = false;
    std::string error;
};

/// loadImage() on the bytes with the full tag dump, then render with the default window and
/// the file's VOI LUT; for a multi-frame file the last frame is loaded as well.
Outcome dicom(const uint8_t* data, std::size_t size);
/// loadImage() on PNG, JPEG, TIFF or BMP bytes (other inputs are left alone), then render.
Outcome raster(const uint8_t* data, std::size_t size);
/// decodeJpeg2000() with the size, components and depth its SIZ marker gives, as a DICOM
/// header that agrees with the codestream would; odd-length inputs claim signed pixels when
/// the codestream says unsigned (and the reverse), so the reinterpretation is covered too.
Outcome jpeg2000(const uint8_t* data, std::size_t size);
/// A model card (input starting with '{' after blanks): ModelCard::fromJsonText(). Anything
/// else is a bundle or TorchScript file: written to a temporary file and read with
/// readModelCard() and loadModel().
Outcome model(const uint8_t* data, std::size_t size);
/// A CSV: a crop manifest (header with source_key) is read with CropManifest::load() and as a
/// data set root; any other CSV as a data set by loadDataset(), beside a few tiny images
/// named a.png, b.png, 1.png, 2.png, img/c.png and x.dcm, with default options and with a
/// task preset's classes, aliases, path pattern and patient pattern.
Outcome csv(const uint8_t* data, std::size_t size);

/// A folder of its own for this process's temporary files (removed at exit).
const std::string& scratchDir();

} // namespace lightbox::fuzz
