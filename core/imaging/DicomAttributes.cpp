// Stages 2 and 4 of reading a DICOM image (DicomStages.h): the header (key tags, the tag
// tree, the Image Pixel module and a palette) and the lookups applied to the values (modality
// LUT, VOI windows and LUT) with the pixel spacing.
#include "DicomStages.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cmath>

namespace lightbox::imaging::detail::dicom {
namespace {

bool getUint16(DcmItem* item, const DcmTagKey& key, Uint16& out)
{
    return item->findAndGetUint16(key, out).good();
}

const struct KeyTag {
    const char* keyword;
    DcmTagKey key;
} kKeyTags[] = {
    {"PatientName", DCM_PatientName},
    {"PatientID", DCM_PatientID},
    {"PatientBirthDate", DCM_PatientBirthDate},
    {"PatientSex", DCM_PatientSex},
    {"PatientAge", DCM_PatientAge},
    {"StudyDate", DCM_StudyDate},
    {"StudyTime", DCM_StudyTime},
    {"StudyDescription", DCM_StudyDescription},
    {"StudyInstanceUID", DCM_StudyInstanceUID},
    {"AccessionNumber", DCM_AccessionNumber},
    {"SeriesDescription", DCM_SeriesDescription},
    {"SeriesNumber", DCM_SeriesNumber},
    {"SeriesInstanceUID", DCM_SeriesInstanceUID},
    {"InstanceNumber", DCM_InstanceNumber},
    {"SOPClassUID", DCM_SOPClassUID},
    {"SOPInstanceUID", DCM_SOPInstanceUID},
    {"Modality", DCM_Modality},
    {"BodyPartExamined", DCM_BodyPartExamined},
    {"ViewPosition", DCM_ViewPosition},
    {"ImageLaterality", DCM_ImageLaterality},
    {"Laterality", DCM_Laterality},
    {"ContentDate", DCM_ContentDate},
    {"AcquisitionDate", DCM_AcquisitionDate},
    {"InstitutionName", DCM_InstitutionName},
    {"Manufacturer", DCM_Manufacturer},
    {"ManufacturerModelName", DCM_ManufacturerModelName},
    {"PhotometricInterpretation", DCM_PhotometricInterpretation},
};

std::string renderValue(DcmElement* el)
{
    const DcmEVR vr = el->ident();
    const Uint32 len = el->getLength();
    switch (vr) {
    case EVR_OB:
    case EVR_OW:
    case EVR_OF:
    case EVR_OD:
    case EVR_OL:
    case EVR_OV:
    case EVR_UN:
    case EVR_ox:
    case EVR_px:
    case EVR_pixelSQ: return "<binary, " + std::to_string(len) + " bytes>";
    default: break;
    }
    if (len > 4096)
        return "<" + std::to_string(len) + " bytes>";
    OFString s;
    if (el->getOFStringArray(s).bad())
        return {};
    std::string out(s.c_str());
    if (out.size() > 256)
        out = out.substr(0, 253) + "...";
    for (char& c : out)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return out;
}

void dumpItem(DcmItem* item, int depth, std::vector<TagEntry>& out)
{
    if (depth > 32 || out.size() > 200000)
        return;
    const unsigned long n = item->card();
    for (unsigned long i = 0; i < n; ++i) {
        DcmElement* el = item->getElement(i);
        if (!el)
            continue;
        DcmTag tag = el->getTag();
        TagEntry e;
        e.depth = depth;
        e.group = tag.getGTag();
        e.element = tag.getETag();
        e.vr = DcmVR(el->getVR()).getVRName();
        e.name = tag.getTagName();
        if (el->ident() == EVR_SQ) {
            auto* sq = static_cast<DcmSequenceOfItems*>(el);
            e.value = std::to_string(sq->card()) + " item(s)";
            out.push_back(e);
            for (unsigned long k = 0; k < sq->card(); ++k) {
                TagEntry itemEntry;
                itemEntry.depth = depth + 1;
                itemEntry.group = 0xFFFE;
                itemEntry.element = 0xE000;
                itemEntry.name = "Item #" + std::to_string(k + 1);
                out.push_back(itemEntry);
                dumpItem(sq->getItem(k), depth + 2, out);
            }
        } else {
            e.value = renderValue(el);
            out.push_back(e);
        }
    }
}

/// A LUT descriptor (entries, first mapped value, bits). The first mapped value is signed when
/// the element is SS or the pixels are signed (PS3.3 C.7.6.3.1.5).
bool lutDescriptor(DcmItem* item, const DcmTagKey& key, bool signedPixels, long out[3])
{
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el).bad() || !el || el->getVM() < 3)
        return false;
    Uint16 v[3];
    for (unsigned long i = 0; i < 3; ++i) {
        Sint16 s = 0;
        if (el->getUint16(v[i], i).bad()) {
            if (el->getSint16(s, i).bad())
                return false;
            v[i] = static_cast<Uint16>(s);
        }
    }
    out[0] = v[0] == 0 ? 65536 : v[0];
    out[1] = (signedPixels || el->ident() == EVR_SS) ? long(static_cast<Sint16>(v[1])) : long(v[1]);
    out[2] = v[2];
    return true;
}

/// The value of an OW (or US, OB) element as 16-bit words in host order and as its bytes in
/// file order.
bool wordsAndBytes(DcmItem* item, const DcmTagKey& key, bool bigEndian, std::vector<uint16_t>& words,
                   std::vector<uint16_t>& bytes)
{
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el).bad() || !el)
        return false;
    const Uint32 length = el->getLength();
    Uint16* w = nullptr;
    Uint8* b = nullptr;
    words.clear();
    bytes.clear();
    if (el->getUint16Array(w).good() && (w || length == 0)) {
        // DCMTK holds OW in host order: serialise each word back in the data set's order.
        for (Uint32 i = 0; i < length / 2; ++i) {
            words.push_back(w[i]);
            const uint16_t hi = w[i] >> 8, lo = w[i] & 0xFF;
            bytes.push_back(bigEndian ? hi : lo);
            bytes.push_back(bigEndian ? lo : hi);
        }
    } else if (el->getUint8Array(b).good() && (b || length == 0)) {
        bytes.assign(b, b + length);
        for (Uint32 i = 0; i + 1 < length; i += 2)
            words.push_back(bigEndian ? uint16_t(b[i] << 8 | b[i + 1]) : uint16_t(b[i + 1] << 8 | b[i]));
    } else {
        return false;
    }
    return true;
}

/// The palette of a PALETTE COLOR image: plain or segmented LUT data, 8 or 16 bits.
Result<PaletteLut> readPalette(DcmItem* ds, bool signedPixels, bool bigEndian)
{
    using R = Result<PaletteLut>;
    long desc[3];
    if (!lutDescriptor(ds, DCM_RedPaletteColorLookupTableDescriptor, signedPixels, desc))
        return R::failure("PALETTE COLOR image without a Red Palette Color Lookup Table Descriptor");
    const std::size_t entries = static_cast<std::size_t>(desc[0]);
    if (desc[2] != 8 && desc[2] != 16)
        return R::failure("palette lookup table with " + std::to_string(desc[2]) + " bits per entry");
    const DcmTagKey plain[3] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                                DCM_BluePaletteColorLookupTableData};
    const DcmTagKey segmented[3] = {DCM_SegmentedRedPaletteColorLookupTableData,
                                    DCM_SegmentedGreenPaletteColorLookupTableData,
                                    DCM_SegmentedBluePaletteColorLookupTableData};
    static const char* const names[3] = {"red", "green", "blue"};
    PaletteLut lut;
    lut.firstMapped = static_cast<int>(desc[1]);
    bool byteEntries = false;
    std::vector<uint16_t> words, bytes;
    for (int c = 0; c < 3; ++c) {
        std::vector<uint16_t>& out = lut.rgb[c];
        if (wordsAndBytes(ds, plain[c], bigEndian, words, bytes)) {
            // 8-bit entries are packed two to a word; 16-bit entries (or 8-bit ones padded to
            // 16 bits, whose low byte counts) fill a word each.
            if (bytes.size() == entries || bytes.size() == entries + 1) {
                out.assign(bytes.begin(), bytes.begin() + long(entries));
                byteEntries = true;
            } else if (bytes.size() == 2 * entries) {
                out = words;
                if (desc[2] == 8)
                    for (uint16_t& v : out)
                        v &= 0xFF;
            } else {
                return R::failure(std::string("the ") + names[c] + " palette lookup table holds " +
                                  std::to_string(bytes.size()) + " bytes for " + std::to_string(entries) + " entries");
            }
        } else if (wordsAndBytes(ds, segmented[c], bigEndian, words, bytes)) {
            auto expanded = expandSegmentedLut(desc[2] == 8 ? bytes : words, int(desc[2]), bigEndian, entries);
            if (!expanded)
                return R::failure(expanded.error());
            if (expanded->empty())
                return R::failure(std::string("the segmented ") + names[c] + " palette lookup table is empty");
            out = expanded.value();
            out.resize(entries, out.back()); // a short table repeats its last entry
        } else {
            return R::failure(std::string("PALETTE COLOR image without ") + names[c] + " palette lookup table data");
        }
    }
    lut.bits = desc[2] == 8 || byteEntries ? 8 : 16;
    return lut;
}

} // namespace

std::string getString(DcmItem* item, const DcmTagKey& key, long pos, bool deep)
{
    OFString value;
    if (item->findAndGetOFString(key, value, pos, deep).good())
        return std::string(value.c_str());
    return {};
}

/// Reads a multi-valued DS/IS attribute as doubles.
std::vector<double> getDoubles(DcmItem* item, const DcmTagKey& key, bool deep)
{
    std::vector<double> out;
    DcmElement* el = nullptr;
    if (item->findAndGetElement(key, el, deep).bad() || !el)
        return out;
    const unsigned long n = el->getVM();
    for (unsigned long i = 0; i < n; ++i) {
        Float64 v = 0;
        OFString s;
        if (el->getOFString(s, i).good()) {
            try {
                out.push_back(std::stod(s.c_str()));
            } catch (...) {
            }
        } else if (el->getFloat64(v, i).good()) {
            out.push_back(v);
        }
    }
    return out;
}

void readKeyTags(DcmItem* ds, std::map<std::string, std::string>& out)
{
    for (const auto& k : kKeyTags) {
        std::string v = getString(ds, k.key);
        if (!v.empty())
            out[k.keyword] = v;
    }
}

void dumpTags(DcmFileFormat& file, std::vector<TagEntry>& out)
{
    dumpItem(file.getMetaInfo(), 0, out);
    dumpItem(file.getDataset(), 0, out);
}

Result<PixelModule> readPixelModule(DcmDataset* ds, E_TransferSyntax xfer, const LoadOptions& options)
{
    using R = Result<PixelModule>;
    PixelModule pm;
    DcmElement* pixelElement = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement) {
        pixelElement = nullptr;
        if ((ds->findAndGetElement(DCM_FloatPixelData, pm.floatElement).bad() &&
             ds->findAndGetElement(DCM_DoubleFloatPixelData, pm.floatElement).bad()) ||
            !pm.floatElement)
            pm.floatElement = nullptr;
    }
    const DcmElement* floatElement = pm.floatElement;
    pm.isDouble = floatElement && floatElement->getTag() == DCM_DoubleFloatPixelData;
    const bool isDouble = pm.isDouble;
    if (!pixelElement && !floatElement) {
        const std::string sop = getString(ds, DCM_SOPClassUID);
        const char* name = sop.empty() ? nullptr : dcmFindNameOfUID(sop.c_str(), nullptr);
        return R::failure(std::string("no pixel data: this DICOM object is not an image") +
                          (name          ? std::string(" (") + name + ")"
                           : sop.empty() ? ""
                                         : " (SOP class " + sop + ")"));
    }
    // DCMTK makes Pixel Data a DcmPixelData only when its VR is OB or OW (or implied); a
    // corrupt VR leaves a plain element that the pixel calls must not be made on.
    pm.pixelData = dynamic_cast<DcmPixelData*>(pixelElement);
    if (pixelElement && !pm.pixelData)
        return R::failure("corrupt Pixel Data element: its value representation is not OB or OW");

    Uint16 &rows = pm.rows, &cols = pm.cols, &samples = pm.samples, &bitsAllocated = pm.bitsAllocated,
           &bitsStored = pm.bitsStored, &highBit = pm.highBit;
    if (!getUint16(ds, DCM_Rows, rows) || !getUint16(ds, DCM_Columns, cols))
        return R::failure("missing Rows or Columns");
    if (!getUint16(ds, DCM_BitsAllocated, bitsAllocated)) {
        if (!floatElement)
            return R::failure("missing Bits Allocated");
        bitsAllocated = isDouble ? 64 : 32;
    }
    if (!getUint16(ds, DCM_SamplesPerPixel, samples))
        samples = 1;
    if (!getUint16(ds, DCM_BitsStored, bitsStored))
        bitsStored = bitsAllocated;
    if (!getUint16(ds, DCM_HighBit, highBit))
        highBit = bitsStored - 1;
    getUint16(ds, DCM_PixelRepresentation, pm.pixelRep);
    getUint16(ds, DCM_PlanarConfiguration, pm.planar);
    if (rows == 0 || cols == 0)
        return R::failure("image has zero rows or columns");
    if (samples != 1 && samples != 3)
        return R::failure("unsupported Samples per Pixel " + std::to_string(samples));
    if (floatElement) {
        if (bitsAllocated != (isDouble ? 64 : 32))
            return R::failure(std::string(isDouble ? "Double Float" : "Float") + " Pixel Data with Bits Allocated " +
                              std::to_string(bitsAllocated));
        if (samples != 1)
            return R::failure("float pixel data with " + std::to_string(samples) +
                              " samples per pixel is not supported");
    } else if (bitsAllocated != 1 && bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32) {
        return R::failure("unsupported Bits Allocated " + std::to_string(bitsAllocated));
    }
    if (bitsStored == 0 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored)
        return R::failure("inconsistent Bits Stored / High Bit (" + std::to_string(bitsStored) + "/" +
                          std::to_string(highBit) + ")");
    pm.photometric = getString(ds, DCM_PhotometricInterpretation);
    if (pm.photometric.empty())
        pm.photometric = samples == 3 ? "RGB" : "MONOCHROME2";
    // PALETTE COLOR: the indices decode like grey samples, then the palette gives RGB.
    pm.palette = pm.photometric == "PALETTE COLOR";
    if (pm.palette) {
        if (floatElement || samples != 1 || (bitsAllocated != 8 && bitsAllocated != 16))
            return R::failure("unsupported PALETTE COLOR layout (" + std::to_string(samples) + " samples of " +
                              std::to_string(bitsAllocated) + " bits)");
        auto lut = readPalette(ds, pm.pixelRep == 1, DcmXfer(xfer).getByteOrder() == EBO_BigEndian);
        if (!lut)
            return R::failure(lut.error());
        pm.paletteLut = lut.value();
    }

    Sint32 nf = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, nf).good() && nf > 0)
        pm.frames = nf;
    if (options.frame < 0 || options.frame >= pm.frames)
        return R::failure("frame " + std::to_string(options.frame + 1) + " requested, file has " +
                          std::to_string(pm.frames));

    // Unsigned 32-bit samples become doubles (8 bytes), other 32-bit ones int32 or float.
    const std::size_t outBytes = floatElement          ? bitsAllocated / 8
                                 : bitsAllocated == 32 ? (pm.pixelRep == 0 && bitsStored == 32 ? 8 : 4)
                                 : bitsAllocated > 8   ? 2
                                                       : 1;
    if (auto ok = pm.palette ? checkFrameSize(cols, rows, 3, pm.paletteLut.bits / 8, options.maxBytes)
                             : checkFrameSize(cols, rows, samples, outBytes, options.maxBytes);
        !ok)
        return R::failure(ok.error());
    return pm;
}

void readModalityLut(DcmItem* ds, Image& img)
{
    auto slope = getDoubles(ds, DCM_RescaleSlope);
    auto intercept = getDoubles(ds, DCM_RescaleIntercept);
    if (slope.empty())
        slope = getDoubles(ds, DCM_RescaleSlope, true);
    if (intercept.empty())
        intercept = getDoubles(ds, DCM_RescaleIntercept, true);
    if (!slope.empty() && std::isfinite(slope[0]) && slope[0] != 0.0)
        img.rescaleSlope = slope[0];
    if (!intercept.empty() && std::isfinite(intercept[0]))
        img.rescaleIntercept = intercept[0];
    img.rescaleType = getString(ds, DCM_RescaleType);
}

void readVoi(DcmItem* ds, bool signedPixels, Image& img)
{
    auto centers = getDoubles(ds, DCM_WindowCenter);
    auto widths = getDoubles(ds, DCM_WindowWidth);
    if (centers.empty()) {
        centers = getDoubles(ds, DCM_WindowCenter, true);
        widths = getDoubles(ds, DCM_WindowWidth, true);
    }
    for (std::size_t i = 0; i < std::min(centers.size(), widths.size()); ++i) {
        if (!std::isfinite(centers[i]) || !std::isfinite(widths[i]) || widths[i] <= 0)
            continue;
        Window w{centers[i], widths[i], {}};
        std::string expl = getString(ds, DCM_WindowCenterWidthExplanation, static_cast<long>(i));
        w.explanation = "FILE " + std::to_string(i + 1) + (expl.empty() ? "" : ": " + expl);
        img.fileWindows.push_back(w);
    }
    DcmItem* voiItem = nullptr;
    if (ds->findAndGetSequenceItem(DCM_VOILUTSequence, voiItem, 0).bad() || !voiItem)
        return;
    DcmElement* desc = nullptr;
    const Uint16* lut = nullptr;
    unsigned long count = 0;
    if (voiItem->findAndGetElement(DCM_LUTDescriptor, desc).bad() || !desc || desc->getVM() < 3 ||
        voiItem->findAndGetUint16Array(DCM_LUTData, lut, &count).bad() || !lut)
        return;
    Uint16 d0 = 0, d1 = 0, d2 = 0;
    desc->getUint16(d0, 0);
    desc->getUint16(d1, 1);
    desc->getUint16(d2, 2);
    const unsigned long entries = d0 == 0 ? 65536 : d0;
    if (count >= entries && d2 >= 8 && d2 <= 16) {
        img.voiLut.data.assign(lut, lut + entries);
        // The first mapped value is signed when the pixel data is.
        img.voiLut.firstMapped = signedPixels ? static_cast<Sint16>(d1) : d1;
        img.voiLut.bits = d2;
        img.voiLut.explanation = getString(voiItem, DCM_LUTExplanation);
    }
}

void readSpacing(DcmItem* ds, Image& img)
{
    auto spacing = getDoubles(ds, DCM_PixelSpacing);
    img.spacingSource = "PixelSpacing";
    if (spacing.size() < 2) {
        spacing = getDoubles(ds, DCM_ImagerPixelSpacing);
        img.spacingSource = "ImagerPixelSpacing";
    }
    if (spacing.size() < 2) {
        spacing = getDoubles(ds, DCM_PixelSpacing, true);
        img.spacingSource = "PixelSpacing";
    }
    if (spacing.size() >= 2 && spacing[0] > 0 && spacing[1] > 0 && std::isfinite(spacing[0]) &&
        std::isfinite(spacing[1])) {
        img.spacingRow = spacing[0];
        img.spacingCol = spacing[1];
    } else {
        img.spacingSource.clear();
    }
}

} // namespace lightbox::imaging::detail::dicom
