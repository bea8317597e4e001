// The stages of DICOM reading one at a time (core/imaging/DicomStages.h), on data sets built
// here with DCMTK so that each value is known: the Image Pixel module's checks, the frame
// decoder (bit masks, sign extension, planes, 1-bit samples), the photometric step, the
// modality LUT, the VOI windows and LUT, the spacing, and the parser on files with and
// without a meta header. tst_dicom checks the whole reader on real files.
#include <imaging/DicomStages.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <vector>

using namespace lightbox;
using namespace lightbox::imaging;
using namespace lightbox::imaging::detail::dicom;

namespace {

/// A grey 16-bit data set of `rows` x `cols` with `values` as its native pixel data.
void putGrey16(DcmDataset& ds, Uint16 rows, Uint16 cols, const std::vector<Uint16>& values, Uint16 bitsStored = 16,
               Uint16 pixelRep = 0)
{
    ds.putAndInsertUint16(DCM_Rows, rows);
    ds.putAndInsertUint16(DCM_Columns, cols);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_BitsStored, bitsStored);
    ds.putAndInsertUint16(DCM_HighBit, bitsStored - 1);
    ds.putAndInsertUint16(DCM_PixelRepresentation, pixelRep);
    ds.putAndInsertUint16Array(DCM_PixelData, values.data(), static_cast<unsigned long>(values.size()));
}

TransferSyntax explicitLittle()
{
    TransferSyntax ts;
    ts.xfer = EXS_LittleEndianExplicit;
    ts.uid = UID_LittleEndianExplicitTransferSyntax;
    ts.name = "Explicit VR Little Endian";
    return ts;
}

/// Stages 2 and 3 on `ds`.
Result<DecodedFrame> decode(DcmDataset& ds, const LoadOptions& options = {})
{
    auto pm = readPixelModule(&ds, EXS_LittleEndianExplicit, options);
    if (!pm)
        return Result<DecodedFrame>::failure(pm.error());
    return decodeFrame(&ds, pm.value(), explicitLittle(), options);
}

} // namespace

class TestDicomStages : public QObject {
    Q_OBJECT
private slots:
    void pixelModuleIsReadAndChecked()
    {
        DcmDataset ds;
        putGrey16(ds, 2, 3, std::vector<Uint16>(18, 7), 12);
        ds.putAndInsertString(DCM_NumberOfFrames, "3");
        auto pm = readPixelModule(&ds, EXS_LittleEndianExplicit, {});
        QVERIFY2(pm, pm.error().c_str());
        QCOMPARE(int(pm->rows), 2);
        QCOMPARE(int(pm->cols), 3);
        QCOMPARE(int(pm->bitsStored), 12);
        QCOMPARE(int(pm->highBit), 11);
        QCOMPARE(pm->frames, 3L);
        QVERIFY(pm->pixelData != nullptr);
        QVERIFY(!pm->palette);

        auto failsWith = [](DcmDataset& d, const char* text, LoadOptions options = {}) {
            auto r = readPixelModule(&d, EXS_LittleEndianExplicit, options);
            return !r && r.error().find(text) != std::string::npos;
        };
        LoadOptions fourth;
        fourth.frame = 3;
        QVERIFY(failsWith(ds, "frame 4 requested, file has 3", fourth));
        LoadOptions tiny;
        tiny.maxBytes = 8; // a frame is 2 x 3 x 2 bytes
        QVERIFY(!readPixelModule(&ds, EXS_LittleEndianExplicit, tiny));

        DcmDataset badBits;
        putGrey16(badBits, 2, 2, std::vector<Uint16>(4, 0));
        badBits.putAndInsertUint16(DCM_BitsStored, 17);
        QVERIFY(failsWith(badBits, "inconsistent Bits Stored / High Bit (17/15)"));
        DcmDataset twoSamples;
        putGrey16(twoSamples, 2, 2, std::vector<Uint16>(4, 0));
        twoSamples.putAndInsertUint16(DCM_SamplesPerPixel, 2);
        QVERIFY(failsWith(twoSamples, "unsupported Samples per Pixel 2"));
        DcmDataset noRows;
        putGrey16(noRows, 2, 2, std::vector<Uint16>(4, 0));
        delete noRows.remove(DCM_Rows);
        QVERIFY(failsWith(noRows, "missing Rows or Columns"));
        DcmDataset report;
        report.putAndInsertString(DCM_SOPClassUID, UID_BasicTextSRStorage);
        auto notImage = readPixelModule(&report, EXS_LittleEndianExplicit, {});
        QVERIFY(!notImage);
        QVERIFY2(notImage.error().find("no pixel data: this DICOM object is not an image (Basic") == 0,
                 notImage.error().c_str());
    }

    void framesAreMaskedAndSignExtended()
    {
        // 12 bits stored in 16: the top four bits are overlay garbage and must go.
        DcmDataset unsignedSet;
        putGrey16(unsignedSet, 1, 4, {0xF800, 0x07FF, 0xA123, 0x0000}, 12, 0);
        auto u = decode(unsignedSet);
        QVERIFY2(u, u.error().c_str());
        QCOMPARE(u->pixels.type(), CV_16UC1);
        QCOMPARE(int(u->pixels.at<uint16_t>(0, 0)), 0x800);
        QCOMPARE(int(u->pixels.at<uint16_t>(0, 1)), 0x7FF);
        QCOMPARE(int(u->pixels.at<uint16_t>(0, 2)), 0x123);

        DcmDataset signedSet;
        putGrey16(signedSet, 1, 4, {0xF800, 0x07FF, 0xAFFF, 0x0001}, 12, 1);
        auto s = decode(signedSet);
        QVERIFY2(s, s.error().c_str());
        QCOMPARE(s->pixels.type(), CV_16SC1);
        QCOMPARE(int(s->pixels.at<int16_t>(0, 0)), -2048);
        QCOMPARE(int(s->pixels.at<int16_t>(0, 1)), 2047);
        QCOMPARE(int(s->pixels.at<int16_t>(0, 2)), -1);
        QCOMPARE(int(s->pixels.at<int16_t>(0, 3)), 1);

        // The second of two frames, and a truncated one.
        DcmDataset twoFrames;
        putGrey16(twoFrames, 1, 2, {1, 2, 3, 4});
        twoFrames.putAndInsertString(DCM_NumberOfFrames, "2");
        LoadOptions second;
        second.frame = 1;
        auto f = decode(twoFrames, second);
        QVERIFY2(f, f.error().c_str());
        QCOMPARE(int(f->pixels.at<uint16_t>(0, 0)), 3);
        QCOMPARE(int(f->pixels.at<uint16_t>(0, 1)), 4);
        DcmDataset shortSet;
        putGrey16(shortSet, 4, 4, {1, 2, 3, 4});
        auto t = decode(shortSet);
        QVERIFY(!t);
        QVERIFY2(t.error().find("truncated pixel data: 8 of 32 bytes") != std::string::npos, t.error().c_str());
    }

    void planesAndSingleBits()
    {
        // Planar configuration 1: all red, then all green, then all blue.
        DcmDataset rgb;
        rgb.putAndInsertUint16(DCM_Rows, 1);
        rgb.putAndInsertUint16(DCM_Columns, 2);
        rgb.putAndInsertUint16(DCM_SamplesPerPixel, 3);
        rgb.putAndInsertString(DCM_PhotometricInterpretation, "RGB");
        rgb.putAndInsertUint16(DCM_BitsAllocated, 8);
        rgb.putAndInsertUint16(DCM_BitsStored, 8);
        rgb.putAndInsertUint16(DCM_HighBit, 7);
        rgb.putAndInsertUint16(DCM_PixelRepresentation, 0);
        rgb.putAndInsertUint16(DCM_PlanarConfiguration, 1);
        const Uint8 planes[6] = {10, 20, 30, 40, 50, 60};
        rgb.putAndInsertUint8Array(DCM_PixelData, planes, 6);
        auto c = decode(rgb);
        QVERIFY2(c, c.error().c_str());
        QCOMPARE(c->pixels.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 30, 50));
        QCOMPARE(c->pixels.at<cv::Vec3b>(0, 1), cv::Vec3b(20, 40, 60));

        // 1 bit allocated: eight pixels to a byte, the first in the lowest bit.
        DcmDataset bits;
        bits.putAndInsertUint16(DCM_Rows, 1);
        bits.putAndInsertUint16(DCM_Columns, 16);
        bits.putAndInsertUint16(DCM_SamplesPerPixel, 1);
        bits.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
        bits.putAndInsertUint16(DCM_BitsAllocated, 1);
        bits.putAndInsertUint16(DCM_BitsStored, 1);
        bits.putAndInsertUint16(DCM_HighBit, 0);
        bits.putAndInsertUint16(DCM_PixelRepresentation, 0);
        const Uint8 packed[2] = {0xA5, 0x0F}; // 1010 0101, 0000 1111
        bits.putAndInsertUint8Array(DCM_PixelData, packed, 2);
        auto b = decode(bits);
        QVERIFY2(b, b.error().c_str());
        const int expected[16] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0};
        for (int x = 0; x < 16; ++x)
            QCOMPARE(int(b->pixels.at<uint8_t>(0, x)), expected[x]);
        QCOMPARE(b->bitsStored, 1);
    }

    void photometricStep()
    {
        PixelModule pm;
        pm.samples = 3;
        pm.photometric = "YBR_FULL";
        DecodedFrame frame;
        frame.pixels = cv::Mat(1, 2, CV_8UC3);
        frame.pixels.at<cv::Vec3b>(0, 0) = cv::Vec3b(128, 128, 128); // grey
        frame.pixels.at<cv::Vec3b>(0, 1) = cv::Vec3b(76, 85, 255);   // pure red, JPEG's YCbCr
        frame.colorModel = "YBR_FULL";
        frame.bitsStored = 8;
        Image img;
        QVERIFY(applyPhotometric(img, pm, frame));
        QVERIFY(img.photometric == Photometric::Rgb);
        QCOMPARE(img.pixels.at<cv::Vec3b>(0, 0), cv::Vec3b(128, 128, 128));
        const cv::Vec3b red = img.pixels.at<cv::Vec3b>(0, 1);
        QVERIFY2(red[0] >= 253 && red[1] <= 2 && red[2] <= 2,
                 qPrintable(QString("%1 %2 %3").arg(red[0]).arg(red[1]).arg(red[2])));

        PixelModule grey;
        grey.photometric = "MONOCHROME1";
        DecodedFrame g;
        g.pixels = cv::Mat(1, 1, CV_16UC1, cv::Scalar(9));
        g.bitsStored = 12;
        Image inverted;
        QVERIFY(applyPhotometric(inverted, grey, g));
        QVERIFY(inverted.photometric == Photometric::Monochrome1);
        QCOMPARE(inverted.bitsStored, 12);
        grey.photometric = "HSV";
        auto r = applyPhotometric(inverted, grey, g);
        QVERIFY(!r);
        QCOMPARE(QString::fromStdString(r.error()), QString("unsupported Photometric Interpretation HSV"));
    }

    void modalityAndVoiLookups()
    {
        DcmDataset ds;
        ds.putAndInsertString(DCM_RescaleSlope, "2.5");
        ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
        ds.putAndInsertString(DCM_RescaleType, "HU");
        ds.putAndInsertString(DCM_WindowCenter, "40\\300\\7");
        ds.putAndInsertString(DCM_WindowWidth, "400\\1500\\0");
        ds.putAndInsertString(DCM_WindowCenterWidthExplanation, "SOFT\\BONE\\BROKEN");
        Image img;
        readModalityLut(&ds, img);
        QCOMPARE(img.rescaleSlope, 2.5);
        QCOMPARE(img.rescaleIntercept, -1024.0);
        QCOMPARE(QString::fromStdString(img.rescaleType), QString("HU"));
        readVoi(&ds, false, img);
        QCOMPARE(int(img.fileWindows.size()), 2); // the zero-width window is left out
        QCOMPARE(img.fileWindows[1].center, 300.0);
        QCOMPARE(img.fileWindows[1].width, 1500.0);
        QCOMPARE(QString::fromStdString(img.fileWindows[1].explanation), QString("FILE 2: BONE"));

        // An enhanced object keeps them in its functional groups; a slope of 0 is ignored.
        DcmDataset enhanced;
        DcmItem* shared = nullptr;
        QVERIFY(enhanced.findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good());
        DcmItem* transform = nullptr;
        QVERIFY(shared->findOrCreateSequenceItem(DCM_PixelValueTransformationSequence, transform, 0).good());
        transform->putAndInsertString(DCM_RescaleSlope, "0");
        transform->putAndInsertString(DCM_RescaleIntercept, "-100");
        DcmItem* voi = nullptr;
        QVERIFY(shared->findOrCreateSequenceItem(DCM_FrameVOILUTSequence, voi, 0).good());
        voi->putAndInsertString(DCM_WindowCenter, "50");
        voi->putAndInsertString(DCM_WindowWidth, "350");
        Image deep;
        readModalityLut(&enhanced, deep);
        readVoi(&enhanced, false, deep);
        QCOMPARE(deep.rescaleSlope, 1.0);
        QCOMPARE(deep.rescaleIntercept, -100.0);
        QCOMPARE(int(deep.fileWindows.size()), 1);
        QCOMPARE(deep.fileWindows[0].width, 350.0);

        // A VOI LUT: 4 entries from -1 (signed pixels), 12 bits.
        DcmDataset lutSet;
        DcmItem* item = nullptr;
        QVERIFY(lutSet.findOrCreateSequenceItem(DCM_VOILUTSequence, item, 0).good());
        const Uint16 descriptor[3] = {4, 0xFFFF, 12};
        item->putAndInsertUint16Array(DCM_LUTDescriptor, descriptor, 3);
        const Uint16 data[4] = {0, 1000, 3000, 4095};
        item->putAndInsertUint16Array(DCM_LUTData, data, 4);
        item->putAndInsertString(DCM_LUTExplanation, "SIGMOID-ISH");
        Image lutImage;
        readVoi(&lutSet, true, lutImage);
        QCOMPARE(int(lutImage.voiLut.data.size()), 4);
        QCOMPARE(lutImage.voiLut.firstMapped, -1);
        QCOMPARE(lutImage.voiLut.bits, 12);
        QCOMPARE(int(lutImage.voiLut.data[2]), 3000);
        Image unsignedLut;
        readVoi(&lutSet, false, unsignedLut);
        QCOMPARE(unsignedLut.voiLut.firstMapped, 65535);
        // Fewer entries than the descriptor says: no LUT at all.
        item->putAndInsertUint16Array(DCM_LUTData, data, 3);
        Image shortLut;
        readVoi(&lutSet, true, shortLut);
        QVERIFY(shortLut.voiLut.data.empty());
    }

    void spacingPrefersPixelSpacing()
    {
        DcmDataset both;
        both.putAndInsertString(DCM_PixelSpacing, "0.2\\0.25");
        both.putAndInsertString(DCM_ImagerPixelSpacing, "0.3\\0.3");
        Image a;
        readSpacing(&both, a);
        QCOMPARE(a.spacingRow, 0.2);
        QCOMPARE(a.spacingCol, 0.25);
        QCOMPARE(QString::fromStdString(a.spacingSource), QString("PixelSpacing"));

        DcmDataset imager;
        imager.putAndInsertString(DCM_ImagerPixelSpacing, "0.139\\0.139");
        Image b;
        readSpacing(&imager, b);
        QCOMPARE(b.spacingRow, 0.139);
        QCOMPARE(QString::fromStdString(b.spacingSource), QString("ImagerPixelSpacing"));

        DcmDataset broken;
        broken.putAndInsertString(DCM_PixelSpacing, "0\\0.1");
        Image c;
        readSpacing(&broken, c);
        QCOMPARE(c.spacingRow, 0.0);
        QVERIFY(c.spacingSource.empty());
    }

    void parserReadsWithAndWithoutMetaHeader()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        DcmFileFormat file;
        DcmDataset* ds = file.getDataset();
        putGrey16(*ds, 2, 2, {1, 2, 3, 4});
        ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
        ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7133.1.1");
        ds->putAndInsertString(DCM_PatientName, "Stage^Test");
        const std::string withMeta = (dir.path() + "/meta.dcm").toStdString();
        const std::string bare = (dir.path() + "/bare.dcm").toStdString();
        QVERIFY(file.saveFile(withMeta.c_str(), EXS_LittleEndianExplicit).good());
        QVERIFY(file.saveFile(bare.c_str(), EXS_LittleEndianImplicit, EET_UndefinedLength, EGL_recalcGL, EPD_noChange,
                              0, 0, EWM_dataset)
                    .good());

        Source fromPath;
        fromPath.path = withMeta;
        ParsedFile parsed;
        auto ok = parseFile(fromPath, parsed);
        QVERIFY2(ok, ok.error().c_str());
        QCOMPARE(QString::fromStdString(parsed.syntax.uid), QString(UID_LittleEndianExplicitTransferSyntax));
        std::map<std::string, std::string> tags;
        readKeyTags(parsed.dataSet(), tags);
        QCOMPARE(QString::fromStdString(tags["PatientName"]), QString("Stage^Test"));

        // The bare data set, from memory: found by trying the common encodings.
        QFile f(QString::fromStdString(bare));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        Source fromMemory;
        fromMemory.data = reinterpret_cast<const uint8_t*>(bytes.constData());
        fromMemory.size = static_cast<std::size_t>(bytes.size());
        ParsedFile bareParsed;
        ok = parseFile(fromMemory, bareParsed);
        QVERIFY2(ok, ok.error().c_str());
        QCOMPARE(QString::fromStdString(bareParsed.syntax.uid), QString(UID_LittleEndianImplicitTransferSyntax));
        auto pm = readPixelModule(bareParsed.dataSet(), bareParsed.syntax.xfer, {});
        QVERIFY2(pm, pm.error().c_str());
        auto frame = decodeFrame(bareParsed.dataSet(), pm.value(), bareParsed.syntax, {});
        QVERIFY2(frame, frame.error().c_str());
        QCOMPARE(int(frame->pixels.at<uint16_t>(1, 1)), 4);

        // Text is not DICOM.
        const QByteArray text("this is not a DICOM file, only text that goes on for a while");
        Source notDicom;
        notDicom.data = reinterpret_cast<const uint8_t*>(text.constData());
        notDicom.size = static_cast<std::size_t>(text.size());
        ParsedFile nothing;
        QVERIFY(!parseFile(notDicom, nothing));
    }
};

QTEST_APPLESS_MAIN(TestDicomStages)
#include "tst_dicom_stages.moc"
