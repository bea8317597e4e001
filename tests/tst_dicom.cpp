// DICOM loading (core/imaging): every pydicom test file has a known outcome, pixels agree
// with pydicom's decoder, the real CR files decode and render correctly, and malformed
// input gives a message, never a crash.
// Over 600 lines: one row per pydicom test file in one table, and the comparisons with
// pydicom that read the same files; split, each part would keep its own copy of the table.
#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace lightbox::imaging;

namespace {

const QString kPydicom = QStringLiteral(LIGHTBOX_PYDICOM_FILES);
const QString kShared = QStringLiteral(LIGHTBOX_SHARED_DATA) + "/dicom";

/// Every .dcm that Debian's python3-pydicom ships, with what Lightbox must make of it:
/// "" = decodes, anything else = a failure whose message contains that text.
const std::map<QString, QString>& expectedOutcomes()
{
    static const std::map<QString, QString> table = {
        {"693_J2KI.dcm", ""},
        {"CT_small.dcm", ""},
        {"ExplVR_BigEnd.dcm", ""},
        // Bare data sets without meta header and without image attributes: nothing to show.
        {"ExplVR_BigEndNoMeta.dcm", "no pixel data"},
        {"ExplVR_LitEndNoMeta.dcm", "no pixel data"},
        {"GDCMJ2K_TextGBR.dcm", ""},
        {"J2K_pixelrep_mismatch.dcm", ""},
        {"JPEG-lossy.dcm", ""},
        // Its codestream header claims a 3.8-terapixel image.
        {"JPEG2000-embedded-sequence-delimiter.dcm", "JPEG 2000"},
        {"JPEG2000.dcm", ""},
        {"JPGExtended.dcm", ""},
        {"MR_small.dcm", ""},
        {"MR_small_RLE.dcm", ""},
        {"MR_small_bigendian.dcm", ""},
        {"MR_small_expb.dcm", ""},
        {"MR_small_implicit.dcm", ""},
        {"MR_small_jp2klossless.dcm", ""},
        {"MR_small_jpeg_ls_lossless.dcm", ""},
        {"MR_small_padded.dcm", ""},
        // Pixel data 8130 of 8192 bytes.
        {"MR_truncated.dcm", "not a readable DICOM file"},
        {"SC_jpeg_no_color_transform.dcm", ""},
        {"SC_jpeg_no_color_transform_2.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cr.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cy+n1.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cy+n2.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cy+np.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cy+s2.dcm", ""},
        {"SC_rgb_dcmtk_+eb+cy+s4.dcm", ""},
        {"SC_rgb_gdcm_KY.dcm", ""},
        // Meta header says explicit VR, the data set is implicit VR (a highdicom 0.1.0 bug):
        // read tolerantly, as pydicom does.
        {"SC_rgb_jpeg.dcm", ""},
        {"SC_rgb_jpeg_app14_dcmd.dcm", ""},
        {"SC_rgb_jpeg_dcmd.dcm", ""},
        {"SC_rgb_jpeg_dcmtk.dcm", ""},
        {"SC_rgb_jpeg_gdcm.dcm", ""},
        {"SC_rgb_jpeg_lossy_gdcm.dcm", ""},
        {"SC_rgb_rle.dcm", ""},
        {"SC_rgb_rle_16bit.dcm", ""},
        {"SC_rgb_rle_16bit_2frame.dcm", ""},
        {"SC_rgb_rle_2frame.dcm", ""},
        // Unsigned 32-bit RGB up to 2^32 - 1 (kept as doubles).
        {"SC_rgb_rle_32bit.dcm", ""},
        {"SC_rgb_rle_32bit_2frame.dcm", ""},
        {"SC_rgb_small_odd.dcm", ""},
        {"SC_rgb_small_odd_jpeg.dcm", ""},
        {"SC_ybr_full_422_uncompressed.dcm", ""},
        // Non-image objects: plans, structures, reports, waveforms, bare sequences.
        {"UN_sequence.dcm", "no pixel data"},
        {"badVR.dcm", ""},
        {"empty_charset_LEI.dcm", "no pixel data"},
        {"image_dfl.dcm", ""},
        {"liver_1frame.dcm", ""},
        {"liver_expb_1frame.dcm", ""},
        {"meta_missing_tsyntax.dcm", "missing Rows or Columns"},
        {"nested_priv_SQ.dcm", "missing Rows or Columns"},
        {"no_meta.dcm", ""},
        {"no_meta_group_length.dcm", "no pixel data"},
        {"priv_SQ.dcm", "no pixel data"},
        {"reportsi.dcm", "no pixel data"},
        {"reportsi_with_empty_number_tags.dcm", "no pixel data"},
        {"rtdose.dcm", ""},
        {"rtdose_1frame.dcm", ""},
        {"rtdose_expb.dcm", ""},
        {"rtdose_expb_1frame.dcm", ""},
        {"rtdose_rle.dcm", ""},
        {"rtdose_rle_1frame.dcm", ""},
        {"rtplan.dcm", "no pixel data"},
        {"rtplan_truncated.dcm", "not a readable DICOM file"},
        {"rtstruct.dcm", "no pixel data"},
        {"test-SR.dcm", "no pixel data"},
        {"waveform_ecg.dcm", "no pixel data"},
    };
    return table;
}

QStringList pydicomFiles()
{
    return QDir(kPydicom).entryList({"*.dcm"}, QDir::Files, QDir::Name);
}

/// Frame 0 as int64 values, rows x cols x samples interleaved (the reference layout).
std::vector<int64_t> asInt64(const cv::Mat& m)
{
    std::vector<int64_t> out;
    out.reserve(m.total() * m.channels());
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols * m.channels(); ++x) {
            switch (m.depth()) {
            case CV_8U: out.push_back(m.ptr<uint8_t>(y)[x]); break;
            case CV_16U: out.push_back(m.ptr<uint16_t>(y)[x]); break;
            case CV_16S: out.push_back(m.ptr<int16_t>(y)[x]); break;
            case CV_32S: out.push_back(m.ptr<int32_t>(y)[x]); break;
            // Unsigned 32-bit samples are doubles holding integers; a fraction would show up.
            case CV_64F: {
                const double v = m.ptr<double>(y)[x];
                out.push_back(v == std::floor(v) ? static_cast<int64_t>(v) : INT64_MIN);
                break;
            }
            default: out.push_back(INT64_MIN);
            }
        }
    return out;
}

struct Diff {
    int64_t maxAbs = 0;
    double meanAbs = 0;
};

Diff compare(const std::vector<int64_t>& a, const std::vector<int64_t>& b)
{
    Diff d;
    if (a.size() != b.size() || a.empty())
        return {-1, -1};
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const int64_t e = std::abs(a[i] - b[i]);
        d.maxAbs = std::max(d.maxAbs, e);
        sum += double(e);
    }
    d.meanAbs = sum / double(a.size());
    return d;
}

Image mustLoad(const QString& path, const LoadOptions& opts = {})
{
    auto r = loadImage(path.toStdString(), opts);
    if (!r)
        qFatal("cannot load %s: %s", qPrintable(path), r.error().c_str());
    return r.value();
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

/// A float64 little-endian array written by the Python generators.
std::vector<double> readDoubles(const QString& path)
{
    const QByteArray bytes = readAll(path);
    std::vector<double> out(size_t(bytes.size()) / sizeof(double));
    std::memcpy(out.data(), bytes.constData(), out.size() * sizeof(double));
    return out;
}

/// Every stored sample of an image, rows x cols x channels, as doubles.
std::vector<double> samples(const Image& img)
{
    std::vector<double> out;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            for (int c = 0; c < img.channels(); ++c)
                out.push_back(img.sampleAt(x, y, c));
    return out;
}

/// Largest |a - b| (NaN only matches NaN); -1 when the sizes differ.
double maxAbsDiff(const std::vector<double>& a, const std::vector<double>& b)
{
    if (a.size() != b.size() || a.empty())
        return -1;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i])) {
            if (std::isnan(a[i]) != std::isnan(b[i]))
                return INFINITY;
            continue;
        }
        if (a[i] != b[i])
            worst = std::max(worst, std::abs(a[i] - b[i]));
    }
    return worst;
}

/// One frame of a file written by tests/tools/make_decode_kinds.py (a manifest line).
struct KindFrame {
    QString name;
    int frame = 0, rows = 0, cols = 0, samples = 0;
    double slope = 1, intercept = 0;
    bool known = false;
    QString pydicom; ///< "pydicom" when pydicom decoded it, else "ERROR:..."
};

} // namespace

class TestDicom : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    /// name -> "rows cols samples photometric" from pydicom, or "ERROR ..."
    std::map<QString, QStringList> m_reference;
    /// Frames of the generated 32-bit, float, palette colour files, "name.frame" -> line.
    std::map<QString, KindFrame> m_kinds;
    QString kindPath(const QString& name) const { return m_tmp.filePath("kinds/" + name + ".dcm"); }

private slots:
    void initTestCase();

    void everyPydicomFileHasAnExpectedOutcome();
    void pydicomOutcomes_data();
    void pydicomOutcomes();
    void pixelsAgreeWithPydicom_data();
    void pixelsAgreeWithPydicom();
    void mrSmallEncodingsAreIdentical();
    void decodeKinds_data();
    void decodeKinds();
    void deepSamplesWindowAndModality();
    void floatWindowIsExact();
    void paletteColourRendersLikeViewers();
    void paletteRefusalsAreOneLine();
    void htj2kDecodes();

    void realCrLosslessJ2kIsBitExact();
    void realCrLossyJ2kIsCloseToRaw();
    void monochrome1RendersBoneBright();
    void jpegBaselineChest();
    void rescaleAndWindowFromFile();
    void multiFrameIndex();
    void keyTagsSpacingAndTagDump();

    void truncatedCopiesFailCleanly_data();
    void truncatedCopiesFailCleanly();
    void absurdDimensionsAreRefused();
    void truncatedJpeg2000Stream();
    void byteFlipFuzzNeverCrashes();
    void memoryLoadEqualsFileLoad();
};

void TestDicom::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    if (pydicomFiles().isEmpty())
        QFAIL(qPrintable("no pydicom test files in " + kPydicom + " (scripts/setup.sh installs python3-pydicom)"));
    // Reference pixels from pydicom (Debian's python3-pydicom + numpy).
    QProcess py;
    QStringList args{QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/tools/pydicom_reference.py", kPydicom,
                     m_tmp.filePath("ref")};
    args += pydicomFiles();
    py.start("/usr/bin/python3", args);
    QVERIFY2(py.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR), "pydicom reference script did not finish");
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    QFile index(m_tmp.filePath("ref/index.txt"));
    QVERIFY(index.open(QIODevice::ReadOnly));
    for (const QByteArray& line : index.readAll().split('\n')) {
        QStringList parts = QString::fromUtf8(line).split(' ', Qt::SkipEmptyParts);
        if (parts.size() >= 2)
            m_reference[parts.takeFirst()] = parts;
    }
    QVERIFY(m_reference.size() >= 40);

    // Files with a known VOI (two windows; a VOI LUT sequence), written by pydicom.
    QProcess voi;
    voi.start("/usr/bin/python3", {QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/tools/make_voi_files.py",
                                   kPydicom + "/CT_small.dcm", m_tmp.filePath("voi")});
    QVERIFY(voi.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(voi.exitCode() == 0, voi.readAllStandardError().constData());

    // 32-bit, float/double and palette colour files with known values, decoded by pydicom too.
    QProcess kinds;
    kinds.start("/usr/bin/python3",
                {QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/tools/make_decode_kinds.py", m_tmp.filePath("kinds")});
    QVERIFY(kinds.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(kinds.exitCode() == 0, kinds.readAllStandardError().constData());
    QFile manifest(m_tmp.filePath("kinds/manifest.txt"));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    for (const QByteArray& line : manifest.readAll().split('\n')) {
        const QStringList p = QString::fromUtf8(line).split(' ', Qt::SkipEmptyParts);
        if (p.size() < 9)
            continue;
        KindFrame k{p[0],         p[1].toInt(),    p[2].toInt(),    p[3].toInt(),
                    p[4].toInt(), p[5].toDouble(), p[6].toDouble(), p[7] == "known",
                    p[8]};
        m_kinds[k.name + "." + p[1]] = k;
    }
    QVERIFY(m_kinds.size() >= 30);
}

void TestDicom::everyPydicomFileHasAnExpectedOutcome()
{
    // A new pydicom release with new files makes this fail until the table covers them.
    QStringList unlisted;
    for (const QString& f : pydicomFiles())
        if (!expectedOutcomes().count(f))
            unlisted << f;
    QVERIFY2(unlisted.isEmpty(), qPrintable("no expected outcome for: " + unlisted.join(", ")));
}

void TestDicom::pydicomOutcomes_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expectedError");
    for (const QString& f : pydicomFiles()) {
        auto it = expectedOutcomes().find(f);
        QTest::newRow(qPrintable(f)) << f << (it == expectedOutcomes().end() ? QString() : it->second);
    }
}

void TestDicom::pydicomOutcomes()
{
    QFETCH(QString, file);
    QFETCH(QString, expectedError);
    auto r = loadImage((kPydicom + "/" + file).toStdString());
    if (expectedError.isEmpty()) {
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
        const Image& img = r.value();
        QVERIFY(!img.empty());
        QVERIFY(img.frameCount >= 1);
        QCOMPARE(img.format, std::string("DICOM"));
        QVERIFY(!img.transferSyntaxUid.empty());
        // Every decoded image renders to 8 bits with a usable window.
        QVERIFY(img.defaultWindow().valid() || img.voiLut.valid());
        const cv::Mat shown = render8(img);
        QCOMPARE(shown.size(), img.pixels.size());
    } else {
        QVERIFY2(!r.ok(), "decoded a file that should fail");
        const QString msg = QString::fromStdString(r.error());
        QVERIFY2(msg.contains(expectedError, Qt::CaseInsensitive), qPrintable(msg));
        QVERIFY2(!msg.contains('\n'), "the message is one line");
    }
}

void TestDicom::pixelsAgreeWithPydicom_data()
{
    QTest::addColumn<QString>("file");
    for (const auto& [name, ref] : m_reference)
        if (ref.value(0) != "ERROR" && expectedOutcomes().count(name) && expectedOutcomes().at(name).isEmpty())
            QTest::newRow(qPrintable(name)) << name;
}

void TestDicom::pixelsAgreeWithPydicom()
{
    QFETCH(QString, file);
    const QStringList ref = m_reference.at(file);
    const int rows = ref.value(0).toInt(), cols = ref.value(1).toInt(), samples = ref.value(2).toInt();
    const QString photometric = ref.value(3);
    const Image img = mustLoad(kPydicom + "/" + file);
    QCOMPARE(img.height(), rows);
    QCOMPARE(img.width(), cols);
    QCOMPARE(img.channels(), samples);

    const QByteArray bytes = readAll(m_tmp.filePath("ref/" + file + ".bin"));
    std::vector<int64_t> expected(size_t(bytes.size()) / sizeof(int64_t));
    std::memcpy(expected.data(), bytes.constData(), expected.size() * sizeof(int64_t));
    const Diff d = compare(asInt64(img.pixels), expected);
    QVERIFY2(d.maxAbs >= 0, "pixel count differs from pydicom's");

    // Lossless data must be identical. Lossy JPEG: decoders may round the inverse DCT and
    // the colour transform differently (libjpeg in DCMTK vs Pillow); pydicom's YBR->RGB
    // uses its own integer formula, so RGB converted from YBR may differ by a few levels.
    const bool lossyJpeg =
        img.transferSyntaxUid == "1.2.840.10008.1.2.4.50" || img.transferSyntaxUid == "1.2.840.10008.1.2.4.51";
    const bool fromYbr = photometric.startsWith("RGB_from_YBR");
    int64_t maxAllowed = 0;
    double meanAllowed = 0;
    if (lossyJpeg) {
        maxAllowed = img.pixels.depth() == CV_8U ? 16 : 64;
        meanAllowed = img.pixels.depth() == CV_8U ? 1.5 : 4.0;
    } else if (fromYbr) {
        maxAllowed = 3;
        meanAllowed = 1.0;
    }
    qInfo("%s: max |diff| %lld, mean |diff| %.4f", qPrintable(file), static_cast<long long>(d.maxAbs), d.meanAbs);
    QVERIFY2(
        d.maxAbs <= maxAllowed && d.meanAbs <= meanAllowed,
        qPrintable(
            QString("max %1 mean %2 (allowed %3 / %4)").arg(d.maxAbs).arg(d.meanAbs).arg(maxAllowed).arg(meanAllowed)));
}

void TestDicom::mrSmallEncodingsAreIdentical()
{
    const Image base = mustLoad(kPydicom + "/MR_small.dcm");
    for (const char* variant :
         {"MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_implicit.dcm",
          "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_padded.dcm"}) {
        const Image v = mustLoad(kPydicom + "/" + variant);
        QCOMPARE(v.pixels.type(), base.pixels.type());
        QVERIFY2(cv::norm(v.pixels, base.pixels, cv::NORM_INF) == 0, variant);
        QCOMPARE(v.isSigned, base.isSigned);
    }
}

void TestDicom::decodeKinds_data()
{
    QTest::addColumn<QString>("key");
    for (const auto& [key, k] : m_kinds)
        QTest::newRow(qPrintable(key)) << key;
}

void TestDicom::decodeKinds()
{
    // Lightbox's decode of each generated frame equals the values the file was written with
    // and pydicom's decode of it, exactly (integers, floats and palette RGB alike).
    QFETCH(QString, key);
    const KindFrame& k = m_kinds.at(key);
    LoadOptions opts;
    opts.frame = k.frame;
    const Image img = mustLoad(kindPath(k.name), opts);
    QCOMPARE(img.height(), k.rows);
    QCOMPARE(img.width(), k.cols);
    QCOMPARE(img.channels(), k.samples);
    const std::vector<double> got = samples(img);
    const QString base = m_tmp.filePath("kinds/" + k.name + "." + QString::number(k.frame));

    // Sample types: unsigned 32-bit -> double, Float -> float, Double Float -> double,
    // palette colour -> RGB of the table's bits.
    if (k.name.startsWith("u32"))
        QCOMPARE(img.pixels.depth(), CV_64F);
    if (k.name.startsWith("float"))
        QVERIFY(img.isFloat && img.pixels.depth() == CV_32F);
    if (k.name.startsWith("double"))
        QVERIFY(img.isFloat && img.pixels.depth() == CV_64F);
    if (k.name.startsWith("palette")) {
        QCOMPARE(img.photometric, Photometric::Rgb);
        QCOMPARE(img.pixels.depth(), k.name.startsWith("palette16") ? CV_16U : CV_8U);
    }

    if (k.known) {
        const std::vector<double> known = readDoubles(base + ".known");
        const double d = maxAbsDiff(got, known);
        qInfo("%s: max |diff| vs the written values %g", qPrintable(key), d);
        QCOMPARE(d, 0.0);
        // Modality values are exact: stored * slope + intercept of the written values.
        QCOMPARE(img.rescaleSlope, k.slope);
        QCOMPARE(img.rescaleIntercept, k.intercept);
        if (k.samples == 1)
            for (size_t i = 0; i < known.size(); ++i)
                if (!std::isnan(known[i]))
                    QCOMPARE(img.toModality(got[i]), known[i] * k.slope + k.intercept);
    }

    // pydicom 2.3.1 reads 16-bit palette LUT data of big-endian data sets as little endian
    // (apply_color_lut takes the raw OW bytes in native order): there only the written
    // values count, and pydicom's table must be the byte-swapped one.
    const bool pydicomMisreads = k.name == "palette16_be";
    QVERIFY2(k.pydicom == "pydicom", qPrintable("pydicom could not decode it: " + k.pydicom));
    const std::vector<double> ref = readDoubles(base + ".pydicom");
    const double d = maxAbsDiff(got, ref);
    qInfo("%s: max |diff| vs pydicom %g%s", qPrintable(key), d, pydicomMisreads ? " (pydicom misreads)" : "");
    if (pydicomMisreads) {
        QVERIFY(d > 0);
        for (size_t i = 0; i < got.size(); ++i) {
            const auto v = static_cast<uint16_t>(got[i]);
            QCOMPARE(ref[i], double(uint16_t((v >> 8) | (v << 8))));
        }
    } else {
        QCOMPARE(d, 0.0);
    }
}

void TestDicom::deepSamplesWindowAndModality()
{
    // Unsigned 32-bit grey with a rescale: the automatic window covers the modality values,
    // and a window spanning them shows the smallest black and the largest white, in order.
    const Image img = mustLoad(kindPath("u32_grey_le"));
    QCOMPARE(img.bitsStored, 32);
    QVERIFY(!img.isSigned && !img.isFloat);
    const std::vector<double> v = samples(img);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    QCOMPARE(*lo, 0.0);
    QCOMPARE(*hi, 4294967295.0);
    const Window aw = img.autoWindow;
    QVERIFY(aw.valid());
    QVERIFY(aw.center > img.toModality(*lo) && aw.center < img.toModality(*hi));
    RenderParams p;
    p.window.center = (img.toModality(*lo) + img.toModality(*hi)) / 2.0 + 0.5;
    p.window.width = img.toModality(*hi) - img.toModality(*lo) + 1.0;
    const cv::Mat shown = render8(img, p);
    QCOMPARE(shown.type(), CV_8UC1);
    std::vector<std::pair<double, int>> pairs;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            pairs.emplace_back(img.sampleAt(x, y), shown.at<uint8_t>(y, x));
    std::sort(pairs.begin(), pairs.end());
    QCOMPARE(pairs.front().second, 0);
    QCOMPARE(pairs.back().second, 255);
    for (size_t i = 1; i < pairs.size(); ++i)
        QVERIFY(pairs[i].second >= pairs[i - 1].second);
    // 2^31 - 1 and 2^31 sit in the middle: unsigned, not wrapped to negative values.
    QCOMPARE(img.sampleAt(2, 0), 2147483647.0);
    QCOMPARE(img.sampleAt(3, 0), 2147483648.0);
    QVERIFY(std::abs(int(shown.at<uint8_t>(0, 3)) - 128) <= 1);

    // Unsigned 32-bit RGB shows its full range: 0 black, 2^31 mid-grey, 2^32 - 1 white.
    for (const char* name : {"u32_rgb_le", "u32_rgb_be"}) {
        const Image rgb = mustLoad(kindPath(name));
        const cv::Mat s = render8(rgb);
        QCOMPARE(s.type(), CV_8UC3);
        const cv::Vec3b px = s.at<cv::Vec3b>(0, 0);
        QCOMPARE(int(px[0]), 0);
        QVERIFY(std::abs(int(px[1]) - 128) <= 1);
        QCOMPARE(int(px[2]), 255);
    }
    // pydicom's own 32-bit RGB files render across the range too.
    const Image sc = mustLoad(kPydicom + "/SC_rgb_rle_32bit.dcm");
    double a, b;
    cv::minMaxLoc(render8(sc).reshape(1), &a, &b);
    QCOMPARE(a, 0.0);
    QCOMPARE(b, 255.0);
}

void TestDicom::floatWindowIsExact()
{
    // An ADC-like map (0.0005..0.003): the automatic window follows the values however small
    // (LINEAR_EXACT), where the integer window's width >= 1 would show one flat grey.
    const Image adc = mustLoad(kindPath("float_adc"));
    QVERIFY(adc.isFloat);
    const std::vector<double> v = samples(adc);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    QVERIFY(adc.autoWindow.width > 0 && adc.autoWindow.width < 0.01);
    QVERIFY(adc.autoWindow.center > *lo && adc.autoWindow.center < *hi);
    RenderParams p;
    p.window.center = (*lo + *hi) / 2.0;
    p.window.width = *hi - *lo;
    const cv::Mat shown = render8(adc, p);
    QCOMPARE(int(shown.at<uint8_t>(0, 0)), 0);
    QCOMPARE(int(shown.at<uint8_t>(adc.height() - 1, adc.width() - 1)), 255);
    // The middle value shows mid-grey: ((x - c) / w + 0.5) * 255.
    const double mid = adc.sampleAt(3, 2);
    const int expected = int(std::lround(((mid - p.window.center) / p.window.width + 0.5) * 255.0));
    QCOMPARE(int(shown.at<uint8_t>(2, 3)), expected);

    // A NaN sample shows black and stays out of the automatic window.
    LoadOptions f1;
    f1.frame = 1;
    const Image withNan = mustLoad(kindPath("float_le"), f1);
    QVERIFY(std::isnan(withNan.sampleAt(6, 4)));
    QVERIFY(std::isfinite(withNan.autoWindow.center) && std::isfinite(withNan.autoWindow.width));
    QVERIFY(withNan.autoWindow.valid());
    QCOMPARE(int(render8(withNan).at<uint8_t>(4, 6)), 0);

    // Double precision is kept: 0.1 and 1/3 as doubles, not rounded through float.
    const Image dbl = mustLoad(kindPath("double_be"));
    QCOMPARE(dbl.sampleAt(0, 0), 0.1);
    QCOMPARE(dbl.sampleAt(1, 0), 1.0 / 3.0);
    QCOMPARE(dbl.sampleAt(3, 0), 1e300);
}

void TestDicom::paletteColourRendersLikeViewers()
{
    // 8-bit tables show their values as they are; 16-bit ones scaled to 8 bits, which is
    // their high byte give or take one level (dcm4che/Weasis take the high byte).
    for (const char* name : {"palette8_le", "palette8_segmented_spring", "palette16_le", "palette16_segmented_be"}) {
        const Image img = mustLoad(kindPath(name));
        const cv::Mat shown = render8(img);
        QCOMPARE(shown.type(), CV_8UC3);
        const bool wide = img.pixels.depth() == CV_16U;
        int worst = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                for (int c = 0; c < 3; ++c) {
                    const int v = int(img.sampleAt(x, y, c));
                    const int expected = wide ? v >> 8 : v;
                    worst = std::max(worst, std::abs(expected - int(shown.at<cv::Vec3b>(y, x)[c])));
                }
        qInfo("%s: rendered vs the table's (high) byte: max |diff| %d", name, worst);
        QVERIFY(worst <= (wide ? 1 : 0));
    }
    // SPRING: red 255, green rising and blue falling with the index.
    const Image spring = mustLoad(kindPath("palette8_segmented_spring"));
    QCOMPARE(spring.pixels.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 255)); // index 0
    QCOMPARE(spring.pixels.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 0)); // index 255
}

void TestDicom::paletteRefusalsAreOneLine()
{
    // A palette colour file whose tables are missing or malformed is refused with one line.
    struct Case {
        const char* source;
        const char* script;
        const char* expected;
    } cases[] = {
        {"palette16_le", "del ds.RedPaletteColorLookupTableData", "without red palette lookup table data"},
        {"palette16_le", "ds.GreenPaletteColorLookupTableData = ds.GreenPaletteColorLookupTableData[:100]",
         "green palette lookup table holds 100 bytes"},
        {"palette16_le", "ds.RedPaletteColorLookupTableDescriptor = [4096, 100, 12]", "12 bits per entry"},
        {"palette16_le", "del ds.RedPaletteColorLookupTableDescriptor", "Red Palette Color Lookup Table Descriptor"},
        // Segmented tables: a linear segment first, an unknown segment type, a nested
        // indirect segment (16-bit words, little endian).
        {"palette16_segmented_le", "ds.SegmentedBluePaletteColorLookupTableData = bytes([1,0, 5,0, 9,0, 0,0])",
         "starts with a linear segment"},
        {"palette16_segmented_le", "ds.SegmentedBluePaletteColorLookupTableData = bytes([0,0, 1,0, 7,0, 3,0, 1,0])",
         "unknown segment type 3"},
        {"palette16_segmented_le",
         "ds.SegmentedBluePaletteColorLookupTableData = bytes([0,0, 1,0, 7,0, 2,0, 1,0, 3,0, 0,0])",
         "nested indirect segment"},
    };
    int i = 0;
    for (const Case& c : cases) {
        const QString src = kindPath(c.source);
        const QString out = m_tmp.filePath(QString("palette-bad-%1.dcm").arg(i++));
        QProcess py;
        py.start("/usr/bin/python3", {"-c",
                                      QString("import pydicom,sys; ds=pydicom.dcmread(sys.argv[1]); %1; "
                                              "ds.save_as(sys.argv[2])")
                                          .arg(c.script),
                                      src, out});
        QVERIFY(py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        auto r = loadImage(out.toStdString());
        QVERIFY2(!r.ok(), c.script);
        const QString msg = QString::fromStdString(r.error());
        qInfo("%s -> %s", c.script, qPrintable(msg));
        QVERIFY2(msg.contains(c.expected, Qt::CaseInsensitive), qPrintable(msg));
        QVERIFY(!msg.contains('\n'));
    }
}

void TestDicom::htj2kDecodes()
{
    // High-Throughput JPEG 2000 (tests/data/htj2k, made with OpenJPH's encoder; see
    // tests/tools/make_htj2k_files.py): lossless files equal the patterns they were made
    // from, the lossy one is close. DCMTK 3.6.7 does not know these transfer syntaxes.
    const QString dir = QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/data/htj2k/";
    auto grey12 = [](int x, int y, int frame) { return (x * 61 + y * 127 + (x * y) % 97 + frame * 1000) % 4096; };

    for (int frame = 0; frame < 2; ++frame) {
        LoadOptions o;
        o.frame = frame;
        const Image img = mustLoad(dir + "htj2k_lossless_grey12.dcm", o);
        QCOMPARE(img.transferSyntaxUid, std::string("1.2.840.10008.1.2.4.201"));
        QVERIFY(QString::fromStdString(img.transferSyntaxName).contains("High-Throughput"));
        QCOMPARE(img.frameCount, 2);
        QCOMPARE(img.pixels.type(), CV_16UC1);
        QCOMPARE(img.width(), 64);
        QCOMPARE(img.height(), 48);
        int worst = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                worst = std::max(worst, std::abs(int(img.pixels.at<uint16_t>(y, x)) - grey12(x, y, frame)));
        qInfo("HTJ2K lossless grey frame %d: max |diff| %d", frame, worst);
        QCOMPARE(worst, 0);
    }

    const Image rgb = mustLoad(dir + "htj2k_rpcl_rgb8.dcm");
    QCOMPARE(rgb.transferSyntaxUid, std::string("1.2.840.10008.1.2.4.202"));
    QCOMPARE(rgb.pixels.type(), CV_8UC3);
    QCOMPARE(rgb.photometric, Photometric::Rgb);
    int worst = 0;
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x) {
            const cv::Vec3b v = rgb.pixels.at<cv::Vec3b>(y, x);
            const int expected[3] = {(x * 4) % 256, (y * 5) % 256, (x * y) % 256};
            for (int c = 0; c < 3; ++c)
                worst = std::max(worst, std::abs(int(v[c]) - expected[c]));
        }
    qInfo("HTJ2K lossless RGB (RPCL): max |diff| %d", worst);
    QCOMPARE(worst, 0);

    const Image lossy = mustLoad(dir + "htj2k_lossy_grey12.dcm");
    QCOMPARE(lossy.transferSyntaxUid, std::string("1.2.840.10008.1.2.4.203"));
    double sum = 0;
    worst = 0;
    for (int y = 0; y < lossy.height(); ++y)
        for (int x = 0; x < lossy.width(); ++x) {
            const int e = std::abs(int(lossy.pixels.at<uint16_t>(y, x)) - grey12(x, y, 0));
            worst = std::max(worst, e);
            sum += e;
        }
    const double mean = sum / double(lossy.pixels.total());
    qInfo("HTJ2K lossy grey: max |diff| %d, mean |diff| %.2f (range 4096)", worst, mean);
    QVERIFY(mean > 0.0);               // lossy indeed
    QVERIFY(mean < 8.0 && worst < 64); // and close (2.1 and 10 when written)

    // A truncated HTJ2K frame fails with one line, never a crash.
    const QByteArray all = readAll(dir + "htj2k_rpcl_rgb8.dcm");
    const QString cut = m_tmp.filePath("htj2k-cut.dcm");
    QVERIFY(writeBytes(cut, all.left(all.size() * 7 / 10)));
    auto r = loadImage(cut.toStdString());
    if (!r.ok())
        QVERIFY(!r.error().empty() && r.error().find('\n') == std::string::npos);
}

void TestDicom::realCrLosslessJ2kIsBitExact()
{
    const Image raw = mustLoad(kShared + "/tibia-cr-RG3_raw.dcm");
    const Image j2k = mustLoad(kShared + "/tibia-cr-RG3_J2KR.dcm");
    QCOMPARE(raw.width(), 1760);
    QCOMPARE(raw.height(), 1760);
    QCOMPARE(j2k.pixels.type(), raw.pixels.type());
    QCOMPARE(cv::norm(j2k.pixels, raw.pixels, cv::NORM_INF), 0.0);
    QCOMPARE(j2k.photometric, Photometric::Monochrome1);
    QCOMPARE(j2k.transferSyntaxUid, std::string("1.2.840.10008.1.2.4.90"));
}

void TestDicom::realCrLossyJ2kIsCloseToRaw()
{
    // chest-cr-RG1_raw.dcm is GDCM's decode of the lossy RG1: OpenJPEG must agree with it.
    {
        const Image raw = mustLoad(kShared + "/chest-cr-RG1_raw.dcm");
        const Image j2k = mustLoad(kShared + "/chest-cr-RG1_J2KI.dcm");
        QCOMPARE(j2k.pixels.size(), raw.pixels.size());
        const double maxDiff = cv::norm(j2k.pixels, raw.pixels, cv::NORM_INF);
        qInfo("RG1 J2KI decoded vs GDCM's decode: max |diff| %.0f", maxDiff);
        QVERIFY(maxDiff <= 1.0);
    }
    // tibia-cr-RG3_raw.dcm is the lossless original: the lossy version is close, not equal.
    const Image raw = mustLoad(kShared + "/tibia-cr-RG3_raw.dcm");
    const Image j2k = mustLoad(kShared + "/tibia-cr-RG3_J2KI.dcm");
    QCOMPARE(j2k.pixels.size(), raw.pixels.size());
    cv::Mat a, b;
    raw.pixels.convertTo(a, CV_64F);
    j2k.pixels.convertTo(b, CV_64F);
    const double meanAbs = cv::norm(a, b, cv::NORM_L1) / double(a.total());
    double lo, hi;
    cv::minMaxLoc(a, &lo, &hi);
    qInfo("RG3 J2KI vs lossless original: mean |diff| %.2f over a range of %.0f", meanAbs, hi - lo);
    QVERIFY(meanAbs > 0.0);
    QVERIFY2(meanAbs < 0.01 * (hi - lo), qPrintable(QString::number(meanAbs)));
}

void TestDicom::monochrome1RendersBoneBright()
{
    // RG1 is a PA chest stored MONOCHROME1: the mediastinum and spine (dense) must render
    // brighter than the lung fields, which only happens when the inversion is applied.
    const Image img = mustLoad(kShared + "/chest-cr-RG1_J2KI.dcm");
    QCOMPARE(img.photometric, Photometric::Monochrome1);
    const cv::Mat shown = render8(img);
    const int w = shown.cols, h = shown.rows;
    const cv::Rect centre(w * 45 / 100, h * 35 / 100, w / 10, h * 3 / 10);
    const cv::Rect leftLung(w * 22 / 100, h * 35 / 100, w / 10, h * 3 / 10);
    const cv::Rect rightLung(w * 68 / 100, h * 35 / 100, w / 10, h * 3 / 10);
    const double c = cv::mean(shown(centre))[0], l = cv::mean(shown(leftLung))[0], r = cv::mean(shown(rightLung))[0];
    qInfo("mean grey: mediastinum %.1f, lungs %.1f / %.1f", c, l, r);
    QVERIFY(c > l + 20 && c > r + 20);
    // The user's invert flips it back.
    RenderParams p;
    p.window = img.defaultWindow();
    p.invert = true;
    const cv::Mat inverted = render8(img, p);
    QVERIFY(cv::mean(inverted(centre))[0] < cv::mean(inverted(leftLung))[0]);
}

void TestDicom::jpegBaselineChest()
{
    const Image img = mustLoad(kShared + "/chest-cr-rsna-jpegbaseline.dcm");
    QCOMPARE(img.width(), 1024);
    QCOMPARE(img.height(), 1024);
    QCOMPARE(img.pixels.type(), CV_8UC1);
    QCOMPARE(img.photometric, Photometric::Monochrome2);
    double lo, hi;
    cv::minMaxLoc(img.pixels, &lo, &hi);
    QVERIFY(hi - lo > 150); // a real radiograph, not a flat decode failure
}

void TestDicom::rescaleAndWindowFromFile()
{
    const Image ct = mustLoad(kPydicom + "/CT_small.dcm");
    QCOMPARE(ct.rescaleSlope, 1.0);
    QCOMPARE(ct.rescaleIntercept, -1024.0);
    QCOMPARE(ct.toModality(1024), 0.0);
    QVERIFY(ct.isSigned);
    QCOMPARE(ct.pixels.type(), CV_16SC1);
    QCOMPARE(ct.spacingRow, 0.661468);
    QCOMPARE(ct.spacingSource, std::string("PixelSpacing"));

    // CT_small carries no window: the automatic one spans the bulk of the values.
    QVERIFY(ct.fileWindows.empty());
    QVERIFY(ct.autoWindow.valid());
    cv::Mat modality;
    ct.pixels.convertTo(modality, CV_64F, ct.rescaleSlope, ct.rescaleIntercept);
    double lo, hi;
    cv::minMaxLoc(modality, &lo, &hi);
    QVERIFY(ct.autoWindow.center > lo && ct.autoWindow.center < hi);
    QVERIFY(ct.autoWindow.width <= hi - lo);

    // Several windows: all kept in file order with their explanations, the first is the
    // default, and it drives the rendering.
    const Image two = mustLoad(m_tmp.filePath("voi/two_windows.dcm"));
    QCOMPARE(int(two.fileWindows.size()), 2);
    QCOMPARE(two.fileWindows[0].center, 40.0);
    QCOMPARE(two.fileWindows[1].width, 1800.0);
    QVERIFY(QString::fromStdString(two.fileWindows[1].explanation).contains("BONE"));
    QCOMPARE(two.defaultWindow().center, 40.0);
    const cv::Mat shown = render8(two);
    for (int y = 0; y < two.height(); y += 7)
        for (int x = 0; x < two.width(); x += 5) {
            const double v = two.toModality(two.pixels.at<int16_t>(y, x));
            const int s = shown.at<uint8_t>(y, x);
            if (v <= 40 - 175 - 1)
                QCOMPARE(s, 0);
            else if (v >= 40 + 175)
                QCOMPARE(s, 255);
        }

    // A VOI LUT sequence (no windows): read, and the rendering follows the LUT.
    const Image lut = mustLoad(m_tmp.filePath("voi/voi_lut.dcm"));
    QVERIFY(lut.fileWindows.empty());
    QVERIFY(lut.voiLut.valid());
    QCOMPARE(int(lut.voiLut.data.size()), 4096);
    QCOMPARE(lut.voiLut.firstMapped, -1024);
    RenderParams p;
    p.useVoiLut = true;
    const cv::Mat viaLut = render8(lut, p);
    int worst = 0;
    for (int y = 0; y < lut.height(); y += 3)
        for (int x = 0; x < lut.width(); x += 3) {
            const double v = std::clamp(lut.toModality(lut.pixels.at<int16_t>(y, x)), -1024.0, 3071.0);
            const int expected = int(std::lround(255.0 * std::sqrt((v + 1024.0) / 4095.0)));
            worst = std::max(worst, std::abs(expected - int(viaLut.at<uint8_t>(y, x))));
        }
    QVERIFY2(worst <= 1, qPrintable(QString("VOI LUT rendering off by %1 levels").arg(worst)));
}

void TestDicom::multiFrameIndex()
{
    const QString path = kPydicom + "/SC_rgb_rle_2frame.dcm";
    LoadOptions o0, o1, o2;
    o1.frame = 1;
    o2.frame = 2;
    const Image f0 = mustLoad(path, o0), f1 = mustLoad(path, o1);
    QCOMPARE(f0.frameCount, 2);
    QCOMPARE(f1.frameIndex, 1);
    QVERIFY(cv::norm(f0.pixels, f1.pixels, cv::NORM_INF) > 0);
    auto bad = loadImage(path.toStdString(), o2);
    QVERIFY(!bad.ok());
    QVERIFY2(QString::fromStdString(bad.error()).contains("frame"), bad.error().c_str());

    // A 10-frame dose grid: each frame is a different dose plane.
    LoadOptions o9;
    o9.frame = 9;
    const Image d9 = mustLoad(kPydicom + "/rtdose.dcm", o9);
    QCOMPARE(d9.frameCount, 15);
    QCOMPARE(d9.frameIndex, 9);
}

void TestDicom::keyTagsSpacingAndTagDump()
{
    LoadOptions opts;
    opts.tags = true;
    const Image img = mustLoad(kShared + "/chest-cr-RG1_J2KI.dcm", opts);
    QCOMPARE(img.keyTag("Modality"), std::string("CR"));
    QCOMPARE(img.keyTag("ViewPosition"), std::string("PA"));
    QCOMPARE(img.keyTag("BodyPartExamined"), std::string("CHEST"));
    // RG1 stores Pixel Spacing 0\\0: unknown, not zero-sized pixels.
    QCOMPARE(img.spacingRow, 0.0);
    const Image rsna = mustLoad(kShared + "/chest-cr-rsna-jpegbaseline.dcm");
    QCOMPARE(rsna.spacingRow, 0.168);
    QCOMPARE(rsna.spacingCol, 0.168);
    QVERIFY(img.tags.size() > 30);
    bool sawTransferSyntax = false;
    for (const TagEntry& t : img.tags)
        sawTransferSyntax |= t.group == 0x0002 && t.element == 0x0010;
    QVERIFY(sawTransferSyntax);

    // Nested sequences appear with their items' elements one level deeper.
    const Image nested = mustLoad(kPydicom + "/rtdose.dcm", opts);
    int maxDepth = 0;
    bool sqFollowedByDeeper = false;
    for (size_t i = 0; i + 1 < nested.tags.size(); ++i) {
        maxDepth = std::max(maxDepth, nested.tags[i].depth);
        if (nested.tags[i].vr == "SQ" && nested.tags[i + 1].depth == nested.tags[i].depth + 1)
            sqFollowedByDeeper = true;
    }
    QVERIFY(sqFollowedByDeeper);
    QVERIFY(maxDepth >= 2);
    // Without the option the dump stays empty (cheap loading for folder views).
    QVERIFY(mustLoad(kPydicom + "/rtdose.dcm").tags.empty());
}

void TestDicom::truncatedCopiesFailCleanly_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<double>("fraction");
    for (const char* f : {"CT_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm",
                          "MR_small_jpeg_ls_lossless.dcm", "image_dfl.dcm"})
        for (double frac : {0.0, 0.001, 0.05, 0.5, 0.9, 0.999})
            QTest::newRow(qPrintable(QString("%1@%2").arg(f).arg(frac))) << QString(f) << frac;
}

void TestDicom::truncatedCopiesFailCleanly()
{
    QFETCH(QString, source);
    QFETCH(double, fraction);
    const QByteArray all = readAll(kPydicom + "/" + source);
    const QString path = m_tmp.filePath("trunc-" + source);
    QVERIFY(writeBytes(path, all.left(int(all.size() * fraction))));
    auto r = loadImage(path.toStdString());
    // Truncation inside trailing padding may still decode; otherwise a one-line message.
    if (!r.ok()) {
        QVERIFY(!r.error().empty());
        QVERIFY(r.error().find('\n') == std::string::npos);
    } else {
        QVERIFY(fraction > 0.9);
    }
}

void TestDicom::absurdDimensionsAreRefused()
{
    // CT_small with Rows and Columns patched to 65535: a 8 GiB frame would be needed.
    QByteArray bytes = readAll(kPydicom + "/CT_small.dcm");
    const QByteArray rowsTag("\x28\x00\x10\x00US\x02\x00", 8);
    const QByteArray colsTag("\x28\x00\x11\x00US\x02\x00", 8);
    const int r = bytes.indexOf(rowsTag), c = bytes.indexOf(colsTag);
    QVERIFY(r > 0 && c > 0);
    bytes[r + 8] = '\xff';
    bytes[r + 9] = '\xff';
    bytes[c + 8] = '\xff';
    bytes[c + 9] = '\xff';
    const QString path = m_tmp.filePath("huge.dcm");
    QVERIFY(writeBytes(path, bytes));
    auto res = loadImage(path.toStdString());
    QVERIFY(!res.ok());
    qInfo("%s", res.error().c_str());
}

void TestDicom::truncatedJpeg2000Stream()
{
    // The lossless tibia with its codestream cut short: decoding fails or yields an image
    // of the right size, never a crash or a hang.
    const QByteArray all = readAll(kShared + "/tibia-cr-RG3_J2KR.dcm");
    QVERIFY(all.size() > 100000);
    const QString path = m_tmp.filePath("tibia-cut.dcm");
    QVERIFY(writeBytes(path, all.left(all.size() * 6 / 10)));
    auto r = loadImage(path.toStdString());
    if (r.ok())
        QCOMPARE(r.value().width(), 1760);
    else
        QVERIFY(!r.error().empty());
}

void TestDicom::byteFlipFuzzNeverCrashes()
{
    // Seeded random corruption of small real files; the loader must return (either way).
    QRandomGenerator rng(20261122);
    int failures = 0, total = 0;
    for (const char* f :
         {"CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jp2klossless.dcm", "JPEG2000.dcm"}) {
        const QByteArray orig = readAll(kPydicom + "/" + f);
        if (orig.isEmpty())
            continue;
        for (int round = 0; round < 40; ++round) {
            QByteArray b = orig;
            const int flips = 1 + int(rng.bounded(8));
            for (int i = 0; i < flips; ++i)
                b[int(rng.bounded(b.size()))] = char(rng.bounded(256));
            const QString path = m_tmp.filePath(QString("fuzz-%1-%2.dcm").arg(f).arg(round));
            QVERIFY(writeBytes(path, b));
            auto r = loadImage(path.toStdString());
            ++total;
            if (!r.ok()) {
                ++failures;
                QVERIFY(!r.error().empty());
            } else {
                render8(r.value()); // a decoded image must also render
            }
            QFile::remove(path);
        }
    }
    qInfo("fuzz: %d of %d corrupted files refused, the rest decoded", failures, total);
    QVERIFY(total >= 160);
}

/// Why two loads of the same bytes differ, or empty when they agree in every field.
static std::string differences(const lightbox::Result<Image>& a, const lightbox::Result<Image>& b)
{
    if (a.ok() != b.ok())
        return "one loaded, the other failed: " + (a.ok() ? b.error() : a.error());
    if (!a.ok())
        return a.error() == b.error() ? std::string() : "errors differ: '" + a.error() + "' / '" + b.error() + "'";
    const Image &x = a.value(), &y = b.value();
    if (x.pixels.type() != y.pixels.type() || x.pixels.size() != y.pixels.size())
        return "pixel type or size differs";
    const std::size_t rowBytes = x.pixels.cols * x.pixels.elemSize();
    for (int r = 0; r < x.pixels.rows; ++r)
        if (std::memcmp(x.pixels.ptr(r), y.pixels.ptr(r), rowBytes) != 0)
            return "pixels differ in row " + std::to_string(r);
    if (x.frameCount != y.frameCount || x.bitsStored != y.bitsStored || x.isSigned != y.isSigned ||
        x.photometric != y.photometric || x.transferSyntaxUid != y.transferSyntaxUid ||
        x.transferSyntaxName != y.transferSyntaxName || x.keyTags != y.keyTags || x.rescaleSlope != y.rescaleSlope ||
        x.rescaleIntercept != y.rescaleIntercept || x.spacingRow != y.spacingRow || x.spacingCol != y.spacingCol ||
        x.voiLut.data != y.voiLut.data || x.fileWindows.size() != y.fileWindows.size())
        return "image fields differ";
    for (std::size_t i = 0; i < x.fileWindows.size(); ++i)
        if (x.fileWindows[i].center != y.fileWindows[i].center || x.fileWindows[i].width != y.fileWindows[i].width)
            return "windows differ";
    if (x.tags.size() != y.tags.size())
        return "tag dumps differ in length";
    for (std::size_t i = 0; i < x.tags.size(); ++i)
        if (x.tags[i].tagString() != y.tags[i].tagString() || x.tags[i].value != y.tags[i].value)
            return "tag " + x.tags[i].tagString() + " differs";
    return {};
}

void TestDicom::memoryLoadEqualsFileLoad()
{
    // loadImage(bytes) parses a buffer exactly as loadImage(path) parses the file (the fuzzers
    // use the buffer entry point): same pixels, fields and tag dump, or the same message, for
    // every test file, for truncated copies and for byte-flipped ones.
    QStringList files;
    for (const QString& f : pydicomFiles())
        files << kPydicom + "/" + f;
    for (const QString& dir :
         {m_tmp.filePath("kinds"), m_tmp.filePath("voi"), QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/data/htj2k"})
        for (const QString& f : QDir(dir).entryList({"*.dcm"}, QDir::Files, QDir::Name))
            files << dir + "/" + f;
    for (const char* f : {"chest-cr-rsna-jpegbaseline.dcm", "tibia-cr-RG3_J2KI.dcm"})
        if (QFile::exists(kShared + "/" + f))
            files << kShared + "/" + f;
    QRandomGenerator rng(20261205);
    int compared = 0;
    auto compare = [&](const QString& path, const QByteArray& bytes) {
        for (bool tags : {false, true}) {
            LoadOptions o;
            o.tags = tags;
            const auto fromFile = loadImage(path.toStdString(), o);
            const auto fromMemory =
                loadImage(reinterpret_cast<const uint8_t*>(bytes.constData()), std::size_t(bytes.size()), o);
            const std::string why = differences(fromFile, fromMemory);
            QVERIFY2(why.empty(), qPrintable(path + ": " + QString::fromStdString(why)));
            ++compared;
        }
    };
    for (const QString& path : files) {
        const QByteArray all = readAll(path);
        compare(path, all);
        if (QTest::currentTestFailed())
            return;
        if (all.size() > 300000)
            continue;
        for (double frac : {0.01, 0.3, 0.7, 0.99}) {
            const QString cut = m_tmp.filePath("mem-cut.dcm");
            const QByteArray part = all.left(int(all.size() * frac));
            QVERIFY(writeBytes(cut, part));
            compare(cut, part);
            if (QTest::currentTestFailed())
                return;
        }
        QByteArray flipped = all;
        for (int i = 0; i < 4; ++i)
            flipped[int(rng.bounded(flipped.size()))] = char(rng.bounded(256));
        const QString flip = m_tmp.filePath("mem-flip.dcm");
        QVERIFY(writeBytes(flip, flipped));
        compare(flip, flipped);
        if (QTest::currentTestFailed())
            return;
    }
    qInfo("%d loads agree between file and memory", compared);
    QVERIFY(compared >= 500);
}

QTEST_GUILESS_MAIN(TestDicom)
#include "tst_dicom.moc"
