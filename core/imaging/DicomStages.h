#pragma once
// The stages of reading a DICOM image, one file each, so that each can be read and tested on
// its own (tests/tst_dicom_stages.cpp). DicomReader.cpp runs them in this order:
//   1. DicomFile.cpp        the bytes parsed by DCMTK: file or memory, deflated, headerless,
//                           mis-encoded and HTJ2K data sets, and the transfer syntax
//   2. DicomAttributes.cpp  the header: key tags, the tag tree, and the Image Pixel module
//                           (size, bits, photometric, frames, palette), checked
//   3. DicomPixels.cpp      one frame's pixel values (native, DCMTK's decoders, JPEG 2000,
//                           float), and their colour model
//   4. DicomAttributes.cpp  the modality LUT (rescale), the VOI (windows, VOI LUT), spacing
// Internal to core/imaging (it brings in DCMTK's headers): use loadImage().
#include "Image.h"
#include "ImageLoader.h"
#include "PaletteColor.h"
#include <base/Result.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lightbox::imaging::detail::dicom {

/// Where the bytes of a DICOM file come from: a path, or a buffer in memory that outlives
/// every DcmFileFormat read from it.
struct Source {
    std::string path;
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    bool inMemory() const { return data != nullptr; }
    /// The whole file in memory: `data` itself, or the file read into `holder`.
    bool bytes(std::vector<uint8_t>& holder, const uint8_t*& out, std::size_t& outSize) const;
};

// ---- 1. Parsing (DicomFile.cpp) ----

struct TransferSyntax {
    E_TransferSyntax xfer = EXS_Unknown; ///< as DCMTK read the data set
    std::string uid;                     ///< as the file says (HTJ2K and deflated included)
    std::string name;
};

/// A parsed file. Values DCMTK has not loaded yet are read later from the source, or from the
/// bytes kept here (an inflated data set, an HTJ2K file read again): keep it alive while the
/// data set is used, and do not copy it.
struct ParsedFile {
    DcmFileFormat file;
    std::vector<uint8_t> inflated;
    std::vector<uint8_t> reread;
    TransferSyntax syntax;
    DcmDataset* dataSet() { return file.getDataset(); }
};

/// Stage 1: parses `src` into `out`. Fails with one line for a file that is not DICOM, holds
/// no image attributes, or is damaged.
Result<bool> parseFile(const Source& src, ParsedFile& out);

/// The High-Throughput JPEG 2000 transfer syntaxes (PS3.5 A.4.11, 2023) by name, or null.
const char* htj2kName(const std::string& uid);
bool isJpeg2000(const std::string& uid);

// ---- 2. The header (DicomAttributes.cpp) ----

std::string getString(DcmItem* item, const DcmTagKey& key, long pos = 0, bool deep = false);
/// A multi-valued DS/IS attribute as doubles (unreadable values left out).
std::vector<double> getDoubles(DcmItem* item, const DcmTagKey& key, bool deep = false);

/// The patient, study, series and equipment tags the viewer shows, by keyword.
void readKeyTags(DcmItem* ds, std::map<std::string, std::string>& out);
/// Every element of the meta header and the data set, sequences as indented items.
void dumpTags(DcmFileFormat& file, std::vector<TagEntry>& out);

/// The Image Pixel module of a data set, checked.
struct PixelModule {
    DcmPixelData* pixelData = nullptr;  ///< Pixel Data; null when the image is float
    DcmElement* floatElement = nullptr; ///< Float or Double Float Pixel Data (parametric maps)
    bool isDouble = false;
    Uint16 rows = 0, cols = 0, samples = 1;
    Uint16 bitsAllocated = 0, bitsStored = 0, highBit = 0;
    Uint16 pixelRep = 0; ///< 1 = signed
    Uint16 planar = 0;   ///< 1 = colour planes one after the other
    std::string photometric;
    bool palette = false; ///< PALETTE COLOR: the samples index paletteLut
    PaletteLut paletteLut;
    long frames = 1;
};
/// Stage 2: reads and checks the Image Pixel module (and the palette of a PALETTE COLOR
/// image); fails for an object that is not an image, an unsupported layout, a frame past the
/// last, or a frame over options.maxBytes.
Result<PixelModule> readPixelModule(DcmDataset* ds, E_TransferSyntax xfer, const LoadOptions& options);

// ---- 3. Pixels (DicomPixels.cpp) ----

/// One frame's values before the photometric interpretation is applied.
struct DecodedFrame {
    cv::Mat pixels;
    std::string colorModel; ///< the decoder's (e.g. "RGB" after a JPEG's colour transform)
    int bitsStored = 0;
    int highBit = 0;
};
/// Stage 3: decodes frame options.frame: masked to Bits Stored and sign-extended, planes
/// interleaved, 1-bit samples unpacked, unsigned 32-bit samples as doubles.
Result<DecodedFrame> decodeFrame(DcmDataset* ds, const PixelModule& pm, const TransferSyntax& syntax,
                                 const LoadOptions& options);
/// Sets `img`'s pixels, photometric, depth and sign from a decoded frame: palettes applied,
/// YBR converted to RGB. Fails for a colour model or photometric it cannot show.
Result<bool> applyPhotometric(Image& img, const PixelModule& pm, const DecodedFrame& frame);

// ---- 4. Modality and VOI lookup, spacing (DicomAttributes.cpp) ----

/// Rescale slope, intercept and type: top level, else an enhanced object's functional groups.
void readModalityLut(DcmItem* ds, Image& img);
/// The file's windows (with their explanations) and its first VOI LUT.
void readVoi(DcmItem* ds, bool signedPixels, Image& img);
/// Pixel Spacing, else Imager Pixel Spacing, else the functional groups' Pixel Spacing.
void readSpacing(DcmItem* ds, Image& img);

} // namespace lightbox::imaging::detail::dicom
