// Every input on which a fuzz harness crashed (tests/data/fuzz-regressions/<harness>/, see
// scripts/fuzz.sh) is replayed here through the harness's own code (fuzz/targets/), built with
// the normal compiler: it must now come to the outcome listed below, a load or a clean
// one-line refusal, and never crash, hang or leak (the sanitizer build checks the last).
#include <targets/FuzzTargets.h>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QtTest>

#include <map>

namespace {

const QString kRegressions = QStringLiteral(LIGHTBOX_SOURCE_DIR) + "/tests/data/fuzz-regressions";

/// "harness/file" -> what it must give: a part of the one-line message, or "" = it reads.
const std::map<QString, QString>& expectations()
{
    static const std::map<QString, QString> table = {
        // DCMTK's inflater allocated the 3 GiB an element of a 398-byte file claimed.
        {"dicom/deflated-element-claims-3gib.dcm", "corrupt deflated data set: it ends inside an element"},
        // Pixel Data with a non-standard VR ("GW") was used as DcmPixelData (wrong type).
        {"dicom/pixel-data-unknown-vr.dcm", "corrupt Pixel Data element"},
        // RLE segment offsets past the end of the frame's fragment: DCMTK's decoder read beyond it.
        {"dicom/rle-segment-offset-past-fragment.dcm", "corrupt RLE pixel data: segment 3 starts at byte 4294967248"},
        {"dicom/rle-32bit-rgb-bad-offsets.dcm", "corrupt RLE pixel data: segment 6 starts at byte 2622464"},
        {"dicom/rle-offset-past-fragment-2.dcm", "corrupt RLE pixel data: segment 2 starts at byte 16777296"},
        // A J2K header claiming an image 2,883,684 pixels wide in 28,837 tiles: OpenJPEG set up
        // every tile (500 MB, 2 s) before the size check; the SIZ segment is now read first.
        {"dicom/j2k-28837-tiles-header.dcm", "JPEG 2000 codestream is 2883684x100 but the DICOM header says"},
        // OpenJPEG 2.5.0's HT block decoder asserted (abort) on corrupt MEL data.
        {"jpeg2000/htj2k-mel-assertion.j2k", "corrupt HTJ2K data: the JPEG 2000 decoder stopped on it"},
        // A card's 21474836481 channels went through an int conversion (undefined behaviour).
        // The file the fuzzer found is no JSON either (a key of bytes that are not UTF-8, a
        // number "08"), which nlohmann-json refuses first; the same card as valid JSON follows.
        {"model/card-channels-beyond-int.json", "model card is not valid JSON (line 21, column"},
        {"model/card-channels-beyond-int-valid.json", "model card preprocess: input channels must be 1 or 3"},
        // A 223-byte JFIF claiming 65,248 x 224 pixels: libFuzzer's 60 s timeout on a loaded
        // machine, not a hang (3 s in a release build, 9 s under ASan): it decodes.
        {"raster/jpeg-65248x224-from-223-bytes.jpg", ""},
        // Damaged archives: LibTorch allocated the gigabytes a mutated record claimed, or
        // crashed in its TorchScript parser; the archive check refuses them first.
        {"model/archive-size-claim-1.pt", "(the checksum of tiny-ood-card-only/data/0 does not match)"},
        {"model/archive-size-claim-2.pt", "(the checksum of tiny-ood-card-only/data/0 does not match)"},
        {"model/archive-size-claim-3.pt", "(the checksum of tiny-ood-card-only/data/0 does not match)"},
        {"model/archive-size-claim-4.pt", "(the checksum of tiny-corn-script/data.pkl does not match)"},
        {"model/archive-torchscript-parser-segv.pt", "is not a Lightbox bundle or TorchScript model (the checksum"},
    };
    return table;
}

lightbox::fuzz::Outcome replayWith(const QString& harness, const QByteArray& bytes)
{
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.constData());
    const auto size = static_cast<std::size_t>(bytes.size());
    if (harness == "dicom")
        return lightbox::fuzz::dicom(data, size);
    if (harness == "raster")
        return lightbox::fuzz::raster(data, size);
    if (harness == "jpeg2000")
        return lightbox::fuzz::jpeg2000(data, size);
    if (harness == "model")
        return lightbox::fuzz::model(data, size);
    if (harness == "csv")
        return lightbox::fuzz::csv(data, size);
    return lightbox::fuzz::Outcome{false, "unknown harness " + harness.toStdString()};
}

/// The regression files as "harness/file", README files left out.
QStringList regressionFiles()
{
    QStringList out;
    QDirIterator it(kRegressions, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (!path.endsWith(".md"))
            out << QDir(kRegressions).relativeFilePath(path);
    }
    out.sort();
    return out;
}

} // namespace

class TestFuzzRegressions : public QObject {
    Q_OBJECT
private slots:
    void everyFileHasAnExpectedOutcome();
    void replay_data();
    void replay();
};

void TestFuzzRegressions::everyFileHasAnExpectedOutcome()
{
    QStringList unlisted, missing;
    const QStringList files = regressionFiles();
    for (const QString& f : files)
        if (!expectations().count(f))
            unlisted << f;
    for (const auto& [f, expected] : expectations())
        if (!files.contains(f))
            missing << f;
    QVERIFY2(unlisted.isEmpty(), qPrintable("no expected outcome for: " + unlisted.join(", ")));
    QVERIFY2(missing.isEmpty(), qPrintable("listed but not in " + kRegressions + ": " + missing.join(", ")));
}

void TestFuzzRegressions::replay_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("listed");
    QTest::addColumn<QString>("expected");
    for (const QString& file : regressionFiles()) {
        const auto it = expectations().find(file);
        const bool listed = it != expectations().end();
        QTest::newRow(qPrintable(file)) << file << listed << (listed ? it->second : QString());
    }
    if (regressionFiles().isEmpty())
        QTest::newRow("none") << QString() << true << QString();
}

void TestFuzzRegressions::replay()
{
    QFETCH(QString, file);
    QFETCH(bool, listed);
    QFETCH(QString, expected);
    if (file.isEmpty())
        QSKIP("no regression files yet");
    QFile f(kRegressions + "/" + file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const auto outcome = replayWith(file.section('/', 0, 0), bytes);
    const QString error = QString::fromStdString(outcome.error);
    if (!listed) // a new file: it must not crash; say what it gives (everyFile... fails)
        qInfo("%s: %s", qPrintable(file), outcome.ok ? "reads" : qPrintable("refused: " + error));
    if (outcome.ok) {
        QVERIFY2(!listed || expected.isEmpty(),
                 qPrintable(file + " reads, but should be refused with '" + expected + "'"));
        return;
    }
    QVERIFY2(!listed || !expected.isEmpty(), qPrintable(file + " no longer reads: " + error));
    QVERIFY2(error.contains(expected), qPrintable(file + ": '" + error + "' does not say '" + expected + "'"));
    // One clear line for the user: no newline, no stack trace, not a wall of text.
    QVERIFY2(!error.isEmpty() && !error.contains('\n') && error.size() < 300, qPrintable(error));
    QVERIFY2(!error.contains("Exception raised from"), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzz_regressions.moc"
