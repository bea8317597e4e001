// Reading a DICOM image: the stages of DicomStages.h, run in order. Each stage fails with one
// line that says what is wrong with the file; none of them throws or crashes on bad data
// (fuzz/fuzz_dicom.cpp).
#include "DicomReader.h"

#include "DicomStages.h"
#include "Render.h"

namespace lightbox::imaging::detail {
namespace {

Result<Image> load(const dicom::Source& src, const LoadOptions& options)
{
    using R = Result<Image>;
    // 1. The file parsed.
    dicom::ParsedFile parsed;
    if (auto ok = dicom::parseFile(src, parsed); !ok)
        return R::failure(ok.error());
    DcmDataset* ds = parsed.dataSet();

    Image img;
    img.format = "DICOM";
    img.sourcePath = src.path;
    img.transferSyntaxUid = parsed.syntax.uid;
    img.transferSyntaxName = parsed.syntax.name;

    // 2. The header.
    dicom::readKeyTags(ds, img.keyTags);
    if (options.tags)
        dicom::dumpTags(parsed.file, img.tags);
    auto module = dicom::readPixelModule(ds, parsed.syntax.xfer, options);
    if (!module)
        return R::failure(module.error());
    const dicom::PixelModule& pm = module.value();
    img.frameCount = static_cast<int>(pm.frames);
    img.frameIndex = options.frame;

    // 3. The requested frame's pixels, in their photometric interpretation.
    auto frame = dicom::decodeFrame(ds, pm, parsed.syntax, options);
    if (!frame)
        return R::failure(frame.error());
    if (auto ok = dicom::applyPhotometric(img, pm, frame.value()); !ok)
        return R::failure(ok.error());

    // 4. Modality LUT and VOI (grey images), spacing.
    if (pm.samples == 1 && !pm.palette) {
        dicom::readModalityLut(ds, img);
        dicom::readVoi(ds, pm.pixelRep == 1, img);
    }
    dicom::readSpacing(ds, img);

    img.autoWindow = computeAutoWindow(img);
    return img;
}

} // namespace

Result<Image> loadDicom(const std::string& path, const LoadOptions& options)
{
    dicom::Source src;
    src.path = path;
    return load(src, options);
}

Result<Image> loadDicom(const uint8_t* data, std::size_t size, const LoadOptions& options)
{
    if (!data || size == 0)
        return Result<Image>::failure("empty file (0 bytes)");
    dicom::Source src;
    src.data = data;
    src.size = size;
    return load(src, options);
}

} // namespace lightbox::imaging::detail
